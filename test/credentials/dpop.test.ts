import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/platform/clock.js';
import { openDatabase, type Database } from '../../src/platform/store/db.js';
import { migrateToLatest } from '../../src/platform/store/migrations/index.js';
import { CredentialRejected, type DpopCheckInput, type DpopVerifier } from '../../src/credentials/contracts.js';
import { accessTokenHash, createDpopVerifier, NONCE_STEP_SECONDS, requestUrlFor } from '../../src/credentials/dpop/index.js';
import { createReplayStore } from '../../src/credentials/replay-store.js';
import { BACKENDS, freshPostgresDatabase, postgresReachable } from '../support/backends.js';

// The DPoP verifier end to end over the real replay store, on both backends: real keys from jose, proofs as a
// client makes them, and every DPoP refusal of SECURITY-TESTS.md (Tokens). Time is a manual clock.

const URL = 'https://custos.example.com/oauth/token';
const RESOURCE = 'https://custos.example.com/v1/principals';
const START = '2026-01-01T00:00:00.000Z';
const nonceKey = Buffer.alloc(32, 1);

interface ClientKey { alg: 'EdDSA' | 'ES256'; privateKey: CryptoKey; jwk: JWK; jkt: string }

async function clientKey(alg: 'EdDSA' | 'ES256'): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { alg, privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}

const b64 = (value: unknown) => base64url.encode(JSON.stringify(value));

async function expectRefused(verifier: DpopVerifier, input: DpopCheckInput, reason: 'dpop_invalid' | 'dpop_nonce_required', detail: string | RegExp) {
  const error = await verifier.verify(input).then(() => undefined, (e: unknown) => e);
  expect(error, 'the proof was accepted').toBeInstanceOf(CredentialRejected);
  expect((error as CredentialRejected).reason).toBe(reason);
  if (typeof detail === 'string') expect((error as Error).message).toBe(detail);
  else expect((error as Error).message).toMatch(detail);
}

