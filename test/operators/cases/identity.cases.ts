import { all, managers, ownedAgent, ownedResource, staff, type RouteCase } from './shared.js';

export const IDENTITY_ROUTE_CASES: Record<string, RouteCase> = {
  'POST /v1/principals': {
    expect: managers,
    build: async (w) => ({ method: 'POST', url: '/v1/principals', body: { name: w.uniq('new'), kind: 'agent', owner: w.names.owner } }),
  },
  'GET /v1/principals': { expect: all('ok'), build: async () => ({ method: 'GET', url: '/v1/principals?limit=5' }) },
  'GET /v1/principals/{ref}': { expect: all('ok'), build: async (w) => ({ method: 'GET', url: `/v1/principals/${await ownedAgent(w)}` }) },
  'PATCH /v1/principals/{ref}': {
    expect: managers,
    build: async (w) => ({ method: 'PATCH', url: `/v1/principals/${await ownedAgent(w)}`, body: { display_name: 'Renamed', reason: 'matrix' } }),
  },
  'POST /v1/principals/{ref}/{action}': {
    expect: managers,
    build: async (w) => ({ method: 'POST', url: `/v1/principals/${await ownedAgent(w)}/suspend`, body: { reason: 'matrix' } }),
  },
  'POST /v1/principals/{ref}/review': {
    expect: managers,
    build: async (w) => ({ method: 'POST', url: `/v1/principals/${await ownedAgent(w)}/review`, body: { reason: 'matrix' } }),
  },
  'POST /v1/teams': { expect: staff, build: async (w) => ({ method: 'POST', url: '/v1/teams', body: { name: w.uniq('team') } }) },
  'GET /v1/teams': { expect: all('ok'), build: async () => ({ method: 'GET', url: '/v1/teams' }) },
  'GET /v1/teams/{ref}': { expect: all('ok'), build: async (w) => ({ method: 'GET', url: `/v1/teams/${w.ownerTeam}` }) },
  'PATCH /v1/teams/{ref}': { expect: staff, build: async (w) => ({ method: 'PATCH', url: `/v1/teams/${w.ownerTeam}`, body: { description: 'matrix' } }) },
  'PUT /v1/teams/{ref}/members/{principal}': {
    // The owner-role operator asking to join (or widen) a team: refused, or team ownership would be self-service.
    expect: staff,
    build: async (w, role) => ({ method: 'PUT', url: `/v1/teams/${w.ownerTeam}/members/${w.names[role]}`, body: { role: 'member' } }),
  },
  'DELETE /v1/teams/{ref}/members/{principal}': {
    expect: staff,
    build: async (w) => {
      const name = w.uniq('member');
      await w.admin('POST', '/v1/principals', { name, kind: 'human' });
      await w.admin('PUT', `/v1/teams/${w.ownerTeam}/members/${name}`, {});
      return { method: 'DELETE', url: `/v1/teams/${w.ownerTeam}/members/${name}` };
    },
  },
  'POST /v1/resources': {
    expect: managers,
    build: async (w) => ({ method: 'POST', url: '/v1/resources', body: { name: w.uniq('res'), kind: 'dataset', owner: w.names.owner } }),
  },
  'GET /v1/resources': { expect: all('ok'), build: async () => ({ method: 'GET', url: '/v1/resources' }) },
  'GET /v1/resources/{ref}': { expect: all('ok'), build: async (w) => ({ method: 'GET', url: `/v1/resources/${await ownedResource(w)}` }) },
  'PATCH /v1/resources/{ref}': {
    expect: managers,
    build: async (w) => ({ method: 'PATCH', url: `/v1/resources/${await ownedResource(w)}`, body: { description: 'matrix' } }),
  },
  'DELETE /v1/resources/{ref}': { expect: managers, build: async (w) => ({ method: 'DELETE', url: `/v1/resources/${await ownedResource(w)}` }) },
};
