import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { base64url, CompactSign, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuditWriter } from '../../src/audit/index.js';
import { signAccessToken } from '../../src/credentials/access-token.js';
import {
  CredentialRejected, type AccessTokenClaims, type DpopCheckInput, type DpopVerifier, type PresentedRequest, type SigningKeyStore,
  type TokenRef, type VerificationKey, type VerifyFailureReason,
} from '../../src/credentials/contracts.js';
import { createSigningKeyStore, type SigningKeyService } from '../../src/credentials/signing-keys.service.js';
import { createVerifiedCache } from '../../src/credentials/verified-cache.js';
import { createAccessTokenVerifier, createIssuedTokenInspector, type PrincipalRecord } from '../../src/credentials/verify/index.js';
import { NO_PROVENANCE, systemActor } from '../../src/platform/actor.js';
import { manualClock } from '../../src/platform/clock.js';
import { newId } from '../../src/platform/ids.js';
import { createKeyRing, generateMasterKey } from '../../src/platform/keys.js';
import { openDatabase, type Database } from '../../src/platform/store/db.js';
import { migrateToLatest } from '../../src/platform/store/migrations/index.js';
import { BACKENDS, freshPostgresDatabase, postgresReachable } from '../support/backends.js';

// The negative matrix of SECURITY-TESTS.md (Tokens) against the access-token verifier, with a real store-backed
// signing-key store and stubs for revocation, DPoP and the principals lookup. Every refusal is asserted with its
// reason; the accepted neighbours of each boundary are asserted too.

const ISSUER = 'https://custos.test';
const AUD = 'https://api.test/v1/chat';
const LEEWAY = 30;
const enc = (value: unknown) => base64url.encode(typeof value === 'string' ? value : JSON.stringify(value));

function principal(id: string, status = 'active', teams: string[] = []): PrincipalRecord {
  return { principal: { id, name: `name-of-${id}`, kind: 'agent', status, ownerId: null }, teamIds: teams };
}

