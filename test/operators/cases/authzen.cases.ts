import { ownedResource, staff, type RouteCase, type World } from './shared.js';

// The AuthZEN API (/access/v1/…, authz/authzen/): deciding is for admin and security (permission authz.evaluate);
// auditors and owners are refused (403 forbidden, recorded as authz.denied). The POSTs compute decisions and change no
// registry table (each decision is an audit event), so they are read-only for the matrix. The metadata document
// (GET /.well-known/authzen-configuration) is public.
//
// The role matrix's coverage check looks at routes under ' /v1/' only, so these cases are kept apart until it also
// looks at ' /access/v1/' (AUTHZEN_ROUTE_CASES stays empty until then; see the authzen helper's report).

const question = async (w: World, role: keyof World['tokens']) => ({
  subject: { type: 'user', id: w.names[role] },
  action: { name: 'invoke' },
  resource: { type: 'model', id: await ownedResource(w) },
});

export const AUTHZEN_ACCESS_ROUTE_CASES: Record<string, RouteCase> = {
  'POST /access/v1/evaluation': { expect: staff, readOnly: true, build: async (w, role) => ({ method: 'POST', url: '/access/v1/evaluation', body: await question(w, role) }) },
  'POST /access/v1/evaluations': {
    expect: staff, readOnly: true,
    build: async (w, role) => {
      const q = await question(w, role);
      return { method: 'POST', url: '/access/v1/evaluations', body: { subject: q.subject, action: q.action, evaluations: [{ resource: q.resource }, { resource: q.resource, action: { name: 'read' } }] } };
    },
  },
  'POST /access/v1/search/subject': {
    expect: staff, readOnly: true,
    build: async (w) => ({ method: 'POST', url: '/access/v1/search/subject', body: { subject: { type: 'user' }, action: { name: 'invoke' }, resource: { type: 'model', id: await ownedResource(w) } } }),
  },
  'POST /access/v1/search/resource': {
    expect: staff, readOnly: true,
    build: async (w, role) => ({ method: 'POST', url: '/access/v1/search/resource', body: { subject: { type: 'user', id: w.names[role] }, action: { name: 'invoke' }, resource: { type: 'model' } } }),
  },
  'POST /access/v1/search/action': {
    expect: staff, readOnly: true,
    build: async (w, role) => ({ method: 'POST', url: '/access/v1/search/action', body: { subject: { type: 'user', id: w.names[role] }, resource: { type: 'model', id: await ownedResource(w) } } }),
  },
};

export const AUTHZEN_ROUTE_CASES: Record<string, RouteCase> = {};
