import { adminOnly, readers, type RouteCase } from './shared.js';

// The signing-key routes (credentials module): listing is a read (key.read); rotating is admin only (key.rotate).
// The JWKS at /.well-known/jwks.json is public and outside /v1.

export const SIGNING_KEYS_ROUTE_CASES: Record<string, RouteCase> = {
  'GET /v1/signing-keys': { expect: readers, build: async () => ({ method: 'GET', url: '/v1/signing-keys' }) },
  'POST /v1/signing-keys/rotate': {
    expect: adminOnly,
    build: async () => ({ method: 'POST', url: '/v1/signing-keys/rotate', body: { reason: 'role matrix' } }),
  },
};
