// In-process token figures (issue 9): access tokens signed per second with the signing-key store's current key,
// and verified per second through createAccessTokenVerifier with every check it runs in production (parse,
// header, key, signature, claims, audience, lifetime, revocation, principals, binding), cold (no cache: every
// token new) and for a token seen before (createVerifiedCache), beside jose's own jwtVerify on the same tokens
// with a local key as a reference line, and node:crypto's one-shot verify of a message of the same size with a
// key of the same type (the floor: the signature check alone, no JOSE at all).
//
// Rules:
// - A real store: createControlPlane on a temp data dir (SQLite, migrated, bootstrapped), a real active agent
//   created through the API, and the credentials parts assembled from the same store and master key the way
//   src/credentials/module.ts assembles them (signing keys, revocation loaded from the store, DPoP verifier,
//   identity's principal-with-teams lookup). So the principal lookup is a real query.
// - Each figure is a closed loop of `inflight` operations for `seconds` (or until the token pool is used up);
//   it reports operations per wall second and per CPU second of this process (all its threads: WebCrypto work
//   runs on libuv's pool), the latter being the "per core" figure.
// - Every verification must succeed: a refusal aborts the bench (a benchmark of failures is no figure).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jwtVerify } from 'jose';
import { createControlPlane } from '../../src/app.js';
import { signAccessToken } from '../../src/credentials/access-token.js';
import type { AccessTokenClaims, AccessTokenVerifier, PresentedRequest, SigningAlg } from '../../src/credentials/contracts.js';
import { createDpopVerifier } from '../../src/credentials/dpop/index.js';
import { LONGEST_TOKEN_SECONDS } from '../../src/credentials/narrowing.js';
import { createReplayStore } from '../../src/credentials/replay-store.js';
import { createRevocationService } from '../../src/credentials/revocation.service.js';
import { createSigningKeyStore } from '../../src/credentials/signing-keys.service.js';
import { createVerifiedCache } from '../../src/credentials/verified-cache.js';
import { createAccessTokenVerifier } from '../../src/credentials/verify/index.js';
import { createIdentityDirectory } from '../../src/identity/index.js';
import { NO_PROVENANCE } from '../../src/platform/actor.js';
import { systemClock } from '../../src/platform/clock.js';
import { loadConfig } from '../../src/platform/config.js';
import { createKeyRing, loadMasterKey } from '../../src/platform/keys.js';
import { createLogger } from '../../src/platform/logger.js';

export const BENCH_ISSUER = 'https://custos.bench.test';

export interface Rate {
  count: number;
  seconds: number;
  per_second: number;
  cpu_seconds: number;
  per_cpu_second: number;
}

