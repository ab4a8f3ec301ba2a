import crypto from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { Harness } from './harness.js';

// OAuth helpers for tests: agents with registered keys, client assertions, DPoP proofs, form requests.

export interface TestAgent {
  id: string;
  name: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  kid: string;
}

export async function createAgent(h: Harness, name: string, fields: Record<string, unknown> = {}): Promise<TestAgent> {
  const owner = 'agent-owner';
  const existing = await h.call('GET', `/v1/principals/${owner}`);
  if (existing.status === 404) {
    const o = await h.call('POST', '/v1/principals', { name: owner, kind: 'human' });
    if (o.status !== 201) throw new Error(`owner: ${o.text}`);
  }
  const p = await h.call('POST', '/v1/principals', {
    name, kind: 'agent', owner, status: 'active', scopes: ['models:invoke', 'tools:call'], purposes: ['support'], ...fields,
  });
  if (p.status !== 201) throw new Error(`agent ${name}: ${p.text}`);
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const kid = `${name}-key-1`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA' };
  const k = await h.call('POST', '/v1/client-keys', { principal: name, jwk: publicJwk });
  if (k.status !== 201) throw new Error(`client key for ${name}: ${k.text}`);
  return { id: p.body.id, name, privateKey, publicJwk, kid };
}

export const nowOf = (h: Harness) => Math.floor(h.clock.now().getTime() / 1000);

export function issuerOf(h: Harness): string {
  return h.cp.issuer();
}

export async function clientAssertion(agent: TestAgent, audience: string, now: number, over: { kid?: string | null; exp?: number; jti?: string; iss?: string } = {}): Promise<string> {
  const header: Record<string, unknown> = { alg: 'EdDSA' };
  if (over.kid !== null) header.kid = over.kid ?? agent.kid;
  return new SignJWT({ jti: over.jti ?? crypto.randomUUID() })
    .setProtectedHeader(header as { alg: string })
    .setIssuer(over.iss ?? agent.id).setSubject(over.iss ?? agent.id).setAudience(audience)
    .setIssuedAt(now).setExpirationTime(over.exp ?? now + 120)
    .sign(agent.privateKey);
}

export async function dpopProof(key: { privateKey: CryptoKey; publicJwk: JWK }, htm: string, htu: string, now: number, extra: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ htm, htu, jti: crypto.randomUUID(), iat: now, ...extra })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'dpop+jwt', jwk: key.publicJwk })
    .sign(key.privateKey);
}

export async function dpopKey(): Promise<{ privateKey: CryptoKey; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const { kty, crv, x } = await exportJWK(publicKey);
  return { privateKey, publicJwk: { kty, crv, x } };
}

export async function form(h: Harness, url: string, params: Record<string, string | string[]>, headers: Record<string, string> = {}) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const item of Array.isArray(v) ? v : [v]) body.append(k, item);
  const res = await h.cp.http.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: body.toString() });
  let parsed: any;
  try { parsed = JSON.parse(res.body); } catch { parsed = undefined; }
  return { status: res.statusCode, body: parsed, headers: res.headers, text: res.body };
}

/** client_credentials with private_key_jwt. */
export async function tokenFor(h: Harness, agent: TestAgent, params: Record<string, string | string[]> = {}, headers: Record<string, string> = {}) {
  return form(h, '/oauth/token', {
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await clientAssertion(agent, issuerOf(h), nowOf(h)),
    ...params,
  }, headers);
}

/** Another registered client key for an agent (e.g. ES256, for clients that sign assertions with it); both halves. */
export async function addClientKey(h: Harness, agent: TestAgent, alg: 'ES256' | 'EdDSA', kid: string): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey; kid: string }> {
  const { privateKey, publicKey } = alg === 'EdDSA' ? await generateKeyPair('EdDSA', { crv: 'Ed25519' }) : await generateKeyPair(alg);
  const k = await h.call('POST', '/v1/client-keys', { principal: agent.name, jwk: { ...(await exportJWK(publicKey)), kid, alg } });
  if (k.status !== 201) throw new Error(`client key ${kid} for ${agent.name}: ${k.text}`);
  return { privateKey, publicKey, kid };
}

/** A client secret for a principal (`custos_cs_…`, shown once). */
export async function clientSecretFor(h: Harness, principal: string): Promise<string> {
  const s = await h.call('POST', '/v1/client-secrets', { principal });
  if (s.status !== 201) throw new Error(`client secret for ${principal}: ${s.text}`);
  return s.body.secret as string;
}
