import { exportJWK, generateKeyPair } from 'jose';
import { all, managers, ownedAgent, type RouteCase, type World } from './shared.js';

// The credentials module's /v1/client-keys and /v1/client-secrets routes. Admin and security manage every
// principal's material, an owner-role operator that of principals it owns (every case below addresses an agent
// the owner-role operator owns, so the owner's answer is the role table's, not the ownership rule's), auditors
// only read.

async function publicJwk(): Promise<Record<string, unknown>> {
  const { publicKey } = await generateKeyPair('EdDSA', { extractable: true });
  return { ...(await exportJWK(publicKey)) };
}

async function ownedSecret(w: World): Promise<string> {
  const s = await w.admin('POST', '/v1/client-secrets', { principal: await ownedAgent(w), ttl_seconds: 3600 });
  return s.id as string;
}

export const CLIENT_CREDENTIALS_ROUTE_CASES: Record<string, RouteCase> = {
  'POST /v1/client-keys': {
    expect: managers,
    build: async (w) => ({ method: 'POST', url: '/v1/client-keys', body: { principal: await ownedAgent(w), jwk: await publicJwk(), description: 'matrix' } }),
  },
  'GET /v1/client-keys': {
    expect: all('ok'),
    build: async (w) => ({ method: 'GET', url: `/v1/client-keys?principal=${await ownedAgent(w)}` }),
  },
  'DELETE /v1/client-keys/{id}': {
    expect: managers,
    build: async (w) => {
      const added = await w.admin('POST', '/v1/client-keys', { principal: await ownedAgent(w), jwk: await publicJwk() });
      return { method: 'DELETE', url: `/v1/client-keys/${added.keys[0].id}` };
    },
  },
  'POST /v1/client-secrets': {
    expect: managers,
    build: async (w) => ({ method: 'POST', url: '/v1/client-secrets', body: { principal: await ownedAgent(w), ttl_seconds: 3600, description: 'matrix' } }),
  },
  'GET /v1/client-secrets': {
    expect: all('ok'),
    build: async (w) => ({ method: 'GET', url: `/v1/client-secrets?principal=${await ownedAgent(w)}` }),
  },
  'POST /v1/client-secrets/{id}/rotate': {
    expect: managers,
    build: async (w) => ({ method: 'POST', url: `/v1/client-secrets/${await ownedSecret(w)}/rotate`, body: { overlap_seconds: 60 } }),
  },
  'POST /v1/client-secrets/{id}/revoke': {
    expect: managers,
    build: async (w) => ({ method: 'POST', url: `/v1/client-secrets/${await ownedSecret(w)}/revoke`, body: { reason: 'matrix' } }),
  },
};
