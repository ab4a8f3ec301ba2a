import { all, adminOnly, managers, ownedAgent, type Role, type RouteCase, type World } from './shared.js';

// Access requests and the approval settings. Admin, security and owners file and decide requests (the service keeps
// separation of duties for everyone); auditors read. Only admins change the approval settings.

async function resource(w: World): Promise<string> {
  const name = w.uniq('req-res');
  await w.admin('POST', '/v1/resources', { name, kind: 'dataset', owner: w.names.owner, risk_tier: 'medium', purposes: ['matrix'] });
  return name;
}

/** An agent the role's own operator owns (so each role may file for it); auditors get one too, and are refused. */
async function agentOf(w: World, role: Role): Promise<string> {
  const name = w.uniq(`req-bot-${role}`);
  await w.admin('POST', '/v1/principals', { name, kind: 'agent', owner: w.names[role], status: 'active', purposes: ['matrix'] });
  return name;
}

/** A pending medium request filed by the bootstrap admin for an owner's agent: any role but auditor may decide it. */
async function pending(w: World): Promise<{ id: string; request_hash: string }> {
  const subject = await ownedAgent(w);
  await w.admin('PATCH', `/v1/principals/${subject}`, { purposes: ['matrix'] });
  return w.admin('POST', '/v1/access-requests', { subject, resources: [await resource(w)], actions: ['read'], purpose: 'matrix', duration_seconds: 600, justification: 'matrix' });
}

/** A pending request the role's own operator filed (they may edit and cancel it). */
async function filedBy(w: World, role: Role): Promise<{ id: string }> {
  const subject = await agentOf(w, role);
  const body = { subject, resources: [await resource(w)], actions: ['read'], purpose: 'matrix', duration_seconds: 600, justification: 'matrix' };
  if (role === 'auditor') return w.admin('POST', '/v1/access-requests', body);
  const r = await w.h.call('POST', '/v1/access-requests', body, w.tokens[role]);
  if (r.status !== 201) throw new Error(`filing as ${role}: ${r.status} ${r.text}`);
  return r.body;
}

export const APPROVALS_REQUESTS_ROUTE_CASES: Record<string, RouteCase> = {
  'POST /v1/access-requests': {
    expect: managers,
    build: async (w, role) => ({ method: 'POST', url: '/v1/access-requests', body: { subject: await agentOf(w, role), resources: [await resource(w)], actions: ['read'], purpose: 'matrix', duration_seconds: 600, justification: 'matrix' } }),
  },
  'GET /v1/access-requests': { expect: all('ok'), build: async () => ({ method: 'GET', url: '/v1/access-requests?status=pending&limit=5' }) },
  'GET /v1/access-requests/{id}': { expect: all('ok'), build: async (w) => ({ method: 'GET', url: `/v1/access-requests/${(await pending(w)).id}` }) },
  'PATCH /v1/access-requests/{id}': {
    expect: managers,
    build: async (w, role) => ({ method: 'PATCH', url: `/v1/access-requests/${(await filedBy(w, role)).id}`, body: { justification: 'matrix, edited' } }),
  },
  'POST /v1/access-requests/{id}/approve': {
    expect: managers,
    build: async (w) => { const r = await pending(w); return { method: 'POST', url: `/v1/access-requests/${r.id}/approve`, body: { request_hash: r.request_hash } }; },
  },
  'POST /v1/access-requests/{id}/deny': {
    expect: managers,
    build: async (w) => { const r = await pending(w); return { method: 'POST', url: `/v1/access-requests/${r.id}/deny`, body: { request_hash: r.request_hash, reason: 'matrix' } }; },
  },
  'POST /v1/access-requests/{id}/cancel': {
    expect: managers,
    build: async (w, role) => ({ method: 'POST', url: `/v1/access-requests/${(await filedBy(w, role)).id}/cancel`, body: { reason: 'matrix' } }),
  },
  'GET /v1/approval-settings': { expect: all('ok'), build: async () => ({ method: 'GET', url: '/v1/approval-settings' }) },
  'PUT /v1/approval-settings': {
    expect: adminOnly,
    build: async (w) => {
      const current = await w.admin('GET', '/v1/approval-settings');
      return { method: 'PUT', url: '/v1/approval-settings', body: { expected_version: current.version, settings: current.settings, reason: 'matrix' } };
    },
  },
};
