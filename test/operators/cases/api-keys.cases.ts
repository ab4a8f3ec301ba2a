import { all, managers, ownedAgent, type RouteCase, type World } from './shared.js';

// The credentials module's /v1/api-keys routes. Admin and security manage every principal's keys, an owner-role
// operator those of principals it owns (every case below addresses an agent the owner-role operator owns, so
// the owner's answer is the role table's, not the ownership rule's), auditors only read.

async function ownedKey(w: World): Promise<string> {
  const key = await w.admin('POST', '/v1/api-keys', { principal: await ownedAgent(w), ttl_seconds: 3600 });
  return key.id as string;
}

export const API_KEYS_ROUTE_CASES: Record<string, RouteCase> = {
  'POST /v1/api-keys': {
    expect: managers,
    build: async (w) => ({ method: 'POST', url: '/v1/api-keys', body: { principal: await ownedAgent(w), ttl_seconds: 3600, description: 'matrix' } }),
  },
  'GET /v1/api-keys': {
    expect: all('ok'),
    build: async (w) => ({ method: 'GET', url: `/v1/api-keys?principal=${await ownedAgent(w)}` }),
  },
  'POST /v1/api-keys/{id}/rotate': {
    expect: managers,
    build: async (w) => ({ method: 'POST', url: `/v1/api-keys/${await ownedKey(w)}/rotate`, body: { overlap_seconds: 60 } }),
  },
  'POST /v1/api-keys/{id}/revoke': {
    expect: managers,
    build: async (w) => ({ method: 'POST', url: `/v1/api-keys/${await ownedKey(w)}/revoke`, body: { reason: 'matrix' } }),
  },
};
