import { adminAllowed, auditReaders, type RouteCase } from './shared.js';

export const AUDIT_ROUTE_CASES: Record<string, RouteCase> = {
  // The audit module's routes (owned elsewhere): only whether the role passes the check is asserted here.
  'GET /v1/audit/events': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/audit/events?limit=2' }) },
  'GET /v1/audit/events/{seq}': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/audit/events/0' }) },
  'GET /v1/audit/events/{seq}/proof': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/audit/events/0/proof' }) },
  'GET /v1/audit/consistency': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/audit/consistency?from=1&to=1' }) },
  'GET /v1/audit/checkpoints': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/audit/checkpoints' }) },
  'GET /v1/audit/export': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/audit/export?from_seq=0&to_seq=1' }) },
  'GET /v1/audit/stream': { expect: auditReaders, stream: true, build: async () => ({ method: 'GET', url: '/v1/audit/stream' }) },
  'POST /v1/audit/verify': { expect: auditReaders, readOnly: true, build: async () => ({ method: 'POST', url: '/v1/audit/verify', body: {} }) },
  'GET /v1/audit/retention': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/audit/retention' }) },
  // Retention is audit administration: admins only. The digest is bogus, so nothing is ever pruned here.
  'GET /v1/audit/archive': { expect: adminAllowed, build: async () => ({ method: 'GET', url: '/v1/audit/archive?to_seq=256' }) },
  'POST /v1/audit/prune': { expect: adminAllowed, build: async () => ({ method: 'POST', url: '/v1/audit/prune', body: { to_seq: 256, archive_digest: '0'.repeat(64) } }) },

  // Recovery is audit administration: admins only. On an intact log it is 409 recovery_not_needed and changes nothing.
  'POST /v1/audit/recover': { expect: adminAllowed, build: async () => ({ method: 'POST', url: '/v1/audit/recover', body: { reason: 'role matrix' } }) },
  'GET /v1/audit/integrity': { expect: auditReaders, build: async () => ({ method: 'GET', url: '/v1/audit/integrity' }) },
  'POST /v1/audit/hash': { expect: auditReaders, readOnly: true, build: async () => ({ method: 'POST', url: '/v1/audit/hash', body: { value: 'x' } }) },
};
