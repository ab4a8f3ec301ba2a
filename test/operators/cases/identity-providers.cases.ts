import { adminOnly, readers, type RouteCase, type World } from './shared.js';

// The sign-in module's /v1/identity-providers routes (the organisation's OIDC providers). Only admins change them
// (idp.write); admin, security and auditor read them (idp.read); owners see none of it. The public
// /oauth/idp/{name}/jwks.json is not a management route and has no case.

function providerBody(w: World) {
  const name = w.uniq('idp');
  return { name, issuer: `https://${name}.example.com`, client_id: 'custos', client_secret: 'matrix-secret', groups_claim: 'groups', group_roles: { admins: 'admin' } };
}

async function provider(w: World): Promise<string> {
  return (await w.admin('POST', '/v1/identity-providers', providerBody(w))).name as string;
}

export const IDENTITY_PROVIDER_ROUTE_CASES: Record<string, RouteCase> = {
  'POST /v1/identity-providers': {
    expect: adminOnly,
    build: async (w) => ({ method: 'POST', url: '/v1/identity-providers', body: providerBody(w) }),
  },
  'GET /v1/identity-providers': { expect: readers, build: async () => ({ method: 'GET', url: '/v1/identity-providers' }) },
  'GET /v1/identity-providers/{ref}': {
    expect: readers,
    build: async (w) => ({ method: 'GET', url: `/v1/identity-providers/${await provider(w)}` }),
  },
  'PATCH /v1/identity-providers/{ref}': {
    expect: adminOnly,
    build: async (w) => ({ method: 'PATCH', url: `/v1/identity-providers/${await provider(w)}`, body: { display_name: 'Matrix SSO', reason: 'matrix' } }),
  },
  'POST /v1/identity-providers/{ref}/check': {
    expect: adminOnly,
    readOnly: true,
    // An issuer nothing listens at: the check answers 200 with ok false at once (connection refused).
    build: async (w) => {
      const name = w.uniq('idp');
      await w.admin('POST', '/v1/identity-providers', { name, issuer: `https://127.0.0.1:1/${name}`, client_id: 'custos', client_secret: 'matrix-secret' });
      return { method: 'POST', url: `/v1/identity-providers/${name}/check` };
    },
  },
  'DELETE /v1/identity-providers/{ref}': {
    expect: adminOnly,
    build: async (w) => ({ method: 'DELETE', url: `/v1/identity-providers/${await provider(w)}?reason=matrix` }),
  },
};
