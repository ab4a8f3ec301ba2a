import { KeyObject, type webcrypto } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { AuditWriter } from '../audit/index.js';
import { systemActor, type Actor } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import { AppError } from '../platform/http/errors.js';
import type { KeyRing } from '../platform/keys.js';
import type { Database, Trx, WriteBatch } from '../platform/store/db.js';
import type { SigningKeysTable } from '../platform/store/schema.js';
import type { SigningAlg, SigningKey, SigningKeyStore, VerificationKey } from './contracts.js';
import * as repo from './signing-keys.repo.js';
import type { SigningKeyView } from './signing-keys.schemas.js';

// The keys access tokens are signed with, and the JWKS that publishes their public halves.
//
// Rules:
// - Ed25519 ('EdDSA') by default, ES256 selectable. The private JWK is sealed with the master key under the
//   context `signing-key:<kid>` (a sealed value cannot be moved to another row); the public JWK is in clear.
//   kid = the RFC 7638 SHA-256 thumbprint of the public JWK.
// - One active key signs. It is due at rotate_at = created_at + rotationDays; current() and maintain() rotate a
//   due key. Rotation makes a new active key and turns the old one 'retiring' with verify_until = now +
//   maxTokenLifetimeSeconds + leeway: every token it signed has expired by then, so until then it still
//   verifies and is still published. maintain() retires keys past verify_until ('retired': gone from the JWKS
//   and verificationKey answers undefined — also before maintain() ran, since verify_until is read against the clock).
// - Rotation runs inside db.write and reads the active key again inside the transaction: when another node
//   rotated first (PostgreSQL writers are serialised by the store's advisory lock), an automatic rotation finds a
//   key that is not due and does nothing. A forced rotation always rotates.
// - Keys are kept in memory. The store is read again at most once a second: when an unknown kid is asked for
//   (so a key another node created appears), and by current() and jwks() (so another node's rotation is seen
//   before this node signs with a key that is retiring elsewhere). Everything is timed by the injected clock.
// - Audited: credential.signing_key.created (credential.issue), .rotated and .retired (credential.rotate);
//   automatic changes by systemActor('background'). No event or error carries key material.

const RELOAD_INTERVAL_MS = 1000;
const DAY_MS = 86_400_000;
const DEFAULT_LEEWAY_SECONDS = 30;

export interface SigningKeyStoreDeps {
  db: Database;
  keys: KeyRing;
  audit: AuditWriter;
  clock: Clock;
  alg: SigningAlg;
  rotationDays: number;
  /** The longest any access token lives (seconds): a retiring key verifies this long, plus the leeway. */
  maxTokenLifetimeSeconds: number;
  leewaySeconds?: number;
}

interface LoadedKey {
  row: SigningKeysTable;
  publicJwk: JWK;
  verification: VerificationKey;
  signing?: SigningKey;
}

/** The sealing context of a key's private half. */
export const signingKeyContext = (kid: string) => `signing-key:${kid}`;

