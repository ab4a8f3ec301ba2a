import { all, managers, ownedAgent, type RouteCase } from './shared.js';

// The credential inventory (/v1/credentials): every operator role reads it (owners only for principals they
// own, so their request names one); admins, security and owners revoke (owners only what they own); auditors
// revoke nothing.

export const CREDENTIALS_INVENTORY_ROUTE_CASES: Record<string, RouteCase> = {
  'GET /v1/credentials': {
    expect: all('ok'),
    build: async (w, role) => (role === 'owner'
      ? { method: 'GET', url: `/v1/credentials?principal=${encodeURIComponent(await ownedAgent(w))}` }
      : { method: 'GET', url: '/v1/credentials?state=expiring&expiring_within=1h&sort=expires_at' }),
  },
  'POST /v1/credentials/revoke': {
    expect: managers,
    build: async (w) => ({ method: 'POST', url: '/v1/credentials/revoke', body: { principal: await ownedAgent(w), reason: 'matrix' } }),
  },
};
