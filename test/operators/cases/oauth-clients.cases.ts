import { adminOnly, readers, type RouteCase, type World } from './shared.js';

// The sign-in module's /v1/oauth-clients routes (OAuth clients for people). Only admins register, change or
// remove clients (client.write); admin, security and auditor read them (client.read); owners see none of it.
// /oauth/register (RFC 7591) is public and outside /v1, so it has no case here.

function clientBody(w: World) {
  const name = w.uniq('client');
  return { name, redirect_uris: [`https://${name}.example.com/callback`, 'http://127.0.0.1/callback'], scope: ['models:read'] };
}

async function registeredClient(w: World): Promise<string> {
  return (await w.admin('POST', '/v1/oauth-clients', clientBody(w))).client_id as string;
}

export const OAUTH_CLIENTS_ROUTE_CASES: Record<string, RouteCase> = {
  'POST /v1/oauth-clients': {
    expect: adminOnly,
    build: async (w) => ({ method: 'POST', url: '/v1/oauth-clients', body: clientBody(w) }),
  },
  'GET /v1/oauth-clients': { expect: readers, build: async () => ({ method: 'GET', url: '/v1/oauth-clients' }) },
  'GET /v1/oauth-clients/{client_id}': {
    expect: readers,
    build: async (w) => ({ method: 'GET', url: `/v1/oauth-clients/${await registeredClient(w)}` }),
  },
  'PATCH /v1/oauth-clients/{client_id}': {
    expect: adminOnly,
    build: async (w) => ({ method: 'PATCH', url: `/v1/oauth-clients/${await registeredClient(w)}`, body: { name: w.uniq('renamed'), reason: 'matrix' } }),
  },
  'DELETE /v1/oauth-clients/{client_id}': {
    expect: adminOnly,
    build: async (w) => ({ method: 'DELETE', url: `/v1/oauth-clients/${await registeredClient(w)}?reason=matrix` }),
  },
};