export function createSigningKeyStore(deps: SigningKeyStoreDeps) {
  const { db, keys, audit, clock } = deps;
  const leeway = deps.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  if (!Number.isInteger(deps.rotationDays) || deps.rotationDays < 1) throw new RangeError('rotationDays must be a positive integer');
  if (!(deps.maxTokenLifetimeSeconds > 0)) throw new RangeError('maxTokenLifetimeSeconds must be positive');

  let loaded = new Map<string, LoadedKey>();
  let retired = new Set<string>();
  let lastLoadMs = Number.NEGATIVE_INFINITY;
  let inflight: Promise<void> | undefined;
  let rotating: Promise<void> | undefined;

  const nowMs = () => clock.now().getTime();

  function isLive(k: LoadedKey, at: number): boolean {
    if (k.row.status === 'active') return true;
    return k.row.status === 'retiring' && k.row.verify_until !== null && at < Date.parse(k.row.verify_until);
  }

  function activeKey(): LoadedKey | undefined {
    let newest: LoadedKey | undefined;
    for (const k of loaded.values()) {
      if (k.row.status === 'active' && (!newest || k.row.created_at > newest.row.created_at)) newest = k;
    }
    return newest;
  }

  async function doLoad(): Promise<void> {
    lastLoadMs = nowMs();
    const rows = await repo.listKeys(db.kysely);
    const next = new Map<string, LoadedKey>();
    const gone = new Set<string>();
    for (const row of rows) {
      if (row.status === 'retired') { gone.add(row.kid); continue; }
      const known = loaded.get(row.kid);
      if (known) { next.set(row.kid, { ...known, row }); continue; }
      const publicJwk = JSON.parse(row.public_jwk) as JWK;
      const publicKey = KeyObject.from(await importJWK(publicJwk, row.alg) as webcrypto.CryptoKey);
      next.set(row.kid, { row, publicJwk, verification: { kid: row.kid, alg: row.alg as SigningAlg, publicKey } });
    }
    loaded = next;
    retired = gone;
  }

  /** Reads the store again (after any load already under way, so a write just committed is seen). */
  function reload(): Promise<void> {
    const run = (inflight ?? Promise.resolve()).catch(() => undefined).then(doLoad);
    inflight = run;
    void run.finally(() => { if (inflight === run) inflight = undefined; }).catch(() => undefined);
    return run;
  }

  async function refreshIfStale(): Promise<void> {
    if (inflight) return inflight;
    if (nowMs() - lastLoadMs < RELOAD_INTERVAL_MS) return;
    return reload();
  }

  async function signingKeyOf(k: LoadedKey): Promise<SigningKey> {
    if (k.signing) return k.signing;
    const plain = keys.open(k.row.private_sealed, signingKeyContext(k.row.kid));
    try {
      const jwk = JSON.parse(plain.toString('utf8')) as JWK;
      const privateKey = KeyObject.from(await importJWK(jwk, k.row.alg) as webcrypto.CryptoKey);
      k.signing = { kid: k.row.kid, alg: k.row.alg as SigningAlg, privateKey };
      return k.signing;
    } finally {
      plain.fill(0);
    }
  }

  /** A new key pair, its row (private half sealed) ready to insert. Generated outside any transaction. */
  async function generate(): Promise<{ kid: string; publicJwk: JWK; sealed: string }> {
    const pair = await generateKeyPair(deps.alg, { extractable: true, ...(deps.alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
    const publicJwk = await exportJWK(pair.publicKey);
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
    const plain = Buffer.from(JSON.stringify(await exportJWK(pair.privateKey)), 'utf8');
    try {
      return { kid, publicJwk, sealed: keys.seal(plain, signingKeyContext(kid)) };
    } finally {
      plain.fill(0);
    }
  }

  /**
   * Inside the caller's transaction: unless `force`, does nothing while an active key is not due (another node
   * rotated first). Otherwise inserts the new key and turns every active key retiring. Audited.
   */
  async function rotateIn(trx: Trx, batch: WriteBatch, actor: Actor, fresh: Awaited<ReturnType<typeof generate>>, opts: { force: boolean; reason: string | null }) {
    const now = clock.now();
    const active = await repo.keysWithStatus(trx, 'active');
    if (!opts.force && active.some((r) => Date.parse(r.rotate_at) > now.getTime())) return { rotated: false as const };
    const row: SigningKeysTable = {
      kid: fresh.kid, alg: deps.alg, public_jwk: JSON.stringify(fresh.publicJwk), private_sealed: fresh.sealed, status: 'active',
      created_at: now.toISOString(), rotate_at: new Date(now.getTime() + deps.rotationDays * DAY_MS).toISOString(),
      deactivated_at: null, verify_until: null, retired_at: null,
    };
    await repo.insertKey(trx, row);
    await audit.record(trx, batch, {
      type: 'credential.signing_key.created', action: 'credential.issue', actor,
      target: { type: 'signing_key', id: row.kid, name: null }, outcome: 'success',
      details: { alg: row.alg, rotate_at: row.rotate_at, replaces: active.map((r) => r.kid), reason: opts.reason },
    });
    const verifyUntil = new Date(now.getTime() + (deps.maxTokenLifetimeSeconds + leeway) * 1000).toISOString();
    for (const old of active) {
      await repo.markRetiring(trx, old.kid, now.toISOString(), verifyUntil);
      await audit.record(trx, batch, {
        type: 'credential.signing_key.rotated', action: 'credential.rotate', actor,
        target: { type: 'signing_key', id: old.kid, name: null }, outcome: 'success',
        details: { replaced_by: row.kid, verify_until: verifyUntil, forced: opts.force, reason: opts.reason },
      });
    }
    // The keys this rotation replaced first, then those still retiring from earlier rotations, newest first.
    const replaced = active.map((r) => r.kid);
    const earlier = (await repo.keysWithStatus(trx, 'retiring'))
      .filter((r) => !replaced.includes(r.kid) && r.verify_until !== null && Date.parse(r.verify_until) > now.getTime())
      .sort((a, b) => (a.created_at < b.created_at ? 1 : -1)).map((r) => r.kid);
    const retiring = [...replaced, ...earlier];
    return { rotated: true as const, kid: row.kid, retiring };
  }

  /** An automatic rotation (or the first key), once at a time on this node. */
  function rotateIfDue(): Promise<void> {
    rotating ??= (async () => {
      try {
        const fresh = await generate();
        await db.write((trx, batch) => rotateIn(trx, batch, systemActor('background'), fresh, { force: false, reason: null }));
      } finally {
        await reload().catch(() => undefined);
      }
    })().finally(() => { rotating = undefined; });
    return rotating;
  }

  const isDue = (k: LoadedKey) => Date.parse(k.row.rotate_at) <= nowMs();

  const store = {
    async current(): Promise<SigningKey> {
      await refreshIfStale().catch(() => undefined);
      let active = activeKey();
      if (!active || isDue(active)) {
        try {
          await rotateIfDue();
        } catch (error) {
          // A due key still verifies everywhere: keep signing with it and try again on the next call.
          if (!active) throw new AppError('signing_key_unavailable', 'no token-signing key could be loaded or created', { cause_code: (error as { code?: string }).code ?? null });
        }
        active = activeKey() ?? active;
      }
      if (!active) throw new AppError('signing_key_unavailable', 'no token-signing key could be loaded or created');
      return signingKeyOf(active);
    },

    async verificationKey(kid: string): Promise<VerificationKey | undefined> {
      if (typeof kid !== 'string' || kid.length === 0 || kid.length > 128) return undefined;
      let k = loaded.get(kid);
      if (!k && !retired.has(kid)) {
        // Fails closed: a store that cannot be read leaves the kid unknown.
        await refreshIfStale().catch(() => undefined);
        k = loaded.get(kid);
      }
      return k && isLive(k, nowMs()) ? k.verification : undefined;
    },

    async jwks(): Promise<{ keys: JWK[] }> {
      await refreshIfStale().catch(() => undefined);
      const at = nowMs();
      const live = [...loaded.values()].filter((k) => isLive(k, at))
        .sort((a, b) => (a.row.status !== b.row.status ? (a.row.status === 'active' ? -1 : 1) : a.row.created_at < b.row.created_at ? 1 : -1));
      return { keys: live.map((k) => ({ ...k.publicJwk, kid: k.row.kid, alg: k.row.alg, use: 'sig' })) };
    },

    async rotate(actor: Actor, reason?: string): Promise<{ kid: string; retiring: string[] }> {
      const fresh = await generate();
      try {
        const result = await db.write((trx, batch) => rotateIn(trx, batch, actor, fresh, { force: true, reason: reason ?? null }));
        if (!result.rotated) throw new Error('a forced rotation always rotates');
        return { kid: result.kid, retiring: result.retiring };
      } finally {
        await reload().catch(() => undefined);
      }
    },

    async maintain(): Promise<void> {
      await reload();
      const now = clock.now();
      const due = [...loaded.values()].some((k) => k.row.status === 'retiring' && k.row.verify_until !== null && Date.parse(k.row.verify_until) <= now.getTime());
      if (due) {
        await db.write(async (trx, batch) => {
          for (const row of await repo.keysWithStatus(trx, 'retiring')) {
            if (row.verify_until === null || Date.parse(row.verify_until) > now.getTime()) continue;
            if (!(await repo.markRetired(trx, row.kid, now.toISOString()))) continue;
            await audit.record(trx, batch, {
              type: 'credential.signing_key.retired', action: 'credential.rotate', actor: systemActor('background'),
              target: { type: 'signing_key', id: row.kid, name: null }, outcome: 'success',
              details: { verify_until: row.verify_until },
            });
          }
        });
        await reload();
      }
      const active = activeKey();
      if (!active || isDue(active)) await rotateIfDue();
    },

    /** Every key, newest first (the active one first among keys created at the same instant), for operators (never private material). */
    async list(): Promise<SigningKeyView[]> {
      const rank = { active: 0, retiring: 1, retired: 2 } as const;
      const rows = (await repo.listKeys(db.kysely)).sort((a, b) => (a.created_at !== b.created_at ? (a.created_at < b.created_at ? 1 : -1) : rank[a.status] - rank[b.status]));
      return rows.map((r) => ({
        kid: r.kid, alg: r.alg as SigningAlg, status: r.status, created_at: r.created_at, rotate_at: r.rotate_at,
        deactivated_at: r.deactivated_at, verify_until: r.verify_until, retired_at: r.retired_at,
      }));
    },
  } satisfies SigningKeyStore & { list(): Promise<SigningKeyView[]> };
  return store;
}
export type SigningKeyService = ReturnType<typeof createSigningKeyStore>;
