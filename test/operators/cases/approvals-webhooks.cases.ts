import { adminAllowed, adminOnly, staff, type RouteCase, type World } from './shared.js';

// Webhooks (/v1/webhooks): admins change them (webhook.write), admins and security read them and their delivery log
// (webhook.read); auditors and owners see none of it. The URL is a closed loopback port, so a test delivery fails at
// once without leaving the machine. A delivery the matrix can make is pending (one failed attempt), so retrying it is
// the service's 409 for admins: allowed, not ok.

const URL = 'http://127.0.0.1:9/matrix';

async function webhook(w: World): Promise<string> {
  return (await w.admin('POST', '/v1/webhooks', { name: w.uniq('hook'), url: URL, reason: 'matrix' })).name as string;
}

async function delivery(w: World): Promise<{ name: string; id: string }> {
  const name = await webhook(w);
  const d = await w.admin('POST', `/v1/webhooks/${name}/test`, {});
  return { name, id: d.id as string };
}

export const APPROVALS_WEBHOOKS_ROUTE_CASES: Record<string, RouteCase> = {
  'POST /v1/webhooks': {
    expect: adminOnly,
    build: async (w) => ({ method: 'POST', url: '/v1/webhooks', body: { name: w.uniq('hook'), url: URL, events: ['request.created'], format: 'slack' } }),
  },
  'GET /v1/webhooks': { expect: staff, build: async () => ({ method: 'GET', url: '/v1/webhooks?limit=5' }) },
  'GET /v1/webhooks/{ref}': { expect: staff, build: async (w) => ({ method: 'GET', url: `/v1/webhooks/${await webhook(w)}` }) },
  'PATCH /v1/webhooks/{ref}': {
    expect: adminOnly,
    build: async (w) => ({ method: 'PATCH', url: `/v1/webhooks/${await webhook(w)}`, body: { enabled: false, reason: 'matrix' } }),
  },
  'DELETE /v1/webhooks/{ref}': { expect: adminOnly, build: async (w) => ({ method: 'DELETE', url: `/v1/webhooks/${await webhook(w)}?reason=matrix` }) },
  'POST /v1/webhooks/{ref}/test': { expect: adminOnly, build: async (w) => ({ method: 'POST', url: `/v1/webhooks/${await webhook(w)}/test`, body: {} }) },
  'GET /v1/webhooks/{ref}/deliveries': {
    expect: staff,
    build: async (w) => ({ method: 'GET', url: `/v1/webhooks/${(await delivery(w)).name}/deliveries?status=pending&limit=5` }),
  },
  'POST /v1/webhooks/{ref}/deliveries/{id}/retry': {
    expect: adminAllowed,
    build: async (w) => {
      const d = await delivery(w);
      return { method: 'POST', url: `/v1/webhooks/${d.name}/deliveries/${d.id}/retry`, body: { reason: 'matrix' } };
    },
  },
};