/** Runs `op` in a closed loop with `inflight` in flight for `seconds`, or until `limit` operations were started. */
export async function measure(seconds: number, inflight: number, op: (i: number) => Promise<void>, limit = Number.POSITIVE_INFINITY): Promise<Rate> {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const worker = async () => {
    while (next < limit && performance.now() < deadline) await op(next++);
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return { count: next, seconds: wall, per_second: next / wall, cpu_seconds: cpuSeconds, per_cpu_second: next / cpuSeconds };
}

export interface InProcessRun {
  sign: Rate;
  verify_cold: Rate;
  verify_cached: Rate;
  jose_jwt_verify: Rate;
  node_crypto_verify: Rate;
}

export interface InProcessBench {
  run(seconds: number, inflight: number): Promise<InProcessRun>;
  close(): Promise<void>;
}

export async function openInProcessBench(alg: SigningAlg): Promise<InProcessBench> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-bench-tokens-'));
  const dataDir = path.join(root, 'data');
  const cp = await createControlPlane(
    loadConfig({ dataDir, port: '0', logLevel: 'silent', signingAlg: alg }, {}),
    { logger: createLogger('silent') },
  );
  try {
    const admin = cp.bootstrap!.token;
    const call = async (url: string, body: unknown) => {
      const res = await cp.http.inject({ method: 'POST', url, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
      if (res.statusCode !== 201) throw new Error(`POST ${url}: ${res.statusCode} ${res.body}`);
      return JSON.parse(res.body) as { id: string };
    };
    await call('/v1/principals', { name: 'bench-owner', kind: 'human' });
    const agent = await call('/v1/principals', {
      name: 'bench-agent', kind: 'agent', owner: 'bench-owner', status: 'active', scopes: ['models:invoke', 'tools:call'], purposes: ['support'],
    });

    // The credentials parts, from the same store and master key, as module.ts composes them.
    const clock = systemClock;
    const keys = createKeyRing(loadMasterKey(dataDir, undefined)!);
    const { db, audit } = cp;
    const signingKeys = createSigningKeyStore({ db, keys, audit, clock, alg, rotationDays: 30, maxTokenLifetimeSeconds: LONGEST_TOKEN_SECONDS });
    const revocations = createRevocationService({ db, audit, clock, holders: [], maxTokenLifetimeMs: LONGEST_TOKEN_SECONDS * 1000 });
    await revocations.load();
    const dpop = createDpopVerifier({ replay: createReplayStore({ db, clock }), clock, nonceKey: keys.deriveKey('dpop-nonce') });
    const identity = createIdentityDirectory({ db });
    const principals = (id: string) => identity.principalWithTeams(id);
    const base = { keys: signingKeys, issuer: BENCH_ISSUER, clock, revocations, dpop, principals };
    const cold = createAccessTokenVerifier(base);
    const key = await signingKeys.current();
    if (key.alg !== alg) throw new Error(`the store signs with ${key.alg}, not ${alg}`);
    const publicKey = (await signingKeys.verificationKey(key.kid))!.publicKey;
    // The floor: a fresh key pair of the same type, one 300-byte message (about a token's signing input).
    const floor = alg === 'EdDSA' ? crypto.generateKeyPairSync('ed25519') : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const floorDigest = alg === 'EdDSA' ? null : 'sha256';
    const floorMessage = crypto.randomBytes(300);
    const floorSignature = crypto.sign(floorDigest, floorMessage, { key: floor.privateKey, dsaEncoding: 'ieee-p1363' });

    const claimsFor = (): AccessTokenClaims => {
      const now = Math.floor(clock.now().getTime() / 1000);
      return {
        iss: BENCH_ISSUER, sub: agent.id, aud: BENCH_ISSUER, client_id: agent.id, scope: 'models:invoke', purpose: 'support',
        jti: crypto.randomUUID(), iat: now, exp: now + 900, auth_time: now, amr: ['private_key_jwt'],
      };
    };
    const presented = (token: string): PresentedRequest => ({ token, scheme: 'bearer', dpopProofs: [], method: 'GET', url: `${BENCH_ISSUER}/v1/whoami`, provenance: NO_PROVENANCE });
    const verifyOk = async (verifier: AccessTokenVerifier, token: string) => {
      const { claims } = await verifier.verify(presented(token), BENCH_ISSUER);
      if (claims.sub !== agent.id) throw new Error('verified the wrong token');
    };

    return {
      async run(seconds, inflight) {
        // Sign: the current key from the store each time (in memory once loaded), as the token endpoint does.
        const tokens: string[] = [];
        const sign = await measure(seconds, inflight, async () => {
          tokens.push(await signAccessToken(await signingKeys.current(), claimsFor()));
        });
        // Cold: every token new and no cache, so every check runs, the principal lookup a query each time.
        const verifyCold = await measure(seconds, inflight, (i) => verifyOk(cold, tokens[i]!), tokens.length);
        // Reference: jose's jwtVerify on the same tokens, local public key, the same claim checks it offers.
        const joseRef = await measure(seconds, inflight, async (i) => {
          await jwtVerify(tokens[i]!, publicKey, { algorithms: [alg], issuer: BENCH_ISSUER, audience: BENCH_ISSUER, typ: 'at+jwt', clockTolerance: 30 });
        }, tokens.length);
        // Cached: a fresh verifier and cache; 1,000 tokens verified once untimed, then verified again and again.
        const cached = createAccessTokenVerifier({ ...base, cache: createVerifiedCache() });
        const seen = tokens.slice(0, Math.min(1000, tokens.length));
        for (const t of seen) await verifyOk(cached, t);
        const verifyCached = await measure(seconds, inflight, (i) => verifyOk(cached, seen[i % seen.length]!));
        const nodeFloor = await measure(seconds, 1, async () => {
          if (!crypto.verify(floorDigest, floorMessage, { key: floor.publicKey, dsaEncoding: 'ieee-p1363' }, floorSignature)) throw new Error('floor signature');
        });
        return { sign, verify_cold: verifyCold, verify_cached: verifyCached, jose_jwt_verify: joseRef, node_crypto_verify: nodeFloor };
      },
      async close() {
        revocations.stop();
        await cp.close();
        fs.rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await cp.close().catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
    throw error;
  }
}
