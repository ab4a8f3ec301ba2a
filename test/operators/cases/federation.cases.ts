import { adminOnly, ownedAgent, readers, type RouteCase, type World } from './shared.js';

// The credentials module's /v1/federation/issuers routes (trusted workload issuers). Only admins change
// trust (federation.write); admin, security and auditor read it (federation.read); owners see none of it.

async function issuerBody(w: World) {
  const name = w.uniq('fed');
  return {
    name, issuer: `https://${name}.example.com`, jwks_url: `https://${name}.example.com/.well-known/jwks.json`, audience: 'https://custos.test',
    mappings: [{ principal: await ownedAgent(w), claims: { repository: 'org/app', ref: 'refs/heads/main' } }],
  };
}

async function trustedIssuer(w: World): Promise<string> {
  return (await w.admin('POST', '/v1/federation/issuers', await issuerBody(w))).name as string;
}

export const FEDERATION_ROUTE_CASES: Record<string, RouteCase> = {
  'POST /v1/federation/issuers': {
    expect: adminOnly,
    build: async (w) => ({ method: 'POST', url: '/v1/federation/issuers', body: await issuerBody(w) }),
  },
  'GET /v1/federation/issuers': { expect: readers, build: async () => ({ method: 'GET', url: '/v1/federation/issuers' }) },
  'GET /v1/federation/issuers/{ref}': {
    expect: readers,
    build: async (w) => ({ method: 'GET', url: `/v1/federation/issuers/${await trustedIssuer(w)}` }),
  },
  'PATCH /v1/federation/issuers/{ref}': {
    expect: adminOnly,
    build: async (w) => ({ method: 'PATCH', url: `/v1/federation/issuers/${await trustedIssuer(w)}`, body: { audience: 'https://custos-2.test', reason: 'matrix' } }),
  },
  'DELETE /v1/federation/issuers/{ref}': {
    expect: adminOnly,
    build: async (w) => ({ method: 'DELETE', url: `/v1/federation/issuers/${await trustedIssuer(w)}?reason=matrix` }),
  },
};