for (const backend of BACKENDS) {
  describe(`access-token verification on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    const clock = manualClock('2026-05-01T00:00:00.000Z');
    const nowSec = () => Math.floor(clock.now().getTime() / 1000);
    let db: Database;
    let drop: (() => Promise<void>) | undefined;
    let dir: string;
    let store: SigningKeyService;

    const revokedJtis = new Set<string>();
    const revokedPrincipals = new Set<string>();
    const revocationCalls: TokenRef[] = [];
    const revocations = {
      isRevoked(ref: TokenRef) {
        revocationCalls.push(ref);
        return revokedJtis.has(ref.jti) || revokedPrincipals.has(ref.principalId) || ref.actChain.some((id) => revokedPrincipals.has(id));
      },
      version: () => 0,
      refresh: async () => undefined,
    };
    const dpopCalls: DpopCheckInput[] = [];
    const dpop: DpopVerifier = {
      async verify(input) {
        dpopCalls.push(input);
        if (input.proofs.length === 1 && input.proofs[0] === 'good-proof') return { jkt: input.expectedJkt! };
        if (input.proofs.length === 1 && input.proofs[0] === 'proof-by-another-key') return { jkt: 'another-thumbprint' };
        throw new CredentialRejected('dpop_invalid', 'the DPoP proof is not valid');
      },
      nonce: () => 'nonce',
    };
    const directory = new Map<string, PrincipalRecord>([
      ['agent-a', principal('agent-a', 'active', ['team-a'])],
      ['agent-b', principal('agent-b', 'active', ['team-b'])],
      ['agent-c', principal('agent-c', 'active', ['team-c1', 'team-c2'])],
      ['agent-d', principal('agent-d')],
      ['agent-s', principal('agent-s', 'suspended')],
    ]);
    let lookups = 0;
    const principals = async (id: string) => { lookups++; return directory.get(id); };

    let verifier: ReturnType<typeof createAccessTokenVerifier>;

    beforeAll(async () => {
      if (!enabled) return;
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-at-matrix-'));
      const pgdb = backend === 'postgres' ? await freshPostgresDatabase() : undefined;
      drop = pgdb?.drop;
      db = openDatabase({ dataDir: dir, databaseUrl: pgdb?.url });
      await migrateToLatest(db.kysely, db.dialect);
      const keys = createKeyRing(generateMasterKey());
      const audit = createAuditWriter({ keys, clock, newId });
      store = createSigningKeyStore({ db, keys, audit, clock, alg: 'EdDSA', rotationDays: 30, maxTokenLifetimeSeconds: 3600 });
      verifier = createAccessTokenVerifier({ keys: store, issuer: ISSUER, clock, revocations, dpop, principals });
    });
    afterAll(async () => {
      await db?.close();
      await drop?.();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });
    beforeEach(() => {
      revokedJtis.clear();
      revokedPrincipals.clear();
      revocationCalls.length = 0;
      dpopCalls.length = 0;
    });

    function claims(over: Record<string, unknown> = {}): AccessTokenClaims {
      const now = nowSec();
      return {
        iss: ISSUER, sub: 'agent-a', aud: [AUD], client_id: 'agent-a', scope: 'model:invoke data:read', purpose: 'support',
        jti: crypto.randomUUID(), iat: now, exp: now + 600, auth_time: now, ...over,
      } as AccessTokenClaims;
    }

    /** A token signed by our current key; `header` replaces or adds protected header members (crit options too). */
    async function mint(over: Record<string, unknown> = {}, header?: Record<string, unknown>, critical?: Record<string, boolean>): Promise<string> {
      const key = await store.current();
      if (!header) return signAccessToken(key, claims(over));
      return new CompactSign(new TextEncoder().encode(JSON.stringify(claims(over))))
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header } as { alg: string })
        .sign(key.privateKey, critical ? { crit: critical } : undefined);
    }

    function request(token: string, over: Partial<PresentedRequest> = {}): PresentedRequest {
      return { token, scheme: 'bearer', dpopProofs: [], method: 'POST', url: AUD, provenance: NO_PROVENANCE, ...over };
    }

    async function refusal(token: string, over: Partial<PresentedRequest> = {}, audience = AUD, v = verifier): Promise<CredentialRejected> {
      try {
        await v.verify(request(token, over), audience);
      } catch (error) {
        if (error instanceof CredentialRejected) return error;
        throw error;
      }
      throw new Error('the token was accepted');
    }
    const reasonOf = async (token: string, over: Partial<PresentedRequest> = {}, audience = AUD) => (await refusal(token, over, audience)).reason;

    it.runIf(enabled)('accepts a well-formed token and maps it to an Actor', async () => {
      const token = await mint({ amr: ['client_secret'] });
      const { claims: verified, actor } = await verifier.verify(request(token), AUD);
      expect(verified.sub).toBe('agent-a');
      expect(actor.principal?.id).toBe('agent-a');
      expect(actor.teamIds).toEqual(['team-a']);
      expect(actor.scope).toEqual(['model:invoke', 'data:read']);
      expect(actor.purpose).toBe('support');
      expect(actor.audience).toEqual([AUD]);
      expect(actor.authMethod).toBe('client_secret');
      expect(actor.binding).toBeNull();
      expect(actor.delegationChain).toEqual([]);
      expect(actor.role).toBeNull();
      expect(actor.credential).toEqual({
        id: verified.jti, kind: 'access_token',
        issuedAt: new Date(verified.iat * 1000).toISOString(), expiresAt: new Date(verified.exp * 1000).toISOString(),
      });
      expect(revocationCalls).toEqual([{ jti: verified.jti, principalId: 'agent-a', actChain: [], issuedAt: verified.iat, credentialId: null }]);
    });

    it.runIf(enabled)('alg none in any spelling is unsupported_alg, with an empty signature or any other', async () => {
      const key = await store.current();
      for (const alg of ['none', 'NONE', 'nOnE', 'None']) {
        const unsigned = `${enc({ alg, kid: key.kid, typ: 'at+jwt' })}.${enc(claims())}`;
        expect(await reasonOf(`${unsigned}.`), alg).toBe('unsupported_alg');
        expect(await reasonOf(`${unsigned}.${base64url.encode(crypto.randomBytes(64))}`), alg).toBe('unsupported_alg');
      }
      const noAlg = `${enc({ kid: key.kid, typ: 'at+jwt' })}.${enc(claims())}.${base64url.encode(crypto.randomBytes(64))}`;
      expect(await reasonOf(noAlg)).toBe('unsupported_alg');
    });

    it.runIf(enabled)('HS256 keyed with our public key (raw, JWK or PEM) and RS256 are unsupported_alg; the key decides the algorithm', async () => {
      const key = await store.current();
      const publicKey = (await store.verificationKey(key.kid))!.publicKey;
      const jwk = publicKey.export({ format: 'jwk' }) as JWK;
      const secrets = [
        base64url.decode(jwk.x!),
        new TextEncoder().encode(JSON.stringify(jwk)),
        new TextEncoder().encode(publicKey.export({ type: 'spki', format: 'pem' }) as string),
      ];
      for (const secret of secrets) {
        for (const alg of ['HS256', 'HS384', 'HS512']) {
          const forged = await new SignJWT({ ...claims() }).setProtectedHeader({ alg, kid: key.kid, typ: 'at+jwt' }).sign(secret);
          expect(await reasonOf(forged), alg).toBe('unsupported_alg');
        }
      }
      const rsa = await generateKeyPair('RS256');
      expect(await reasonOf(await new SignJWT({ ...claims() }).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'at+jwt' }).sign(rsa.privateKey))).toBe('unsupported_alg');
      // ES256 is an algorithm we sign with, but not this key's: the header does not get to choose.
      const ec = await generateKeyPair('ES256');
      expect(await reasonOf(await new SignJWT({ ...claims() }).setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' }).sign(ec.privateKey))).toBe('unsupported_alg');
    });

    it.runIf(enabled)('an unknown kid, a missing kid, and our kid over another key\'s signature are refused', async () => {
      const stranger = await generateKeyPair('EdDSA');
      const strangerKid = 'a'.repeat(43);
      const unknown = await new SignJWT({ ...claims() }).setProtectedHeader({ alg: 'EdDSA', kid: strangerKid, typ: 'at+jwt' }).sign(stranger.privateKey);
      expect(await reasonOf(unknown)).toBe('unknown_kid');
      const key = await store.current();
      const noKid = await new SignJWT({ ...claims() }).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' }).sign(key.privateKey);
      expect(await reasonOf(noKid)).toBe('unknown_kid');
      const ours = await new SignJWT({ ...claims() }).setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' }).sign(stranger.privateKey);
      expect(await reasonOf(ours)).toBe('bad_signature');
    });

    it.runIf(enabled)('jku, x5u, x5c, jwk and crit headers are forbidden_header, and nothing is fetched', async () => {
      let hits = 0;
      const server = http.createServer((_req, res) => { hits++; res.setHeader('content-type', 'application/json'); res.end('{"keys":[]}'); });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const target = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      try {
        const attacker = await generateKeyPair('EdDSA');
        const attackerJwk = await exportJWK(attacker.publicKey);
        expect(await reasonOf(await mint({}, { jku: `${target}/jwks.json` }))).toBe('forbidden_header');
        expect(await reasonOf(await mint({}, { x5u: `${target}/cert.pem` }))).toBe('forbidden_header');
        expect(await reasonOf(await mint({}, { x5c: [base64url.encode(crypto.randomBytes(300)).replace(/[-_]/g, 'A')] }))).toBe('forbidden_header');
        expect(await reasonOf(await mint({}, { jwk: attackerJwk }))).toBe('forbidden_header');
        // The classic: a header that brings its own key, signed by that key, naming our kid.
        const selfSigned = await new SignJWT({ ...claims() })
          .setProtectedHeader({ alg: 'EdDSA', kid: (await store.current()).kid, typ: 'at+jwt', jwk: attackerJwk, jku: `${target}/jwks.json` })
          .sign(attacker.privateKey);
        expect(await reasonOf(selfSigned)).toBe('forbidden_header');
        expect(await reasonOf(await mint({}, { crit: ['custos-ext'], 'custos-ext': 1 }, { 'custos-ext': true }))).toBe('forbidden_header');
        // A DPoP proof carries its key in `jwk`: presented as an access token it is refused before its type is read.
        expect(await reasonOf(await mint({}, { typ: 'dpop+jwt', jwk: attackerJwk }))).toBe('forbidden_header');
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(hits).toBe(0);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it.runIf(enabled)('a tampered payload or header, a truncated or empty signature are bad_signature', async () => {
      const token = await mint();
      const [h, p, s] = token.split('.') as [string, string, string];
      const payload = JSON.parse(new TextDecoder().decode(base64url.decode(p)));
      expect(await reasonOf(`${h}.${enc({ ...payload, sub: 'agent-b' })}.${s}`)).toBe('bad_signature');
      expect(await reasonOf(`${h}.${enc({ ...payload, scope: 'admin' })}.${s}`)).toBe('bad_signature');
      const header = JSON.parse(new TextDecoder().decode(base64url.decode(h)));
      expect(await reasonOf(`${enc({ ...header, typ: 'application/at+jwt' })}.${p}.${s}`)).toBe('bad_signature');
      expect(await reasonOf(`${h}.${p}.${s.slice(0, -4)}`)).toBe('bad_signature');
      expect(await reasonOf(`${h}.${p}.${s.slice(0, -1)}`)).toBe('bad_signature');
      expect(await reasonOf(`${h}.${p}.${s.slice(0, 10)}`)).toBe('bad_signature');
      expect(await reasonOf(`${h}.${p}.`)).toBe('bad_signature');
      // Flipping one bit of the signature.
      const sig = base64url.decode(s);
      sig[5]! ^= 1;
      expect(await reasonOf(`${h}.${p}.${base64url.encode(sig)}`)).toBe('bad_signature');
      // The untouched token still verifies.
      await expect(verifier.verify(request(token), AUD)).resolves.toBeTruthy();
    });

    it.runIf(enabled)('anything but three base64url segments with a UTF-8 JSON header is malformed_token', async () => {
      const token = await mint();
      const [h, p, s] = token.split('.') as [string, string, string];
      const key = await store.current();
      const rawHeader = (bytes: number[]) => `${base64url.encode(Uint8Array.from(bytes))}.${p}.${s}`;
      const kidBytes = [...new TextEncoder().encode(`{"alg":"EdDSA","typ":"at+jwt","kid":"${key.kid}","x":"`)];
      const cases: Record<string, string> = {
        'four segments': `${token}.${s}`,
        'five segments (JWE-shaped)': `${h}.${p}.${s}.${s}.${s}`,
        'two segments': `${h}.${p}`,
        'one segment': h,
        'empty': '',
        'empty header': `.${p}.${s}`,
        'empty payload': `${h}..${s}`,
        'padding': `${h}=.${p}.${s}`,
        'standard base64 characters': `${h}.${p}.${s.slice(0, -2)}+/`,
        'whitespace': ` ${token}`,
        'invalid UTF-8 in the header (0xff 0xfe)': rawHeader([...kidBytes, 0xff, 0xfe, 0x22, 0x7d]),
        'overlong UTF-8 in the header (0xc0 0xaf)': rawHeader([...kidBytes, 0xc0, 0xaf, 0x22, 0x7d]),
        'a UTF-8-encoded surrogate in the header': rawHeader([...kidBytes, 0xed, 0xa0, 0x80, 0x22, 0x7d]),
        'a header that is not JSON': `${enc('alg=EdDSA')}.${p}.${s}`,
        'a header that is a JSON array': `${enc([{ alg: 'EdDSA', kid: key.kid }])}.${p}.${s}`,
        'a header that is JSON null': `${enc('null')}.${p}.${s}`,
        'too long': `${h}.${enc({ pad: 'x'.repeat(9000) })}.${s}`,
      };
      for (const [name, bad] of Object.entries(cases)) expect(await reasonOf(bad), name).toBe('malformed_token');
    });

    it.runIf(enabled)('a payload that is not a JSON object of the right shapes is malformed_token (after its signature)', async () => {
      const key = await store.current();
      const signRaw = (payload: string) => new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' }).sign(key.privateKey);
      expect(await reasonOf(await signRaw('[1,2]'))).toBe('malformed_token');
      expect(await reasonOf(await signRaw('not json'))).toBe('malformed_token');
      expect(await reasonOf(await mint({ exp: 'tomorrow' }))).toBe('malformed_token');
      expect(await reasonOf(await mint({ exp: 1e300 }))).toBe('malformed_token');
      expect(await reasonOf(await mint({ iat: 1.5 }))).toBe('malformed_token');
      expect(await reasonOf(await mint({ aud: [] }))).toBe('malformed_token');
      expect(await reasonOf(await mint({ aud: [AUD, 7] }))).toBe('malformed_token');
      expect(await reasonOf(await mint({ sub: '' }))).toBe('malformed_token');
      expect(await reasonOf(await mint({ scope: ['model:invoke'] }))).toBe('malformed_token');
      expect(await reasonOf(await mint({ cnf: { jkt: 5 } }))).toBe('malformed_token');
      expect(await reasonOf(await mint({ act: { sub: 7 } }))).toBe('malformed_token');
      let deep: Record<string, unknown> = { sub: 'agent-b' };
      for (let i = 0; i < 20; i++) deep = { sub: 'agent-b', act: deep };
      expect(await reasonOf(await mint({ act: deep }))).toBe('malformed_token');
      const refused = await refusal(await mint({ jti: 'the-jti', exp: 'tomorrow' }));
      expect(refused.credentialId).toBe('the-jti');
    });

    it.runIf(enabled)('wrong typ, an ID token and a DPoP proof presented as access tokens are wrong_typ; at+jwt is case-insensitive', async () => {
      expect(await reasonOf(await mint({}, { typ: 'JWT' }))).toBe('wrong_typ');
      expect(await reasonOf(await mint({}, { typ: 'dpop+jwt' }))).toBe('wrong_typ');
      expect(await reasonOf(await mint({}, { typ: 'at+jwt; charset=utf-8' }))).toBe('wrong_typ');
      expect(await reasonOf(await mint({}, { typ: undefined }))).toBe('wrong_typ');
      const key = await store.current();
      const now = nowSec();
      const idToken = await new SignJWT({ iss: ISSUER, sub: 'agent-a', aud: AUD, nonce: 'n-0S6_WzA2Mj', auth_time: now, iat: now, exp: now + 600, jti: 'id-1', client_id: 'agent-a' })
        .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
      expect(await reasonOf(idToken)).toBe('wrong_typ');
      const untyped = await new SignJWT({ ...claims() }).setProtectedHeader({ alg: 'EdDSA', kid: key.kid }).sign(key.privateKey);
      expect(await reasonOf(untyped)).toBe('wrong_typ');
      for (const typ of ['AT+JWT', 'application/at+jwt', 'Application/AT+JWT']) {
        await expect(verifier.verify(request(await mint({}, { typ })), AUD), typ).resolves.toBeTruthy();
      }
    });

    it.runIf(enabled)('wrong aud, wrong iss and each missing required claim are refused with their reasons', async () => {
      expect(await reasonOf(await mint({ aud: ['https://other.test/'] }))).toBe('wrong_audience');
      expect(await reasonOf(await mint({ aud: 'https://other.test/' }))).toBe('wrong_audience');
      expect(await reasonOf(await mint(), {}, 'https://api.test/v1/chat/')).toBe('wrong_audience');
      await expect(verifier.verify(request(await mint({ aud: AUD })), AUD)).resolves.toBeTruthy();
      await expect(verifier.verify(request(await mint({ aud: ['x', AUD] })), AUD)).resolves.toBeTruthy();
      expect(await reasonOf(await mint({ iss: 'https://evil.test' }))).toBe('wrong_issuer');
      expect(await reasonOf(await mint({ iss: `${ISSUER}/` }))).toBe('wrong_issuer');
      for (const name of ['iss', 'sub', 'aud', 'client_id', 'jti', 'iat', 'exp']) {
        const refused = await refusal(await mint({ [name]: undefined }));
        expect([name, refused.reason]).toEqual([name, 'missing_claim']);
      }
    });

    it.runIf(enabled)('exp and nbf one second outside the leeway are refused, one second inside accepted; iat from the future is refused', async () => {
      const now = nowSec();
      expect(await reasonOf(await mint({ iat: now - 700, exp: now - LEEWAY - 1 }))).toBe('expired');
      expect(await reasonOf(await mint({ iat: now - 700, exp: now - LEEWAY }))).toBe('expired');
      await expect(verifier.verify(request(await mint({ iat: now - 700, exp: now - LEEWAY + 1 })), AUD)).resolves.toBeTruthy();
      expect(await reasonOf(await mint({ nbf: now + LEEWAY + 1 }))).toBe('not_yet_valid');
      await expect(verifier.verify(request(await mint({ nbf: now + LEEWAY })), AUD)).resolves.toBeTruthy();
      await expect(verifier.verify(request(await mint({ nbf: now + LEEWAY - 1 })), AUD)).resolves.toBeTruthy();
      expect(await reasonOf(await mint({ iat: now + LEEWAY + 1, exp: now + 900 }))).toBe('not_yet_valid');
      await expect(verifier.verify(request(await mint({ iat: now + LEEWAY - 1, exp: now + 900 })), AUD)).resolves.toBeTruthy();
      // The leeway is 30 seconds at most.
      expect(() => createAccessTokenVerifier({ keys: store, issuer: ISSUER, clock, revocations, dpop, principals, leewaySeconds: 31 })).toThrow(RangeError);
      const strict = createAccessTokenVerifier({ keys: store, issuer: ISSUER, clock, revocations, dpop, principals, leewaySeconds: 0 });
      expect((await refusal(await mint({ iat: now - 700, exp: now }), {}, AUD, strict)).reason).toBe('expired');
      await expect(strict.verify(request(await mint({ iat: now - 700, exp: now + 1 })), AUD)).resolves.toBeTruthy();
    });

    it.runIf(enabled)('a revoked token, or one whose principal or delegation ancestor is revoked, is refused with its jti', async () => {
      const token = await mint({ jti: 'jti-revoked' });
      await expect(verifier.verify(request(token), AUD)).resolves.toBeTruthy();
      revokedJtis.add('jti-revoked');
      const refused = await refusal(token);
      expect([refused.reason, refused.credentialId]).toEqual(['revoked', 'jti-revoked']);
      const delegated = await mint({ act: { sub: 'agent-c', act: { sub: 'agent-b' } } });
      await expect(verifier.verify(request(delegated), AUD)).resolves.toBeTruthy();
      revokedPrincipals.add('agent-b');
      expect(await reasonOf(delegated)).toBe('revoked');
      expect(revocationCalls.at(-1)!.actChain).toEqual(['agent-c', 'agent-b']);
    });

    it.runIf(enabled)('a suspended or unknown subject or actor is refused', async () => {
      expect(await reasonOf(await mint({ sub: 'agent-s', client_id: 'agent-s' }))).toBe('principal_not_active');
      expect(await reasonOf(await mint({ sub: 'agent-gone', client_id: 'agent-gone' }))).toBe('unknown_principal');
      expect(await reasonOf(await mint({ act: { sub: 'agent-s' } }))).toBe('principal_not_active');
      expect(await reasonOf(await mint({ act: { sub: 'agent-c', act: { sub: 'agent-gone' } } }))).toBe('unknown_principal');
    });

    it.runIf(enabled)('DPoP: a bound token sent as Bearer is dpop_required; with a valid proof accepted; an unbound one with the DPoP scheme refused', async () => {
      const jkt = 'jkt-of-the-client-key';
      const bound = await mint({ cnf: { jkt } });
      expect(await reasonOf(bound)).toBe('dpop_required');
      expect(await reasonOf(bound, { dpopProofs: ['good-proof'] })).toBe('dpop_required');
      expect(dpopCalls).toEqual([]);
      const { actor } = await verifier.verify(request(bound, { scheme: 'dpop', dpopProofs: ['good-proof'] }), AUD);
      expect(actor.binding).toEqual({ method: 'dpop', thumbprint: jkt });
      expect(dpopCalls).toEqual([{ proofs: ['good-proof'], method: 'POST', url: AUD, accessToken: bound, expectedJkt: jkt }]);
      const bad = await refusal(bound, { scheme: 'dpop', dpopProofs: ['bad-proof'] });
      expect(bad.reason).toBe('dpop_invalid');
      expect(bad.credentialId).toBe((await verifier.verify(request(bound, { scheme: 'dpop', dpopProofs: ['good-proof'] }), AUD)).claims.jti);
      expect(await reasonOf(bound, { scheme: 'dpop', dpopProofs: ['good-proof', 'good-proof'] })).toBe('dpop_invalid');
      expect(await reasonOf(bound, { scheme: 'dpop', dpopProofs: ['proof-by-another-key'] })).toBe('dpop_invalid');
      expect(await reasonOf(await mint(), { scheme: 'dpop', dpopProofs: ['good-proof'] })).toBe('dpop_invalid');
    });

    it.runIf(enabled)('a delegated token is the current actor acting for the chain (RFC 8693 §4.1)', async () => {
      const token = await mint({ sub: 'agent-a', client_id: 'agent-c', act: { sub: 'agent-c', act: { sub: 'agent-b' } }, amr: ['federated'], scope: 'model:invoke', aud: [AUD, 'urn:custos:resource:x'] });
      const { actor, claims: verified } = await verifier.verify(request(token), AUD);
      expect(actor.principal?.id).toBe('agent-c');
      expect(actor.delegationChain).toEqual([{ principalId: 'agent-a', principalName: 'name-of-agent-a' }, { principalId: 'agent-b', principalName: 'name-of-agent-b' }]);
      expect(actor.teamIds).toEqual(['team-c1', 'team-c2']);
      expect(actor.authMethod).toBe('federated');
      expect(actor.scope).toEqual(['model:invoke']);
      expect(actor.audience).toEqual([AUD, 'urn:custos:resource:x']);
      expect(actor.credential?.id).toBe(verified.jti);
      // Three hops: A delegated to B, B to C, C to D; D acts, for A, B and C in that order.
      const deep = await verifier.verify(request(await mint({ act: { sub: 'agent-d', act: { sub: 'agent-c', act: { sub: 'agent-b' } } } })), AUD);
      expect([deep.actor.principal?.id, deep.actor.delegationChain.map((l) => l.principalId)]).toEqual(['agent-d', ['agent-a', 'agent-b', 'agent-c']]);
      const once = await verifier.verify(request(await mint({ act: { sub: 'agent-b' } })), AUD);
      expect([once.actor.principal?.id, once.actor.delegationChain.map((l) => l.principalId)]).toEqual(['agent-b', ['agent-a']]);
      // amr values that are not an AuthMethod a token may carry fall back to private_key_jwt: never the server's own
      // (system, cli_local). A person who signed in with an operator token keeps saying so (operator_token).
      expect((await verifier.verify(request(await mint({ amr: ['operator_token'] })), AUD)).actor.authMethod).toBe('operator_token');
      for (const amr of [['pwd'], ['system'], ['cli_local'], [], undefined]) {
        expect((await verifier.verify(request(await mint({ amr })), AUD)).actor.authMethod, JSON.stringify(amr)).toBe('private_key_jwt');
      }
    });

    it.runIf(enabled)('a revocation list that cannot be read fails closed: 503, cached or not, never an accepted token', async () => {
      const cache = createVerifiedCache();
      let readable = true;
      const flaky = { ...revocations, health: () => (readable ? { ok: true } : { ok: false, detail: 'down' }) };
      const guarded = createAccessTokenVerifier({ keys: store, issuer: ISSUER, clock, revocations: flaky, dpop, principals, cache });
      const token = await mint();
      await expect(guarded.verify(request(token), AUD)).resolves.toBeTruthy();
      readable = false;
      await expect(guarded.verify(request(token), AUD)).rejects.toMatchObject({ code: 'store_unavailable', status: 503 });
      await expect(guarded.verify(request(await mint()), AUD)).rejects.toMatchObject({ code: 'store_unavailable' });
      readable = true;
      await expect(guarded.verify(request(token), AUD)).resolves.toBeTruthy();
    });

    it.runIf(enabled)('the verified-token cache skips the signature but never revocation, lifetime, audience, binding or a retired key', async () => {
      const cache = createVerifiedCache();
      let swapped: VerificationKey | undefined;
      // A key store that, once swapped, answers a different public key for our kid: a full check would now fail.
      const keysView: SigningKeyStore = { ...store, verificationKey: async (kid) => (swapped && kid === swapped.kid ? swapped : store.verificationKey(kid)) };
      const cached = createAccessTokenVerifier({ keys: keysView, issuer: ISSUER, clock, revocations, dpop, principals, cache });
      const start = nowSec();
      const token = await mint({ jti: 'jti-cached', iat: start, exp: start + 120 });
      const bound = await mint({ cnf: { jkt: 'jkt-1' }, iat: start, exp: start + 120 });
      await cached.verify(request(token), AUD);
      await cached.verify(request(bound, { scheme: 'dpop', dpopProofs: ['good-proof'] }), AUD);
      expect(cache.size).toBe(2);
      const other = await generateKeyPair('EdDSA', { extractable: true });
      const kid = (await store.current()).kid;
      swapped = { kid, alg: 'EdDSA', publicKey: crypto.KeyObject.from(other.publicKey as crypto.webcrypto.CryptoKey) };
      await expect(cached.verify(request(token), AUD)).resolves.toBeTruthy();
      expect((await refusal(await mint(), {}, AUD, cached)).reason).toBe('bad_signature');
      swapped = undefined;

      // The principals lookup rides along for 30 seconds, then is done again.
      lookups = 0;
      await cached.verify(request(token), AUD);
      expect(lookups).toBe(0);
      clock.advance(30_000);
      await cached.verify(request(token), AUD);
      expect(lookups).toBe(1);

      // Cheap checks still run on a hit.
      expect((await refusal(token, {}, 'https://other.test/', cached)).reason).toBe('wrong_audience');
      expect((await refusal(bound, {}, AUD, cached)).reason).toBe('dpop_required');
      expect((await refusal(bound, { scheme: 'dpop', dpopProofs: ['bad-proof'] }, AUD, cached)).reason).toBe('dpop_invalid');
      revokedJtis.add('jti-cached');
      expect((await refusal(token, {}, AUD, cached)).reason).toBe('revoked');
      revokedJtis.clear();
      await expect(cached.verify(request(token), AUD)).resolves.toBeTruthy();
      clock.set(new Date((start + 120 + LEEWAY) * 1000));
      expect((await refusal(token, {}, AUD, cached)).reason).toBe('expired');
      expect(cache.get(token)).toBeUndefined();
    });

    it.runIf(enabled)('the issued-token inspector (token exchange, introspection) checks all but audience and binding', async () => {
      const inspect = createIssuedTokenInspector({ keys: store, issuer: () => ISSUER, clock, revocations, dpop, principals });
      const now = nowSec();
      const bound = await mint({ aud: ['https://elsewhere.test/'], cnf: { jkt: 'jkt-1' }, jti: 'jti-inspected' });
      expect((await inspect(bound)).jti).toBe('jti-inspected');
      expect(dpopCalls).toEqual([]);
      const reason = async (token: string) => {
        try { await inspect(token); } catch (error) { if (error instanceof CredentialRejected) return error.reason; throw error; }
        return 'accepted';
      };
      expect(await reason(await mint({ iat: now - 700, exp: now - LEEWAY }))).toBe('expired');
      expect(await reason(await mint({ sub: 'agent-s' }))).toBe('principal_not_active');
      expect(await reason(await mint({ iss: 'https://evil.test' }))).toBe('wrong_issuer');
      expect(await reason(await mint({}, { typ: 'JWT' }))).toBe('wrong_typ');
      expect(await reason(`${bound}x`)).toBe('bad_signature');
      revokedJtis.add('jti-inspected');
      expect(await reason(bound)).toBe('revoked');
      // The issuer may be read at each verification.
      let issuer = ISSUER;
      const moving = createAccessTokenVerifier({ keys: store, issuer: () => issuer, clock, revocations, dpop, principals, cache: createVerifiedCache() });
      const token = await mint();
      await expect(moving.verify(request(token), AUD)).resolves.toBeTruthy();
      issuer = 'https://moved.test';
      expect((await refusal(token, {}, AUD, moving)).reason).toBe('wrong_issuer');
    });

    // Last: it rotates the store's key.
    it.runIf(enabled)('key rotation keeps old tokens valid until they expire and no longer; a retired key verifies nothing, cached or not', async () => {
      const cache = createVerifiedCache();
      const cached = createAccessTokenVerifier({ keys: store, issuer: ISSUER, clock, revocations, dpop, principals, cache });
      const t0 = nowSec();
      const oldKid = (await store.current()).kid;
      const old = await mint({ iat: t0, exp: t0 + 3600 });
      // Signed by the old key with a lifetime longer than any we issue: only the key's retirement stops it.
      const overlong = await mint({ iat: t0, exp: t0 + 10 * 86_400 });
      await cached.verify(request(overlong), AUD);
      clock.advance(10_000);
      const { kid: newKid } = await store.rotate(systemActor('background'), 'matrix');
      expect((await store.current()).kid).toBe(newKid);
      const fresh = await mint();
      expect(fresh.split('.')[0]).not.toBe(old.split('.')[0]);
      await expect(verifier.verify(request(old), AUD)).resolves.toBeTruthy();
      await expect(verifier.verify(request(fresh), AUD)).resolves.toBeTruthy();
      expect((await store.jwks()).keys.map((k) => k.kid)).toEqual([newKid, oldKid]);
      clock.set(new Date((t0 + 3600 + LEEWAY - 1) * 1000));
      await expect(verifier.verify(request(old), AUD)).resolves.toBeTruthy();
      clock.advance(1000);
      expect(await reasonOf(old)).toBe('expired');
      // verify_until = rotation + 3600 + 30 seconds: the old key verifies up to it, not at it.
      const verifyUntil = (t0 + 10 + 3600 + LEEWAY) * 1000;
      clock.set(new Date(verifyUntil - 1000));
      await expect(cached.verify(request(overlong), AUD)).resolves.toBeTruthy();
      clock.set(new Date(verifyUntil));
      expect((await refusal(overlong, {}, AUD, cached)).reason).toBe('unknown_kid');
      expect(cache.get(overlong)).toBeUndefined();
      await store.maintain();
      expect(await reasonOf(overlong)).toBe('unknown_kid');
      expect((await store.jwks()).keys.map((k) => k.kid)).toEqual([newKid]);
      await expect(verifier.verify(request(await mint()), AUD)).resolves.toBeTruthy();
    });
  });
}