for (const backend of BACKENDS) {
  describe(`DPoP proofs on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let dir: string;
    let url: string | undefined;
    let drop: (() => Promise<void>) | undefined;
    let db: Database;
    const handles: Database[] = [];
    const clock = manualClock(START);
    const nowSeconds = () => clock.now().getTime() / 1000;
    let ed: ClientKey;
    let es: ClientKey;
    let verifier: DpopVerifier;

    /** A proof as a client makes it; a claim or header member set to undefined is left out. */
    const proof = (key: ClientKey, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
      new SignJWT({ jti: crypto.randomUUID(), htm: 'POST', htu: URL, iat: Math.floor(nowSeconds()), ...claims })
        .setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.jwk, ...header } as never)
        .sign(key.privateKey);

    beforeAll(async () => {
      if (!enabled) return;
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-dpop-'));
      const pgdb = backend === 'postgres' ? await freshPostgresDatabase() : undefined;
      url = pgdb?.url;
      drop = pgdb?.drop;
      db = openDatabase({ dataDir: dir, databaseUrl: url });
      handles.push(db);
      await migrateToLatest(db.kysely, db.dialect);
      ed = await clientKey('EdDSA');
      es = await clientKey('ES256');
      verifier = createDpopVerifier({ replay: createReplayStore({ db, clock }), clock, nonceKey });
    });
    afterAll(async () => {
      for (const handle of handles) await handle.close().catch(() => undefined);
      await drop?.();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    describe('accepted', () => {
      it.runIf(enabled)('a token-endpoint proof (no ath) with an EdDSA or an ES256 key, returning the key thumbprint', async () => {
        expect(await verifier.verify({ proofs: [await proof(ed)], method: 'POST', url: URL })).toEqual({ jkt: ed.jkt });
        expect(await verifier.verify({ proofs: [await proof(es)], method: 'POST', url: URL })).toEqual({ jkt: es.jkt });
      });

      it.runIf(enabled)('a resource proof with ath for its token, bound to the token\'s cnf.jkt', async () => {
        const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJl'; // custos:allow (a made-up token)
        for (const key of [ed, es]) {
          const p = await proof(key, { htm: 'GET', htu: RESOURCE, ath: accessTokenHash(token) });
          expect(await verifier.verify({ proofs: [p], method: 'GET', url: RESOURCE, accessToken: token, expectedJkt: key.jkt })).toEqual({ jkt: key.jkt });
        }
      });

      it.runIf(enabled)('an equivalent spelling of the URL: HTTPS://Host:443/path?q is https://host/path', async () => {
        const p = await proof(ed, { htu: 'HTTPS://Custos.Example.COM:443/oauth/token?q=1#f' });
        expect(await verifier.verify({ proofs: [p], method: 'POST', url: URL })).toEqual({ jkt: ed.jkt });
        // The enforcement point's URL comes from the public base URL and the request path.
        const q = await proof(ed, { htu: 'https://custos.example.com/oauth/token' });
        expect(await verifier.verify({ proofs: [q], method: 'POST', url: requestUrlFor('https://custos.example.com/', '/oauth/token?x=1') })).toEqual({ jkt: ed.jkt });
      });

      it.runIf(enabled)('iat at the edges of the window: 60 s old, 5 s ahead', async () => {
        const old = await proof(ed, { iat: nowSeconds() - 60 });
        expect(await verifier.verify({ proofs: [old], method: 'POST', url: URL })).toEqual({ jkt: ed.jkt });
        const ahead = await proof(ed, { iat: nowSeconds() + 5 });
        expect(await verifier.verify({ proofs: [ahead], method: 'POST', url: URL })).toEqual({ jkt: ed.jkt });
      });
    });

    describe('refused (SECURITY-TESTS.md, Tokens: DPoP)', () => {
      it.runIf(enabled)('two DPoP headers, or two proofs in one header', async () => {
        const [a, b] = [await proof(ed), await proof(ed)];
        await expectRefused(verifier, { proofs: [a, b], method: 'POST', url: URL }, 'dpop_invalid', 'more than one DPoP header');
        await expectRefused(verifier, { proofs: [`${a}, ${b}`], method: 'POST', url: URL }, 'dpop_invalid', 'more than one DPoP proof in the DPoP header');
        await expectRefused(verifier, { proofs: [], method: 'POST', url: URL }, 'dpop_invalid', 'no DPoP proof');
        // Neither was consumed by the refusals.
        expect(await verifier.verify({ proofs: [a], method: 'POST', url: URL })).toEqual({ jkt: ed.jkt });
      });

      it.runIf(enabled)('a wrong typ (a JWT, an access token, the media type form)', async () => {
        for (const typ of ['JWT', 'at+jwt', 'application/dpop+jwt', undefined]) {
          await expectRefused(verifier, { proofs: [await proof(ed, {}, { typ })], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof typ is not dpop+jwt');
        }
      });

      it.runIf(enabled)('a symmetric (HS256) proof with its key in jwk', async () => {
        const secret = crypto.randomBytes(32);
        const p = await new SignJWT({ jti: 'hs', htm: 'POST', htu: URL, iat: nowSeconds() })
          .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: base64url.encode(secret) } } as never)
          .sign(secret);
        await expectRefused(verifier, { proofs: [p], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof alg is not an allowed asymmetric algorithm');
      });

      it.runIf(enabled)('alg none in any case, with or without a signature part', async () => {
        const payload = b64({ jti: 'none', htm: 'POST', htu: URL, iat: nowSeconds() });
        for (const alg of ['none', 'None', 'NONE']) {
          const header = b64({ alg, typ: 'dpop+jwt', jwk: ed.jwk });
          await expectRefused(verifier, { proofs: [`${header}.${payload}.`], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof has an empty or non-base64url part');
          await expectRefused(verifier, { proofs: [`${header}.${payload}.c2ln`], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof alg is not an allowed asymmetric algorithm');
        }
      });

      it.runIf(enabled)('a private key in jwk', async () => {
        const privateJwk = await exportJWK(ed.privateKey);
        await expectRefused(verifier, { proofs: [await proof(ed, {}, { jwk: privateJwk })], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof jwk contains private key material');
        const esPrivate = await exportJWK(es.privateKey);
        await expectRefused(verifier, { proofs: [await proof(es, {}, { jwk: esPrivate })], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof jwk contains private key material');
      });

      it.runIf(enabled)('a bad signature: tampered payload, another key\'s signature, a truncated signature', async () => {
        const p = await proof(ed);
        const [h, , s] = p.split('.');
        const tampered = `${h}.${b64({ jti: 'tampered', htm: 'POST', htu: URL, iat: nowSeconds() })}.${s}`;
        await expectRefused(verifier, { proofs: [tampered], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof signature does not verify');
        const other = await clientKey('EdDSA');
        const signedByOther = await proof({ ...other, jwk: ed.jwk });
        await expectRefused(verifier, { proofs: [signedByOther], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof signature does not verify');
        await expectRefused(verifier, { proofs: [p.slice(0, -6)], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof signature does not verify');
        await expectRefused(verifier, { proofs: [`${p}.x`], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof is not a compact JWS (three parts)');
      });

      it.runIf(enabled)('an htm mismatch', async () => {
        await expectRefused(verifier, { proofs: [await proof(ed, { htm: 'GET' })], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof htm does not match the request method');
        await expectRefused(verifier, { proofs: [await proof(ed, { htm: 'post' })], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof htm does not match the request method');
      });

      it.runIf(enabled)('an htu mismatch: another path, another host, another scheme or port', async () => {
        const mismatch = 'DPoP proof htu does not match the request URL';
        for (const htu of ['https://custos.example.com/oauth/revoke', 'https://evil.example.com/oauth/token', 'http://custos.example.com/oauth/token', 'https://custos.example.com:8443/oauth/token']) {
          await expectRefused(verifier, { proofs: [await proof(ed, { htu })], method: 'POST', url: URL }, 'dpop_invalid', mismatch);
        }
      });

      it.runIf(enabled)('a stale iat and a future iat', async () => {
        await expectRefused(verifier, { proofs: [await proof(ed, { iat: nowSeconds() - 61 })], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof iat is too old');
        await expectRefused(verifier, { proofs: [await proof(ed, { iat: nowSeconds() + 6 })], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof iat is in the future');
        // A proof that was fine becomes stale as time passes.
        const p = await proof(ed);
        clock.advance(61_000);
        await expectRefused(verifier, { proofs: [p], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof iat is too old');
      });

      it.runIf(enabled)('a replayed jti, including concurrently and with a new proof reusing the jti', async () => {
        const p = await proof(ed, { jti: 'replay-me' });
        expect(await verifier.verify({ proofs: [p], method: 'POST', url: URL })).toEqual({ jkt: ed.jkt });
        await expectRefused(verifier, { proofs: [p], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof was already used (jti replay)');
        // A freshly signed proof with the same key and jti is a replay too; the same jti under another key is not.
        await expectRefused(verifier, { proofs: [await proof(ed, { jti: 'replay-me', iat: nowSeconds() + 1 })], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof was already used (jti replay)');
        expect(await verifier.verify({ proofs: [await proof(es, { jti: 'replay-me' })], method: 'POST', url: URL })).toEqual({ jkt: es.jkt });
        const racing = await proof(ed);
        const results = await Promise.allSettled(Array.from({ length: 10 }, () => verifier.verify({ proofs: [racing], method: 'POST', url: URL })));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(results.filter((r) => r.status === 'rejected').map((r) => ((r as PromiseRejectedResult).reason as Error).message))
          .toEqual(Array.from({ length: 9 }, () => 'DPoP proof was already used (jti replay)'));
      });

      it.runIf(enabled)('a replayed jti after a restart: a new verifier and store over the same database', async () => {
        const p = await proof(ed);
        expect(await verifier.verify({ proofs: [p], method: 'POST', url: URL })).toEqual({ jkt: ed.jkt });
        const reopened = openDatabase({ dataDir: dir, databaseUrl: url });
        handles.push(reopened);
        const restarted = createDpopVerifier({ replay: createReplayStore({ db: reopened, clock }), clock, nonceKey });
        await expectRefused(restarted, { proofs: [p], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof was already used (jti replay)');
      });

      it.runIf(enabled)('a refused proof consumes nothing: the same proof is accepted on its own request afterwards', async () => {
        const p = await proof(ed, { htm: 'POST' });
        await expectRefused(verifier, { proofs: [p], method: 'PUT', url: URL }, 'dpop_invalid', 'DPoP proof htm does not match the request method');
        await expectRefused(verifier, { proofs: [p], method: 'POST', url: URL, expectedJkt: es.jkt }, 'dpop_invalid', 'DPoP proof key is not the key the token is bound to');
        expect(await verifier.verify({ proofs: [p], method: 'POST', url: URL })).toEqual({ jkt: ed.jkt });
      });

      it.runIf(enabled)('an ath mismatch, an ath missing when a token is given, and an ath sent without a token', async () => {
        const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJl'; // custos:allow (a made-up token)
        const base = { method: 'GET', url: RESOURCE, accessToken: token, expectedJkt: ed.jkt } as const;
        await expectRefused(verifier, { ...base, proofs: [await proof(ed, { htm: 'GET', htu: RESOURCE, ath: accessTokenHash(`${token}x`) })] }, 'dpop_invalid', 'DPoP proof ath does not match the access token');
        await expectRefused(verifier, { ...base, proofs: [await proof(ed, { htm: 'GET', htu: RESOURCE })] }, 'dpop_invalid', 'DPoP proof has no ath for the access token');
        await expectRefused(verifier, { proofs: [await proof(ed, { ath: accessTokenHash(token) })], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof carries ath but no access token accompanies it');
      });

      it.runIf(enabled)('a key other than the token\'s cnf.jkt', async () => {
        const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJl'; // custos:allow (a made-up token)
        const p = await proof(es, { htm: 'GET', htu: RESOURCE, ath: accessTokenHash(token) });
        await expectRefused(verifier, { proofs: [p], method: 'GET', url: RESOURCE, accessToken: token, expectedJkt: ed.jkt }, 'dpop_invalid', 'DPoP proof key is not the key the token is bound to');
      });
    });

    describe('server nonces', () => {
      it.runIf(enabled)('required and missing → dpop_nonce_required; the nonce from nonce() accepted; one two steps old refused', async () => {
        const nonceClock = manualClock(new Date(58_907_520 * NONCE_STEP_SECONDS * 1000)); // the start of a step
        const strict = createDpopVerifier({ replay: createReplayStore({ db, clock: nonceClock }), clock: nonceClock, nonceKey, requireNonce: true });
        const at = () => Math.floor(nonceClock.now().getTime() / 1000);
        await expectRefused(strict, { proofs: [await proof(ed, { iat: at() })], method: 'POST', url: URL }, 'dpop_nonce_required', 'DPoP proof must carry a server nonce');
        const nonce = strict.nonce();
        expect(await strict.verify({ proofs: [await proof(ed, { iat: at(), nonce })], method: 'POST', url: URL })).toEqual({ jkt: ed.jkt });
        nonceClock.advance(NONCE_STEP_SECONDS * 1000); // the previous step's nonce is still good
        expect(await strict.verify({ proofs: [await proof(ed, { iat: at(), nonce })], method: 'POST', url: URL })).toEqual({ jkt: ed.jkt });
        nonceClock.advance(NONCE_STEP_SECONDS * 1000); // two steps on
        await expectRefused(strict, { proofs: [await proof(ed, { iat: at(), nonce })], method: 'POST', url: URL }, 'dpop_nonce_required', 'DPoP proof nonce is not a current server nonce');
        expect(await strict.verify({ proofs: [await proof(ed, { iat: at(), nonce: strict.nonce() })], method: 'POST', url: URL })).toEqual({ jkt: ed.jkt });
      });

      it.runIf(enabled)('not required: no nonce is fine, an unknown nonce still asks for a fresh one, another node\'s nonce is accepted', async () => {
        await expectRefused(verifier, { proofs: [await proof(ed, { nonce: 'not-ours' })], method: 'POST', url: URL }, 'dpop_nonce_required', 'DPoP proof nonce is not a current server nonce');
        const otherNode = createDpopVerifier({ replay: createReplayStore({ db, clock }), clock, nonceKey });
        expect(await verifier.verify({ proofs: [await proof(ed, { nonce: otherNode.nonce() })], method: 'POST', url: URL })).toEqual({ jkt: ed.jkt });
        const otherKey = createDpopVerifier({ replay: createReplayStore({ db, clock }), clock, nonceKey: Buffer.alloc(32, 2) });
        await expectRefused(verifier, { proofs: [await proof(ed, { nonce: otherKey.nonce() })], method: 'POST', url: URL }, 'dpop_nonce_required', /not a current server nonce/);
      });
    });
  });
}

describe('createDpopVerifier configuration', () => {
  const replay = { claimOnce: async () => true, prune: async () => 0 };
  it('refuses a symmetric or unknown algorithm, a bad window and a nonce key that is not 32 bytes', () => {
    const clock = manualClock(START);
    expect(() => createDpopVerifier({ replay, clock, nonceKey, algorithms: ['HS256'] })).toThrow('HS256 is not an asymmetric signature algorithm');
    expect(() => createDpopVerifier({ replay, clock, nonceKey, algorithms: ['none'] })).toThrow('none is not an asymmetric signature algorithm');
    expect(() => createDpopVerifier({ replay, clock, nonceKey, algorithms: [] })).toThrow('at least one');
    expect(() => createDpopVerifier({ replay, clock, nonceKey, windowSeconds: 0 })).toThrow('positive');
    expect(() => createDpopVerifier({ replay, clock, nonceKey: Buffer.alloc(31) })).toThrow('32 bytes');
  });

  it('honours a narrower algorithm list and window', async () => {
    const clock = manualClock(START);
    const verifier = createDpopVerifier({ replay, clock, nonceKey, algorithms: ['ES256'], windowSeconds: 10 });
    const key = await clientKey('EdDSA');
    const es = await clientKey('ES256');
    const iat = clock.now().getTime() / 1000;
    const sign = (k: ClientKey, claims: Record<string, unknown>) =>
      new SignJWT({ jti: crypto.randomUUID(), htm: 'POST', htu: URL, iat, ...claims }).setProtectedHeader({ alg: k.alg, typ: 'dpop+jwt', jwk: k.jwk }).sign(k.privateKey);
    await expectRefused(verifier, { proofs: [await sign(key, {})], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof alg is not an allowed asymmetric algorithm');
    expect(await verifier.verify({ proofs: [await sign(es, { iat: iat - 10 })], method: 'POST', url: URL })).toEqual({ jkt: es.jkt });
    await expectRefused(verifier, { proofs: [await sign(es, { iat: iat - 11 })], method: 'POST', url: URL }, 'dpop_invalid', 'DPoP proof iat is too old');
  });
});
