import { adminOnly, all, readers, staff, type RouteCase } from './shared.js';

export const OPERATORS_ROUTE_CASES: Record<string, RouteCase> = {
  'POST /v1/operator-tokens': {
    expect: adminOnly,
    build: async (w) => ({ method: 'POST', url: '/v1/operator-tokens', body: { principal: w.names.owner, role: 'owner', ttl_seconds: 3600 } }),
  },
  'GET /v1/operator-tokens': { expect: readers, build: async () => ({ method: 'GET', url: '/v1/operator-tokens' }) },
  'POST /v1/operator-tokens/{id}/revoke': {
    // Security revokes (incident response) but cannot mint.
    expect: staff,
    build: async (w) => {
      const t = await w.admin('POST', '/v1/operator-tokens', { principal: w.names.auditor, role: 'auditor', ttl_seconds: 3600 });
      return { method: 'POST', url: `/v1/operator-tokens/${t.id}/revoke`, body: { reason: 'matrix' } };
    },
  },
  'GET /v1/whoami': { expect: all('ok'), build: async () => ({ method: 'GET', url: '/v1/whoami' }) },
};
