import type { Actor } from '../platform/actor.js';
import { judgeLeak } from '../platform/leaked-credential.js';
import { custosTokenMatches, generateCustosToken, hashCustosToken, parseCustosToken } from '../platform/credential-format.js';
import { AppError, errors } from '../platform/http/errors.js';
import { decodeCursor, pageOf } from '../platform/http/pagination.js';
import type { Trx, WriteBatch } from '../platform/store/db.js';
import type { ClientSecretsTable } from '../platform/store/schema.js';
import type { CredentialPrincipal } from './contracts.js';
import {
  assertMayHoldMaterial, listSubject, mayIssueMaterialTo, mayReadMaterialOf, mayRevokeMaterialOf, principalNotFound, usageThrottle,
  type ClientCredentialDeps, type HeldCredential, FLEET_INVENTORY_LIMIT,
} from './client-material.js';
import * as repo from './client-secrets.repo.js';
import {
  DEFAULT_SECRET_OVERLAP_SECONDS, MAX_SECRET_TTL_SECONDS, MIN_SECRET_TTL_SECONDS,
  type ClientSecretView, type CreateClientSecretInput, type ListClientSecretsQuery, type RotateClientSecretInput,
} from './client-secrets.schemas.js';

// Client secrets for client_secret_basic / client_secret_post, for clients that cannot hold a key pair
// (private_key_jwt is preferred). Rules:
// - a secret is `custos_cs_<id>_<secret>_<crc>` (platform/credential-format.ts), shown once; only the SHA-256
//   of the whole secret is stored, and it is compared in constant time;
// - every secret expires (default 90 days, at most 365); only active non-human principals get one;
// - rotation issues a new secret and shortens the old one's life to the overlap window (it never lengthens it);
//   a secret is rotated once: its successor is the one to rotate next;
// - revocation (by an operator, by a leak found by a scan, or of everything a principal holds) is at once and
//   kills the tokens obtained with the secret; every change is audited in its transaction.

