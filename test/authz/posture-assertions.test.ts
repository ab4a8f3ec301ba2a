import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, UnsecuredJWT, createLocalJWKSet, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPostureAssertion, MAX_ASSERTION_LENGTH, type AssertionDeps } from '../../src/authz/devices/assertion.js';
import { createRemoteKeySource } from '../../src/authz/devices/remote-keys.js';
import type { PostureIssuersTable } from '../../src/platform/store/schema.js';

// Signed posture assertions verified against configured posture issuers, with keys jose generated here: only a
// fresh, correctly signed assertion from a configured issuer about this principal yields a posture; everything
// else is an outcome that says why (the decision then sees `unknown`).

const NOW = new Date('2026-06-01T12:00:00Z');
const T = Math.floor(NOW.getTime() / 1000);
const PRINCIPAL = { id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', name: 'alice' };
const ISS = 'https://mdm.example.com';

let es: { publicKey: CryptoKey; privateKey: CryptoKey };
let ed: { publicKey: CryptoKey; privateKey: CryptoKey };
let rsa: { publicKey: CryptoKey; privateKey: CryptoKey };
let other: { publicKey: CryptoKey; privateKey: CryptoKey };
let jwks: { keys: JWK[] };
let server: http.Server;
let jwksUri: string;
let fetches = 0;

function row(over: Partial<PostureIssuersTable> = {}): PostureIssuersTable {
  return {
    id: 'iss-1', name: 'corp-mdm', issuer: ISS, jwks: JSON.stringify(jwks), jwks_uri: null, max_age_seconds: 600,
    created_at: NOW.toISOString(), created_by: null, ...over,
  };
}

function deps(r: PostureIssuersTable = row(), now = NOW): AssertionDeps {
  const remote = createRemoteKeySource();
  return {
    findIssuer: async (iss) => (iss === r.issuer ? r : undefined),
    keysOf: (x) => (x.jwks_uri ? remote.resolver(x.jwks_uri) : createLocalJWKSet(JSON.parse(x.jwks!) as { keys: JWK[] })),
    now,
  };
}

async function sign(claims: JWTPayload = {}, opts: { alg?: string; kid?: string; key?: CryptoKey; typ?: string; omit?: string[] } = {}): Promise<string> {
  const alg = opts.alg ?? 'ES256';
  const full: JWTPayload = { iss: ISS, sub: PRINCIPAL.name, iat: T - 60, exp: T + 600, device_id: 'mac-42', posture: 'compliant', ...claims };
  for (const k of opts.omit ?? []) delete full[k];
  const kid = opts.kid ?? { ES256: 'es-1', EdDSA: 'ed-1', RS256: 'rsa-1' }[alg];
  const key = opts.key ?? { ES256: es.privateKey, EdDSA: ed.privateKey, RS256: rsa.privateKey }[alg]!;
  return new SignJWT(full).setProtectedHeader({ alg, ...(kid ? { kid } : {}), ...(opts.typ ? { typ: opts.typ } : {}) }).sign(key);
}

async function refused(assertion: string, d: AssertionDeps = deps()): Promise<string> {
  const r = await verifyPostureAssertion(assertion, PRINCIPAL, d);
  expect(r.ok, 'the assertion was accepted').toBe(false);
  const why = (r as { why: string }).why;
  const signature = assertion.split('.')[2];
  if (signature) expect(why).not.toContain(signature);
  if (assertion.length > 20) expect(why).not.toContain(assertion);
  return why;
}

beforeAll(async () => {
  es = await generateKeyPair('ES256');
  ed = await generateKeyPair('EdDSA');
  rsa = await generateKeyPair('RS256');
  other = await generateKeyPair('ES256');
  jwks = {
    keys: [
      { ...(await exportJWK(es.publicKey)), kid: 'es-1', alg: 'ES256' },
      { ...(await exportJWK(ed.publicKey)), kid: 'ed-1', alg: 'EdDSA' },
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256' },
    ],
  };
  server = http.createServer((req, res) => {
    fetches += 1;
    if (req.url !== '/jwks.json') return res.writeHead(404).end();
    return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('posture assertions', () => {
  it('accept a fresh assertion from a configured issuer about this principal (ES256, EdDSA, RS256)', async () => {
    for (const alg of ['ES256', 'EdDSA', 'RS256']) {
      expect(await verifyPostureAssertion(await sign({}, { alg }), PRINCIPAL, deps()), alg)
        .toEqual({ ok: true, posture: 'compliant', deviceId: 'mac-42', issuer: 'corp-mdm' });
    }
  });

  it('name the principal by id or by name in sub, and refuse one about someone else', async () => {
    expect((await verifyPostureAssertion(await sign({ sub: PRINCIPAL.id }), PRINCIPAL, deps())).ok).toBe(true);
    expect(await refused(await sign({ sub: 'bob' }))).toMatch(/another principal/);
    // Without a known name only the id counts.
    expect((await verifyPostureAssertion(await sign({ sub: 'alice' }), { id: PRINCIPAL.id, name: null }, deps())).ok).toBe(false);
  });

  it('state the posture the claims say: noncompliant, compliant:false, or unknown when unclear', async () => {
    const posture = async (claims: JWTPayload) => (await verifyPostureAssertion(await sign(claims), PRINCIPAL, deps()) as { posture: string }).posture;
    expect(await posture({ posture: 'noncompliant' })).toBe('noncompliant');
    expect(await posture({ posture: undefined, compliant: false })).toBe('noncompliant');
    expect(await posture({ posture: undefined, compliant: true })).toBe('compliant');
    expect(await posture({ posture: 'great' })).toBe('unknown');
    expect(await posture({ posture: undefined })).toBe('unknown');
    const noDevice = await verifyPostureAssertion(await sign({}, { omit: ['device_id'] }), PRINCIPAL, deps());
    expect(noDevice).toMatchObject({ ok: true, deviceId: '' });
  });

  it('refuse an unsigned assertion, an HMAC one, and one signed by a key the issuer does not have', async () => {
    const unsigned = new UnsecuredJWT({ iss: ISS, sub: 'alice', iat: T, exp: T + 600, posture: 'compliant' }).encode();
    expect(await refused(unsigned)).toMatch(/algorithm that is not accepted|malformed/);
    const hs = await new SignJWT({ iss: ISS, sub: 'alice', iat: T, exp: T + 600, posture: 'compliant' })
      .setProtectedHeader({ alg: 'HS256', kid: 'es-1' }).sign(new TextEncoder().encode('a-shared-secret-of-thirty-two-bytes!!'));
    expect(await refused(hs)).toMatch(/algorithm that is not accepted/);
    expect(await refused(await sign({}, { key: other.privateKey }))).toMatch(/signature that does not verify/);
    expect(await refused(await sign({}, { kid: 'nope' }))).toMatch(/matches no key/);
    // An algorithm the key does not have: an ES256 key named for RS256.
    expect(await refused(await sign({}, { alg: 'RS256', kid: 'es-1' }))).toMatch(/matches no key/);
  });

  it('refuse an assertion from an issuer that is not configured, or with a different iss', async () => {
    expect(await refused(await sign({ iss: 'https://evil.example.com' }))).toMatch(/not a configured posture issuer/);
    expect(await refused(await sign({}, { omit: ['iss'] }))).toMatch(/no iss/);
  });

  it('call an assertion older than max_age_seconds stale, and refuse expired, future or incomplete ones', async () => {
    expect(await refused(await sign({ iat: T - 601 - 30, exp: T + 600 }))).toMatch(/stale/);
    expect((await verifyPostureAssertion(await sign({ iat: T - 590 }), PRINCIPAL, deps())).ok).toBe(true);
    expect(await refused(await sign({ iat: T - 100, exp: T - 31 }))).toMatch(/expired/);
    expect(await refused(await sign({ iat: T + 120 }))).toMatch(/iat in the future/);
    expect(await refused(await sign({ nbf: T + 120 }))).toMatch(/not yet valid/);
    for (const claim of ['iat', 'exp', 'sub']) expect(await refused(await sign({}, { omit: [claim] })), claim).toMatch(new RegExp(`no '${claim}'`));
    // The same assertion later is stale: freshness is judged at decision time.
    const a = await sign();
    expect(await refused(a, deps(row(), new Date(NOW.getTime() + 3_600_000)))).toMatch(/stale|expired/);
  });

  it('refuse tokens of another kind, oversized input and garbage, without quoting them', async () => {
    expect(await refused(await sign({}, { typ: 'at+jwt' }))).toMatch(/another kind of token/);
    expect(await refused(await sign({}, { typ: 'application/dpop+jwt' }))).toMatch(/another kind of token/);
    expect(await refused('x'.repeat(MAX_ASSERTION_LENGTH + 1))).toMatch(/longer than/);
    expect(await refused('not.a.jwt')).toMatch(/not a signed JWT/);
    expect(await refused('')).toMatch(/no assertion/);
  });

  it('fetch the keys of an issuer configured with a jwks_uri, and treat an unreachable one as unverifiable', async () => {
    const remote = row({ jwks: null, jwks_uri: jwksUri });
    const before = fetches;
    expect((await verifyPostureAssertion(await sign(), PRINCIPAL, deps(remote))).ok).toBe(true);
    expect(fetches).toBeGreaterThan(before);
    const dead = row({ jwks: null, jwks_uri: 'http://127.0.0.1:1/jwks.json' });
    expect(await refused(await sign(), deps(dead))).toMatch(/could not be verified|could not be checked/);
    const notHttps = row({ jwks: null, jwks_uri: 'http://mdm.example.com/jwks.json' });
    expect(await refused(await sign(), deps(notHttps))).toMatch(/could not be verified|could not be checked/);
  });
});
