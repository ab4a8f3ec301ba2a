import { all, managers, ownedAgent, staff, type RouteCase, type World } from './shared.js';

// Access reviews (/v1/review-campaigns, /v1/review-items). Every role reads campaigns and items (owners only the
// items sent to them or their teams: the items built here are about an agent the owner-role operator owns, so the
// owner is their reviewer); admin and security start campaigns; the reviewer (here the owner), admin and security
// decide, auditors never.

async function freshCampaign(w: World): Promise<string> {
  const c = await w.admin('POST', '/v1/review-campaigns', { name: w.uniq('review'), principals: [await ownedAgent(w)] });
  return c.id as string;
}

async function freshItem(w: World): Promise<string> {
  const page = await w.admin('GET', `/v1/review-items?campaign=${await freshCampaign(w)}`);
  return page.items[0].id as string;
}

export const APPROVALS_REVIEWS_ROUTE_CASES: Record<string, RouteCase> = {
  'POST /v1/review-campaigns': {
    expect: staff,
    build: async (w) => ({ method: 'POST', url: '/v1/review-campaigns', body: { name: w.uniq('review'), principals: [await ownedAgent(w)], due_in_days: 7 } }),
  },
  'GET /v1/review-campaigns': { expect: all('ok'), build: async () => ({ method: 'GET', url: '/v1/review-campaigns?status=open&limit=5' }) },
  'GET /v1/review-campaigns/{id}': { expect: all('ok'), build: async (w) => ({ method: 'GET', url: `/v1/review-campaigns/${await freshCampaign(w)}` }) },
  'GET /v1/review-items': { expect: all('ok'), build: async () => ({ method: 'GET', url: '/v1/review-items?status=pending&limit=5' }) },
  'GET /v1/review-items/{id}': { expect: all('ok'), build: async (w) => ({ method: 'GET', url: `/v1/review-items/${await freshItem(w)}` }) },
  'POST /v1/review-items/{id}/decision': {
    expect: managers,
    build: async (w) => ({ method: 'POST', url: `/v1/review-items/${await freshItem(w)}/decision`, body: { decision: 'keep', reason: 'matrix' } }),
  },
};