export function createClientSecretService(deps: ClientCredentialDeps) {
  const { db, audit, clock, directory, onCredentialRevoked } = deps;
  const usage = usageThrottle(clock);

  async function views(rows: ClientSecretsTable[], trx?: Trx): Promise<ClientSecretView[]> {
    const names = await directory.principalNames([...new Set(rows.map((r) => r.principal_id))], trx);
    return rows.map((row) => ({
      id: row.id, principal: { id: row.principal_id, name: names.get(row.principal_id) ?? row.principal_id },
      created_at: row.created_at, created_by: row.created_by, expires_at: row.expires_at, revoked_at: row.revoked_at,
      revoked_reason: row.revoked_reason, last_used_at: row.last_used_at, replaced_by: row.replaced_by, description: row.description,
    }));
  }

  async function view(row: ClientSecretsTable, trx: Trx): Promise<ClientSecretView> {
    return (await views([row], trx))[0]!;
  }

  function newRow(actor: Actor, principalId: string, ttlSeconds: number, description: string | null): { row: ClientSecretsTable; secret: string } {
    const { id, token } = generateCustosToken('cs');
    const now = clock.now();
    return {
      secret: token,
      row: {
        id, principal_id: principalId, secret_hash: hashCustosToken(token), description, created_at: now.toISOString(), created_by: actor.principal?.id ?? null,
        expires_at: new Date(now.getTime() + ttlSeconds * 1000).toISOString(), revoked_at: null, revoked_reason: null, last_used_at: null, replaced_by: null,
      },
    };
  }

  async function revokeRow(trx: Trx, batch: WriteBatch, actor: Actor, row: ClientSecretsTable, reason: string | null, details: Record<string, unknown> = {}): Promise<ClientSecretsTable> {
    const at = clock.now().toISOString();
    await repo.markRevoked(trx, row.id, at, reason);
    await audit.record(trx, batch, {
      type: 'credential.client_secret.revoked', action: 'credential.revoke', actor,
      target: { type: 'client_secret', id: row.id, name: null }, outcome: 'success',
      details: { principal_id: row.principal_id, reason, ...details },
    });
    await onCredentialRevoked(trx, batch, actor, row.id, reason ?? 'revoked');
    return { ...row, revoked_at: at, revoked_reason: reason };
  }

  /** The secret and its principal, when the actor may see it; otherwise 404 as if it did not exist. */
  async function visibleSecret(trx: Trx, actor: Actor, id: string): Promise<{ row: ClientSecretsTable; principal: CredentialPrincipal }> {
    const row = await repo.findSecret(trx, id);
    const principal = row ? await directory.principal(row.principal_id, trx) : undefined;
    if (!row || !principal || !mayReadMaterialOf(actor, principal)) throw errors.notFound('client secret', id);
    return { row, principal };
  }

  const isLive = (row: ClientSecretsTable, now: Date) => row.revoked_at === null && new Date(row.expires_at) > now;

  return {
    async create(actor: Actor, input: CreateClientSecretInput): Promise<ClientSecretView & { secret: string }> {
      return db.write(async (trx, batch) => {
        const p = await directory.principal(input.principal, trx);
        if (!p || !mayReadMaterialOf(actor, p)) throw principalNotFound(input.principal);
        if (!mayIssueMaterialTo(actor, p)) throw errors.forbidden(`you may not create client secrets for '${p.name}'`);
        assertMayHoldMaterial(p, 'client secrets');
        const { row, secret } = newRow(actor, p.id, input.ttl_seconds, input.description ?? null);
        await repo.insertSecret(trx, row);
        await audit.record(trx, batch, {
          type: 'credential.client_secret.created', action: 'credential.issue', actor,
          target: { type: 'client_secret', id: row.id, name: p.name }, outcome: 'success',
          details: { principal_id: p.id, expires_at: row.expires_at, description: input.description ?? null },
        });
        return { ...(await view(row, trx)), secret };
      });
    },

    async list(actor: Actor, query: ListClientSecretsQuery) {
      const after = decodeCursor(query.cursor);
      const subject = await listSubject(directory, actor, query.principal);
      if (subject === undefined) return { items: [], next_cursor: null };
      const rows = await repo.listSecrets(db.kysely, {
        principalId: subject ?? undefined, includeRevoked: Boolean(query.include_revoked),
        afterId: after === undefined ? undefined : String(after), limit: query.limit + 1,
      });
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: await views(page.items), next_cursor: page.next_cursor };
    },

    /**
     * A new secret for the same principal; the old one is accepted until min(its expiry, now + overlap) and names
     * its successor. The new one lives as long as asked, else as long as the old one was made to.
     */
    async rotate(actor: Actor, id: string, input: RotateClientSecretInput): Promise<ClientSecretView & { secret: string; replaces: ClientSecretView }> {
      const overlap = input?.overlap_seconds ?? DEFAULT_SECRET_OVERLAP_SECONDS;
      return db.write(async (trx, batch) => {
        const { row: old, principal } = await visibleSecret(trx, actor, id);
        if (!mayIssueMaterialTo(actor, principal)) throw errors.forbidden(`you may not rotate client secrets of '${principal.name}'`);
        if (old.revoked_at) throw new AppError('credential_already_revoked', `client secret ${id} was revoked at ${old.revoked_at}; create a new one`);
        if (old.replaced_by) {
          throw new AppError('invalid_transition', `client secret ${id} was already rotated; rotate its successor ${old.replaced_by}`, { allowed: ['revoke'] });
        }
        assertMayHoldMaterial(principal, 'client secrets');
        const now = clock.now();
        const lifetime = Math.round((new Date(old.expires_at).getTime() - new Date(old.created_at).getTime()) / 1000);
        const ttl = input?.ttl_seconds ?? Math.min(MAX_SECRET_TTL_SECONDS, Math.max(MIN_SECRET_TTL_SECONDS, lifetime));
        const { row, secret } = newRow(actor, principal.id, ttl, old.description);
        const oldExpiresAt = new Date(Math.min(new Date(old.expires_at).getTime(), now.getTime() + overlap * 1000)).toISOString();
        await repo.insertSecret(trx, row);
        await repo.markReplaced(trx, old.id, row.id, oldExpiresAt);
        await audit.record(trx, batch, {
          type: 'credential.client_secret.rotated', action: 'credential.rotate', actor,
          target: { type: 'client_secret', id: old.id, name: principal.name }, outcome: 'success',
          details: { principal_id: principal.id, replaced_by: row.id, old_expires_at: oldExpiresAt, expires_at: row.expires_at, overlap_seconds: overlap },
        });
        const [fresh, replaced] = await views([row, { ...old, replaced_by: row.id, expires_at: oldExpiresAt }], trx);
        return { ...fresh!, secret, replaces: replaced! };
      });
    },

    /** Revokes at once and kills the tokens obtained with the secret. Revoking a revoked secret is a 409. */
    async revoke(actor: Actor, id: string, reason: string | undefined): Promise<ClientSecretView> {
      return db.write(async (trx, batch) => {
        const { row, principal } = await visibleSecret(trx, actor, id);
        if (!mayRevokeMaterialOf(actor, principal)) throw errors.forbidden(`you may not revoke client secrets of '${principal.name}'`);
        if (row.revoked_at) throw new AppError('credential_already_revoked', `client secret ${id} was revoked at ${row.revoked_at}`);
        return view(await revokeRow(trx, batch, actor, row, reason ?? null), trx);
      });
    },

    /** For the token endpoint: the secret's id when `secret` is a live client secret of `principalId`, else undefined. */
    async checkClientSecret(principalId: string, secret: string): Promise<string | undefined> {
      const parsed = parseCustosToken(secret);
      if (!parsed || parsed.kind !== 'cs') return undefined;
      const row = await repo.findSecret(db.kysely, parsed.id);
      if (!row || row.principal_id !== principalId || !custosTokenMatches(secret, row.secret_hash)) return undefined;
      return isLive(row, clock.now()) ? row.id : undefined;
    },

    /** Records that a secret was used, at most once a minute per secret (per node, and in the store across nodes). */
    async markUsed(id: string): Promise<void> {
      await usage.record(id, (now, cutoff) => db.write((trx) => repo.markUsed(trx, id, now, cutoff)));
    },

    /** For the revocation service: revokes every live secret the principal holds, one audit event each. Returns their ids. */
    async revokeAllOf(trx: Trx, batch: WriteBatch, actor: Actor, principalId: string, reason: string): Promise<string[]> {
      const now = clock.now();
      const revoked: string[] = [];
      for (const row of await repo.secretsOf(trx, principalId)) {
        if (!isLive(row, now)) continue;
        await revokeRow(trx, batch, actor, row, reason);
        revoked.push(row.id);
      }
      return revoked;
    },

    /** For the inventory: every secret a principal has held, revoked and expired ones too; `null`: every principal's
     * (the newest FLEET_INVENTORY_LIMIT), for fleet-wide audits. */
    async heldBy(principalId: string | null, trx?: Trx): Promise<HeldCredential[]> {
      const q = trx ?? db.kysely;
      const rows = principalId === null ? await repo.listSecrets(q, { includeRevoked: true, limit: FLEET_INVENTORY_LIMIT }) : await repo.secretsOf(q, principalId);
      return rows.map((r) => ({
        id: r.id, kind: 'client_secret' as const, principal_id: r.principal_id, created_at: r.created_at, expires_at: r.expires_at,
        last_used_at: r.last_used_at, revoked_at: r.revoked_at, revoked_reason: r.revoked_reason,
      }));
    },

    /**
     * For the scanner: inside the caller's transaction, confirm that a leaked secret is one of ours (its id and the
     * SHA-256 prefix the scan computed match) and revoke it if it is still live. Never needs the secret.
     */
    async revokeLeaked(trx: Trx, batch: WriteBatch, actor: Actor, leak: { id: string; sha256Prefix: string }, details: Record<string, unknown>) {
      const row = await repo.findSecret(trx, leak.id);
      const judged = judgeLeak(row, leak, clock.now());
      if (judged.liveness !== 'live') return { liveness: judged.liveness, ownerId: judged.ownerId, revoked: false };
      await revokeRow(trx, batch, actor, row!, 'leaked: found by a secret scan', details);
      return { liveness: 'revoked' as const, ownerId: judged.ownerId, revoked: true };
    },
  };
}
export type ClientSecretService = ReturnType<typeof createClientSecretService>;
