import { calculateJwkThumbprint, importJWK, type JWK } from 'jose';
import type { Actor } from '../platform/actor.js';
import { AppError, errors } from '../platform/http/errors.js';
import { decodeCursor, pageOf } from '../platform/http/pagination.js';
import type { Trx, WriteBatch } from '../platform/store/db.js';
import type { ClientKeysTable } from '../platform/store/schema.js';
import type { CredentialPrincipal, RegisteredClientKey } from './contracts.js';
import {
  assertMayHoldMaterial, listSubject, mayIssueMaterialTo, mayReadMaterialOf, mayRevokeMaterialOf, principalNotFound, usageThrottle,
  type ClientCredentialDeps, type HeldCredential, FLEET_INVENTORY_LIMIT,
} from './client-material.js';
import * as repo from './client-keys.repo.js';
import type { AddClientKeysInput, ClientKeyView, ListClientKeysQuery, PublicJwk } from './client-keys.schemas.js';

// Public keys a non-human principal registers to authenticate at the token endpoint with private_key_jwt
// (RFC 7523 §2.2): no shared secret exists, so nothing secret is stored. Rules:
// - only public asymmetric signing keys: OKP Ed25519, EC P-256 / P-384, RSA of 2048 to 8192 bits; a key with
//   any private member (d, p, q, dp, dq, qi, oth, k, priv) is refused whole, never stripped and kept;
// - the algorithm is the key's `alg` when it fits the key type and curve, else inferred (Ed25519 → EdDSA,
//   P-256 → ES256, P-384 → ES384, RSA → RS256); the token endpoint verifies with that algorithm only;
// - a key must import (jose importJWK: on the curve, a usable modulus), and one thumbprint (RFC 7638) or one
//   kid is registered once per principal among its active keys;
// - every addition and removal is audited in its transaction; removing a key kills the tokens obtained with it.
// - the token endpoint reads a principal's active keys from memory (activeKeys): the rows are loaded once and
//   kept for KEY_CACHE_MS. An addition or removal on this node drops the principal's entry when its transaction
//   commits, so it counts at once here; a removal on another node sharing the store counts here within
//   KEY_CACHE_MS (the entry is read again after that). Expiry is checked against the clock on every read, so a
//   key stops working at its expires_at to the millisecond whatever the cache holds.

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const;
const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_CURVES: Record<string, { alg: string; bytes: number }> = { 'P-256': { alg: 'ES256', bytes: 32 }, 'P-384': { alg: 'ES384', bytes: 48 } };
export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 8192;
/** How long this node trusts its in-memory copy of a principal's keys (other nodes' removals count within it). */
export const KEY_CACHE_MS = 1_000;
const KEY_CACHE_MAX = 10_000;
const B64URL = /^[A-Za-z0-9_-]+$/;

function invalid(reason: string): AppError {
  return new AppError('invalid_jwk', reason);
}

function b64urlBytes(value: unknown, member: string): Buffer {
  if (typeof value !== 'string' || !B64URL.test(value)) throw invalid(`'${member}' must be a base64url string`);
  return Buffer.from(value, 'base64url');
}

/**
 * Checks that `input` is a public asymmetric signing JWK Custos accepts, and returns its public members and the
 * algorithm assertions signed with it must use. Pure: the cryptographic import is checked by the caller.
 */
