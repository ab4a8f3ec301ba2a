import { adminOnly, all, managers, ownedAgent, ownedResource, readers, staff, type RouteCase, type World } from './shared.js';

// Grants (/v1/grants), the access enumeration and authz check. Admins create grants (security holds `grant.write`
// but the service keeps direct grants to admins); admins, security and the resource's owner revoke; admin, security and auditors read
// them. Every reader of principals may ask what one can do (owners only about principals they own). authz check is
// a decision on simulated facts: admin and security.

async function freshGrant(w: World): Promise<string> {
  const g = await w.admin('POST', '/v1/grants', { principal: await ownedAgent(w), resource: await ownedResource(w), actions: ['read'], duration_seconds: 3600, reason: 'matrix' });
  return g.id as string;
}

export const AUTHZ_GRANTS_ROUTE_CASES: Record<string, RouteCase> = {
  'POST /v1/grants': {
    expect: adminOnly,
    build: async (w) => ({ method: 'POST', url: '/v1/grants', body: { principal: await ownedAgent(w), resource: await ownedResource(w), actions: ['read', 'invoke'], duration_seconds: 3600, reason: 'matrix' } }),
  },
  'GET /v1/grants': { expect: readers, build: async () => ({ method: 'GET', url: '/v1/grants?active=true&limit=5' }) },
  'GET /v1/grants/{id}': { expect: readers, build: async (w) => ({ method: 'GET', url: `/v1/grants/${await freshGrant(w)}` }) },
  'POST /v1/grants/{id}/revoke': {
    // The owner operator owns the grant's resource: resource owners may revoke early (the service checks ownership).
    expect: managers,
    build: async (w) => ({ method: 'POST', url: `/v1/grants/${await freshGrant(w)}/revoke`, body: { reason: 'matrix' } }),
  },
  'GET /v1/principals/{ref}/access': {
    expect: all('ok'),
    build: async (w) => ({ method: 'GET', url: `/v1/principals/${await ownedAgent(w)}/access?limit=5` }),
  },
  'POST /v1/authz/check': {
    expect: staff,
    build: async (w) => ({ method: 'POST', url: '/v1/authz/check', body: { principal: await ownedAgent(w), action: 'read', resource: await ownedResource(w), purpose: 'matrix' } }),
  },
};
