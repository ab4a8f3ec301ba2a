import { auditReaders, staffAllowed, type RouteCase } from './shared.js';

export const FINDINGS_ROUTE_CASES: Record<string, RouteCase> = {
  // The findings module's routes (owned elsewhere): scan reports are written by admin and security only.
  'POST /v1/findings/report': {
    expect: staffAllowed,
    bodyLimit: 32 * 1024 * 1024,
    build: async () => ({
      method: 'POST', url: '/v1/findings/report',
      body: { scanner: { name: 'custos', version: '0' }, source: 'dir', target: '/tmp/matrix', incomplete: false, incomplete_reasons: [], findings: [] },
    }),
  },
  'GET /v1/findings': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/findings' }) },
  'GET /v1/findings/{id}': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/findings/0123456789abcdef0123456789abcdef' }) },
  'PATCH /v1/findings/{id}': { expect: staffAllowed, build: async () => ({ method: 'PATCH', url: '/v1/findings/0123456789abcdef0123456789abcdef', body: { status: 'accepted' } }) },
};
