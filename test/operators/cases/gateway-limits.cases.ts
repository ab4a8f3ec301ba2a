import { ownedAgent, ownedResource, readers, staff, type RouteCase, type World } from './shared.js';

// Limits (/v1/limits): admins and security set and remove them (limit.write); admins, security and auditors read
// them (limit.read); owners see none of it. Each case limits its own fresh principal or resource.

async function limited(w: World, kind: 'principal' | 'resource'): Promise<string> {
  const ref = kind === 'principal' ? await ownedAgent(w) : await ownedResource(w);
  await w.admin('PUT', `/v1/limits/${kind}/${ref}`, { requests_per_minute: 60, tokens_per_day: 100_000, reason: 'matrix' });
  return `/v1/limits/${kind}/${ref}`;
}

export const GATEWAY_LIMITS_ROUTE_CASES: Record<string, RouteCase> = {
  'PUT /v1/limits/{kind}/{ref}': {
    expect: staff,
    build: async (w) => ({ method: 'PUT', url: `/v1/limits/principal/${await ownedAgent(w)}`, body: { tokens_per_minute: 20_000, tokens_per_day: 500_000, reason: 'matrix' } }),
  },
  'GET /v1/limits': { expect: readers, build: async () => ({ method: 'GET', url: '/v1/limits?kind=principal&limit=5' }) },
  'GET /v1/limits/{kind}/{ref}': { expect: readers, build: async (w) => ({ method: 'GET', url: await limited(w, 'resource') }) },
  'DELETE /v1/limits/{kind}/{ref}': {
    expect: staff,
    build: async (w) => ({ method: 'DELETE', url: `${await limited(w, 'principal')}?reason=matrix` }),
  },
};