export function checkPublicJwk(input: Record<string, unknown>): { jwk: PublicJwk; alg: string } {
  const present = PRIVATE_MEMBERS.filter((m) => m in input);
  if (present.length > 0) throw invalid(`this is a private key (it has ${present.map((m) => `'${m}'`).join(', ')}); register the public key only`);
  if (input.use !== undefined && input.use !== 'sig') throw invalid(`'use' must be 'sig' for a client authentication key`);
  if (input.key_ops !== undefined && !(Array.isArray(input.key_ops) && input.key_ops.every((o) => o === 'verify'))) {
    throw invalid(`'key_ops' may only allow 'verify' on a public key`);
  }
  if (input.kid !== undefined && (typeof input.kid !== 'string' || input.kid.length === 0 || input.kid.length > 200)) throw invalid(`'kid' must be a string of 1-200 characters`);
  const given = input.alg;
  if (given !== undefined && typeof given !== 'string') throw invalid(`'alg' must be a string`);
  const kid = input.kid === undefined ? {} : { kid: input.kid as string };
  const pick = (allowed: string[], inferred: string) => {
    if (given === undefined) return inferred;
    if (!allowed.includes(given)) throw invalid(`'alg' ${given} does not fit this key; use ${allowed.join(' or ')}`);
    return given;
  };

  switch (input.kty) {
    case 'OKP': {
      if (input.crv !== 'Ed25519') throw invalid(`an OKP key must be on Ed25519 (got ${String(input.crv)})`);
      if (b64urlBytes(input.x, 'x').length !== 32) throw invalid(`'x' of an Ed25519 key is 32 bytes`);
      const alg = pick(['EdDSA', 'Ed25519'], 'EdDSA');
      return { jwk: { kty: 'OKP', crv: 'Ed25519', x: input.x as string, ...kid, alg }, alg };
    }
    case 'EC': {
      const curve = typeof input.crv === 'string' ? EC_CURVES[input.crv] : undefined;
      if (!curve) throw invalid(`an EC key must be on P-256 or P-384 (got ${String(input.crv)})`);
      if (b64urlBytes(input.x, 'x').length !== curve.bytes || b64urlBytes(input.y, 'y').length !== curve.bytes) {
        throw invalid(`'x' and 'y' of a ${String(input.crv)} key are ${curve.bytes} bytes each`);
      }
      const alg = pick([curve.alg], curve.alg);
      return { jwk: { kty: 'EC', crv: input.crv as string, x: input.x as string, y: input.y as string, ...kid, alg }, alg };
    }
    case 'RSA': {
      const n = b64urlBytes(input.n, 'n');
      b64urlBytes(input.e, 'e');
      let first = 0;
      while (first < n.length && n[first] === 0) first++;
      const bits = first === n.length ? 0 : (n.length - first - 1) * 8 + (32 - Math.clz32(n[first]!));
      if (bits < MIN_RSA_BITS) throw invalid(`an RSA modulus must be at least ${MIN_RSA_BITS} bits (this one is ${bits})`);
      if (bits > MAX_RSA_BITS) throw invalid(`an RSA modulus must be at most ${MAX_RSA_BITS} bits (this one is ${bits})`);
      const alg = pick(RSA_ALGS, 'RS256');
      return { jwk: { kty: 'RSA', n: input.n as string, e: input.e as string, ...kid, alg }, alg };
    }
    default:
      throw invalid(`kty must be OKP (Ed25519), EC (P-256, P-384) or RSA (got ${JSON.stringify(input.kty)}); symmetric keys are never accepted`);
  }
}

/** checkPublicJwk, then the key must import with its algorithm; returns its RFC 7638 thumbprint too. */
export async function acceptPublicJwk(input: Record<string, unknown>): Promise<{ jwk: PublicJwk; alg: string; thumbprint: string }> {
  const { jwk, alg } = checkPublicJwk(input);
  try {
    await importJWK(jwk as JWK, alg);
  } catch {
    throw invalid(`the key does not import as a ${alg} public key (not a point on the curve, or not a usable RSA key)`);
  }
  return { jwk, alg, thumbprint: await calculateJwkThumbprint(jwk as JWK, 'sha256') };
}

