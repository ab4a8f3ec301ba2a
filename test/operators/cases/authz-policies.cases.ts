import { adminOnly, readers, type RouteCase, type World } from './shared.js';

// The policy lifecycle (/v1/policies). Only admins change policy (policy.write); admin, security and auditors read
// the history and run impact replays (policy.read; impact changes nothing). Impact on text from the request stays
// policy.read on purpose (docs/policies.md: a pull request's CI job holds a read-only token; the text is screened and
// bounded first). Owners see none of it. The policies the
// matrix activates forbid only a principal that does not exist, so they change no other case's decisions.

const HARMLESS = (n: string) => `@id("matrix-${n}")\nforbid (principal, action, resource) when { principal.name == "nobody-${n}" };\n`;

async function candidate(w: World): Promise<number> {
  const name = w.uniq('pol');
  return (await w.admin('POST', '/v1/policies', { policies: HARMLESS(name), tests: `- {name: ${name}, principal: nobody, action: read, resource: nothing, expect: deny}\n` })).version as number;
}

async function activated(w: World): Promise<number> {
  const v = await candidate(w);
  await w.admin('POST', `/v1/policies/${v}/activate`, { reason: 'matrix' });
  return v;
}

export const AUTHZ_POLICIES_ROUTE_CASES: Record<string, RouteCase> = {
  'POST /v1/policies': {
    expect: adminOnly,
    build: async (w) => ({ method: 'POST', url: '/v1/policies', body: { policies: HARMLESS(w.uniq('pol')), description: 'matrix' } }),
  },
  'GET /v1/policies': { expect: readers, build: async () => ({ method: 'GET', url: '/v1/policies?limit=5' }) },
  'GET /v1/policies/active': { expect: readers, build: async (w) => { await activated(w); return { method: 'GET', url: '/v1/policies/active' }; } },
  'GET /v1/policies/{version}': { expect: readers, build: async (w) => ({ method: 'GET', url: `/v1/policies/${await candidate(w)}` }) },
  'POST /v1/policies/{version}/activate': {
    expect: adminOnly,
    build: async (w) => ({ method: 'POST', url: `/v1/policies/${await candidate(w)}/activate`, body: { reason: 'matrix' } }),
  },
  'POST /v1/policies/rollback': {
    expect: adminOnly,
    build: async (w) => {
      const to = await activated(w);
      await activated(w);
      return { method: 'POST', url: '/v1/policies/rollback', body: { reason: 'matrix', to } };
    },
  },
  'POST /v1/policies/impact': {
    expect: readers, readOnly: true,
    build: async (w) => ({ method: 'POST', url: '/v1/policies/impact', body: { policies: HARMLESS(w.uniq('pol')), limit: 10 } }),
  },
  'POST /v1/policies/{version}/impact': {
    expect: readers, readOnly: true,
    build: async (w) => ({ method: 'POST', url: `/v1/policies/${await candidate(w)}/impact`, body: { limit: 10 } }),
  },
};