export function createClientKeyService(deps: ClientCredentialDeps) {
  const { db, audit, clock, newId, directory, onCredentialRevoked } = deps;
  const usage = usageThrottle(clock);

  // Active keys by principal: loaded at `loadedAt` (clock ms), each with its expiry (ms, or Infinity).
  type CachedKey = { key: RegisteredClientKey; expiresAt: number };
  const cached = new Map<string, { loadedAt: number; keys: CachedKey[] }>();
  // Bumped by every invalidation: a load that started before one must not store what it read.
  let generation = 0;
  function invalidate(principalId: string): void {
    generation++;
    cached.delete(principalId);
  }

  async function views(rows: ClientKeysTable[], trx?: Trx): Promise<ClientKeyView[]> {
    const names = await directory.principalNames([...new Set(rows.map((r) => r.principal_id))], trx);
    return rows.map((row) => ({
      id: row.id, principal: { id: row.principal_id, name: names.get(row.principal_id) ?? row.principal_id },
      kid: row.kid, alg: row.alg, thumbprint: row.thumbprint, jwk: JSON.parse(row.jwk) as PublicJwk, description: row.description,
      created_at: row.created_at, created_by: row.created_by, expires_at: row.expires_at, removed_at: row.removed_at, last_used_at: row.last_used_at,
    }));
  }

  /** Marks a key removed with its audit event and kills what it obtained; a removed key is left as it is. */
  async function removeRow(trx: Trx, batch: WriteBatch, actor: Actor, row: ClientKeysTable, reason: string, details: Record<string, unknown> = {}): Promise<boolean> {
    if (row.removed_at) return false;
    await repo.markRemoved(trx, row.id, clock.now().toISOString());
    batch.afterCommit(() => invalidate(row.principal_id));
    await audit.record(trx, batch, {
      type: 'credential.client_key.removed', action: 'credential.revoke', actor,
      target: { type: 'client_key', id: row.id, name: null }, outcome: 'success',
      details: { principal_id: row.principal_id, kid: row.kid, thumbprint: row.thumbprint, reason, ...details },
    });
    await onCredentialRevoked(trx, batch, actor, row.id, reason);
    return true;
  }

  /** The key and its principal, when the actor may see it; otherwise 404 as if it did not exist. */
  async function visibleKey(trx: Trx, actor: Actor, id: string): Promise<{ row: ClientKeysTable; principal: CredentialPrincipal }> {
    const row = await repo.findKey(trx, id);
    const principal = row ? await directory.principal(row.principal_id, trx) : undefined;
    if (!row || !principal || !mayReadMaterialOf(actor, principal)) throw errors.notFound('client key', id);
    return { row, principal };
  }

  return {
    /** Registers one key or a JWKS for a principal, all or nothing. */
    async add(actor: Actor, input: AddClientKeysInput): Promise<{ keys: ClientKeyView[] }> {
      const given = (input.jwk ? [input.jwk] : input.jwks?.keys ?? []) as Array<Record<string, unknown>>;
      const accepted: Array<Awaited<ReturnType<typeof acceptPublicJwk>>> = [];
      for (const [i, k] of given.entries()) {
        try {
          accepted.push(await acceptPublicJwk(k));
        } catch (error) {
          if (error instanceof AppError && given.length > 1) throw new AppError(error.code, `keys[${i}]: ${error.message}`);
          throw error;
        }
      }
      const now = clock.now();
      if (input.expires_at !== undefined && new Date(input.expires_at) <= now) {
        throw errors.validation('expires_at must be in the future', [{ location: 'body', path: '/expires_at', message: 'must be in the future' }]);
      }
      const expiresAt = input.expires_at === undefined ? null : new Date(input.expires_at).toISOString();
      return db.write(async (trx, batch) => {
        const p = await directory.principal(input.principal, trx);
        if (!p || !mayReadMaterialOf(actor, p)) throw principalNotFound(input.principal);
        if (!mayIssueMaterialTo(actor, p)) throw errors.forbidden(`you may not register keys for '${p.name}'`);
        assertMayHoldMaterial(p, 'client keys');
        const active = await repo.activeKeysOf(trx, p.id, now.toISOString());
        const thumbprints = new Set(active.map((k) => k.thumbprint));
        const kids = new Set(active.flatMap((k) => (k.kid === null ? [] : [k.kid])));
        const rows: ClientKeysTable[] = [];
        for (const k of accepted) {
          if (thumbprints.has(k.thumbprint)) throw new AppError('key_already_registered', `a key with thumbprint ${k.thumbprint} is already registered for '${p.name}'`);
          if (k.jwk.kid !== undefined && kids.has(k.jwk.kid)) throw new AppError('key_already_registered', `a key with kid '${k.jwk.kid}' is already registered for '${p.name}'`);
          thumbprints.add(k.thumbprint);
          if (k.jwk.kid !== undefined) kids.add(k.jwk.kid);
          rows.push({
            id: newId(), principal_id: p.id, kid: k.jwk.kid ?? null, alg: k.alg, jwk: JSON.stringify(k.jwk), thumbprint: k.thumbprint,
            description: input.description ?? null, created_at: now.toISOString(), created_by: actor.principal?.id ?? null,
            expires_at: expiresAt, removed_at: null, last_used_at: null,
          });
        }
        batch.afterCommit(() => invalidate(p.id));
        for (const row of rows) {
          await repo.insertKey(trx, row);
          await audit.record(trx, batch, {
            type: 'credential.client_key.added', action: 'credential.issue', actor,
            target: { type: 'client_key', id: row.id, name: p.name }, outcome: 'success',
            details: { principal_id: p.id, kid: row.kid, alg: row.alg, thumbprint: row.thumbprint, expires_at: row.expires_at, description: row.description },
          });
        }
        return { keys: await views(rows, trx) };
      });
    },

    async list(actor: Actor, query: ListClientKeysQuery) {
      const after = decodeCursor(query.cursor);
      const subject = await listSubject(directory, actor, query.principal);
      if (subject === undefined) return { items: [], next_cursor: null };
      const rows = await repo.listKeys(db.kysely, {
        principalId: subject ?? undefined, includeRemoved: Boolean(query.include_removed),
        afterId: after === undefined ? undefined : String(after), limit: query.limit + 1,
      });
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: await views(page.items), next_cursor: page.next_cursor };
    },

    /** Removes a key at once and kills the tokens obtained with it. Removing a removed key is a 409. */
    async remove(actor: Actor, id: string): Promise<ClientKeyView> {
      return db.write(async (trx, batch) => {
        const { row, principal } = await visibleKey(trx, actor, id);
        if (!mayRevokeMaterialOf(actor, principal)) throw errors.forbidden(`you may not remove keys of '${principal.name}'`);
        if (row.removed_at) throw new AppError('credential_already_revoked', `client key ${id} was removed at ${row.removed_at}`);
        await removeRow(trx, batch, actor, row, 'removed');
        const [view] = await views([{ ...row, removed_at: clock.now().toISOString() }], trx);
        return view!;
      });
    },

    /** The principal's keys private_key_jwt assertions are checked against (not removed, not expired). */
    async activeKeys(principalId: string): Promise<RegisteredClientKey[]> {
      const now = clock.now().getTime();
      let entry = cached.get(principalId);
      if (!entry || now - entry.loadedAt >= KEY_CACHE_MS || now < entry.loadedAt) {
        const started = generation;
        const rows = await repo.activeKeysOf(db.kysely, principalId, new Date(now).toISOString());
        entry = {
          loadedAt: now,
          keys: rows.map((r) => ({
            key: { id: r.id, kid: r.kid, alg: r.alg, jwk: JSON.parse(r.jwk) as JWK },
            expiresAt: r.expires_at === null ? Infinity : Date.parse(r.expires_at),
          })),
        };
        if (started === generation) {
          if (cached.size >= KEY_CACHE_MAX) cached.delete(cached.keys().next().value!);
          cached.delete(principalId);
          cached.set(principalId, entry);
        }
      }
      // Expiry to the millisecond, whatever the entry's age (the query's `expires_at > now`).
      return entry.keys.filter((k) => k.expiresAt > now).map((k) => k.key);
    },

    /** Records that a key was used, at most once a minute per key (per node, and in the store across nodes). */
    async markUsed(id: string): Promise<void> {
      await usage.record(id, (now, cutoff) => db.write((trx) => repo.markUsed(trx, id, now, cutoff)));
    },

    /** For the revocation service: removes every active key the principal holds, one audit event each. Returns their ids. */
    async revokeAllOf(trx: Trx, batch: WriteBatch, actor: Actor, principalId: string, reason: string): Promise<string[]> {
      const removed: string[] = [];
      for (const row of await repo.activeKeysOf(trx, principalId, clock.now().toISOString())) {
        if (await removeRow(trx, batch, actor, row, reason)) removed.push(row.id);
      }
      return removed;
    },

    /** For the inventory: every key a principal has registered, removed ones too; `null`: every principal's (the
     * newest FLEET_INVENTORY_LIMIT), for fleet-wide audits. */
    async heldBy(principalId: string | null, trx?: Trx): Promise<HeldCredential[]> {
      const q = trx ?? db.kysely;
      const rows = principalId === null ? await repo.listKeys(q, { includeRemoved: true, limit: FLEET_INVENTORY_LIMIT }) : await repo.keysOf(q, principalId);
      return rows.map((r) => ({
        id: r.id, kind: 'client_key' as const, principal_id: r.principal_id, created_at: r.created_at, expires_at: r.expires_at,
        last_used_at: r.last_used_at, revoked_at: r.removed_at, revoked_reason: null,
      }));
    },
  };
}
export type ClientKeyService = ReturnType<typeof createClientKeyService>;
