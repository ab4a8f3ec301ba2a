import type { AuditWriter } from '../audit/index.js';
import { FLEET_INVENTORY_LIMIT } from './client-material.js';
import { audienceRefusal } from './audience-rules.js';
import { judgeLeak } from '../platform/leaked-credential.js';
import type { RiskTier } from '../identity/index.js';
import type { Actor } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import { generateCustosToken, hashCustosToken } from '../platform/credential-format.js';
import { AppError, errors } from '../platform/http/errors.js';
import { decodeCursor, pageOf } from '../platform/http/pagination.js';
import type { Database, Trx, WriteBatch } from '../platform/store/db.js';
import type { ApiKeysTable } from '../platform/store/schema.js';
import * as repo from './api-keys.repo.js';
import {
  DEFAULT_API_KEY_TTL_SECONDS, DEFAULT_OVERLAP_SECONDS,
  type ApiKeyView, type CreateApiKeyInput, type ListApiKeysQuery, type RotateApiKeyInput,
} from './api-keys.schemas.js';
import type { CredentialDirectory, CredentialPrincipal } from './contracts.js';

// API keys: custos_ak_<id>_<secret>_<crc> bearer strings for clients that cannot do OAuth. The format is the
// project's one credential format (platform/credential-format.ts), so the scanner recognises a leaked key
// offline by its checksum and the findings loop revokes it by id. Rules:
// - The key is shown once; only the SHA-256 of the whole key is stored (and an HMAC of it in the audit event).
// - Every key expires: 24 hours by default, at most 90 / 30 / 7 / 1 days for a low / medium / high / critical
//   principal (more is ttl_too_long with max_seconds; an unknown tier counts as critical).
// - A key is bound like a token: to an active principal, a subset of its approved scopes, one of its allowed
//   purposes (omitted only when it has exactly one; null when it has none) and audiences that are registered
//   resources (RFC 8707 indicators) or the management API itself; a resource that lists purposes must list the
//   key's purpose.
// - Admin and security operators manage every key; an owner-role operator only those of principals it owns
//   (directly or through a team it belongs to); to anyone else such a principal or key does not exist. A
//   principal holding a key (no operator role) may list and revoke its own keys, never create or rotate them.
// - Rotation issues a successor with the same binding, re-checked against the principal's registration now,
//   living the original lifetime again (capped by the tier); the old key lives on for the overlap window at most.
// - Every change is audited in the same transaction, and every revocation reaches onCredentialRevoked (the
//   revocation list) in that transaction too.

export const DAY_SECONDS = 86_400;
/** Longest API key by the principal's risk tier. */
export const MAX_API_KEY_SECONDS: Record<RiskTier, number> = {
  low: 90 * DAY_SECONDS, medium: 30 * DAY_SECONDS, high: 7 * DAY_SECONDS, critical: DAY_SECONDS,
};

export type CredentialRevokedHook = (trx: Trx, batch: WriteBatch, actor: Actor, credentialId: string, reason: string) => Promise<void>;

export interface ApiKeyServiceDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  directory: CredentialDirectory;
  /** The management API's own audience (the server's public base URL): a key may be addressed to it. */
  issuer: string | (() => string);
  onCredentialRevoked: CredentialRevokedHook;
}

/** What a key is bound to. */
export interface ApiKeyGrant {
  scope: string[];
  purpose: string | null;
  audience: string[];
}

// ---------------------------------------------------------------------------------------------------------
// Pure rules (exact tests in api-keys.service.test.ts)

export function maxApiKeySeconds(tier: string): number {
  return MAX_API_KEY_SECONDS[tier as RiskTier] ?? MAX_API_KEY_SECONDS.critical;
}

/** The requested lifetime, refused (never silently capped) above the tier's maximum. */
export function apiKeyLifetime(requested: number, tier: string): number {
  const max = maxApiKeySeconds(tier);
  if (requested > max) {
    throw new AppError('ttl_too_long', `an API key for a ${tier in MAX_API_KEY_SECONDS ? tier : 'critical'} risk principal lives at most ${max} seconds (${max / DAY_SECONDS} days)`, { max_seconds: max });
  }
  return requested;
}

/** Requested scopes, deduplicated, must all be approved; none requested means every approved one. */
export function chooseApiKeyScope(requested: readonly string[] | undefined, approved: readonly string[]): string[] {
  if (requested === undefined) return [...new Set(approved)];
  const scope = [...new Set(requested)];
  const outside = scope.filter((s) => !approved.includes(s));
  if (outside.length) throw new AppError('scope_not_allowed', `not among the principal's approved scopes: ${outside.join(', ')}`, { scopes: outside });
  return scope;
}

/** The purpose must be an allowed one; omitted, it is the only allowed one, or null when none is allowed. */
export function chooseApiKeyPurpose(requested: string | undefined, allowed: readonly string[]): string | null {
  if (requested === undefined) {
    if (allowed.length === 0) return null;
    if (allowed.length === 1) return allowed[0]!;
    throw new AppError('purpose_not_allowed', `the principal has several allowed purposes (${allowed.join(', ')}): name one`);
  }
  if (!allowed.includes(requested)) {
    throw new AppError('purpose_not_allowed', allowed.length
      ? `purpose '${requested}' is not one of the principal's allowed purposes (${allowed.join(', ')})`
      : `the principal has no allowed purposes; purpose '${requested}' cannot be bound`);
  }
  return requested;
}

/** Admin and security manage every principal's keys; an owner-role operator those of principals it owns. */
export function mayManageKeysOf(actor: Actor, principal: Pick<CredentialPrincipal, 'ownerId' | 'ownerTeamId'>): boolean {
  if (actor.role === 'admin' || actor.role === 'security') return true;
  if (actor.role !== 'owner' || !actor.principal) return false;
  if (principal.ownerId !== null && principal.ownerId === actor.principal.id) return true;
  return principal.ownerTeamId != null && actor.teamIds.includes(principal.ownerTeamId);
}

/** Reading and revoking: managers, and a principal acting with its own credential (no operator role). */
export function mayReadOrRevokeKeysOf(actor: Actor, principal: Pick<CredentialPrincipal, 'id' | 'ownerId' | 'ownerTeamId'>): boolean {
  if (actor.role === 'auditor') return true;
  if (actor.role === null && actor.principal !== null && actor.principal.id === principal.id) return true;
  return mayManageKeysOf(actor, principal);
}

/**
 * Rotation's two expiries: the successor lives the old key's original lifetime again from now (capped by the
 * tier), the old key until now + overlap unless it expires sooner.
 */
export function rotationExpiries(old: { created_at: string; expires_at: string }, now: Date, overlapSeconds: number, tier: string): { newExpiresAt: Date; oldExpiresAt: Date } {
  const originalMs = new Date(old.expires_at).getTime() - new Date(old.created_at).getTime();
  const lifetimeMs = Math.min(originalMs, maxApiKeySeconds(tier) * 1000);
  const oldMs = Math.min(new Date(old.expires_at).getTime(), now.getTime() + overlapSeconds * 1000);
  return { newExpiresAt: new Date(now.getTime() + lifetimeMs), oldExpiresAt: new Date(oldMs) };
}

const stripSlash = (s: string) => s.replace(/\/+$/, '');

function scopeOf(row: ApiKeysTable): string[] {
  return row.scope ? row.scope.split(' ') : [];
}

function audienceOf(row: ApiKeysTable): string[] {
  return JSON.parse(row.audience) as string[];
}

// ---------------------------------------------------------------------------------------------------------

export function createApiKeyService(deps: ApiKeyServiceDeps) {
  const { db, audit, clock, directory, onCredentialRevoked } = deps;
  const issuerNow = () => stripSlash(typeof deps.issuer === 'function' ? deps.issuer() : deps.issuer);

  async function views(rows: ApiKeysTable[], trx?: Trx): Promise<ApiKeyView[]> {
    const names = await directory.principalNames([...new Set(rows.map((r) => r.principal_id))], trx);
    return rows.map((row) => ({
      id: row.id, principal: { id: row.principal_id, name: names.get(row.principal_id) ?? row.principal_id },
      scope: scopeOf(row), purpose: row.purpose, audience: audienceOf(row), description: row.description,
      created_at: row.created_at, created_by: row.created_by, expires_at: row.expires_at,
      revoked_at: row.revoked_at, revoked_reason: row.revoked_reason, last_used_at: row.last_used_at, replaced_by: row.replaced_by,
    }));
  }

  async function viewOf(row: ApiKeysTable, trx: Trx): Promise<ApiKeyView> {
    return (await views([row], trx))[0]!;
  }

  /** Each audience is the management API or a registered resource the principal may address for the key's purpose. */
  async function resolveAudience(trx: Trx, p: CredentialPrincipal, requested: readonly string[] | undefined, purpose: string | null): Promise<string[]> {
    const out: string[] = [];
    const issuer = issuerNow();
    for (const indicator of requested ?? [issuer]) {
      let audience: string;
      if (stripSlash(indicator) === issuer) {
        audience = issuer;
      } else {
        const resource = await directory.resourceByIndicator(indicator, trx);
        if (!resource) throw new AppError('target_not_allowed', `'${indicator}' is neither a registered resource nor this management API (${issuer})`);
        const refusal = audienceRefusal(resource, p, purpose);
        if (refusal) throw new AppError('target_not_allowed', refusal);
        audience = resource.audience;
      }
      if (!out.includes(audience)) out.push(audience);
    }
    return out;
  }

  /** The binding a key may carry for this principal now; throws the rule's code otherwise. */
  async function decideGrant(trx: Trx, p: CredentialPrincipal, req: { scope?: readonly string[]; purpose?: string; audience?: readonly string[] }): Promise<ApiKeyGrant> {
    const scope = chooseApiKeyScope(req.scope, p.scopes);
    const purpose = chooseApiKeyPurpose(req.purpose, p.purposes);
    const audience = await resolveAudience(trx, p, req.audience, purpose);
    return { scope, purpose, audience };
  }

  /** The principal behind a request, or the error that hides one the actor may not manage. */
  async function managedPrincipal(trx: Trx, actor: Actor, ref: string): Promise<CredentialPrincipal> {
    const p = await directory.principal(ref, trx);
    if (!p || (!mayManageKeysOf(actor, p) && actor.role === 'owner')) throw new AppError('principal_not_found', `principal '${ref}' does not exist`);
    if (!mayManageKeysOf(actor, p)) throw errors.forbidden(`${actor.role ? `the ${actor.role} role` : 'this credential'} cannot manage API keys of '${p.name}'`);
    if (p.status !== 'active') throw new AppError('principal_cannot_hold_credentials', `principal '${p.name}' is ${p.status}; only active principals hold API keys`);
    return p;
  }

  /** A key row the actor may act on, or 404 as if it did not exist. */
  async function visibleKey(trx: Trx, actor: Actor, id: string, may: (p: CredentialPrincipal) => boolean): Promise<{ row: ApiKeysTable; principal: CredentialPrincipal | undefined }> {
    const row = await repo.findKey(trx, id);
    if (!row) throw errors.notFound('API key', id);
    const principal = await directory.principal(row.principal_id, trx);
    // A key whose principal is gone is managed by admin and security only.
    const allowed = principal ? may(principal) : actor.role === 'admin' || actor.role === 'security';
    if (!allowed) throw errors.notFound('API key', id);
    return { row, principal };
  }

  async function insert(trx: Trx, actor: Actor, principalId: string, grant: ApiKeyGrant, expiresAt: Date, description: string | null) {
    const { id, token } = generateCustosToken('ak');
    const row: ApiKeysTable = {
      id, principal_id: principalId, description, secret_hash: hashCustosToken(token),
      scope: grant.scope.join(' '), audience: JSON.stringify(grant.audience), purpose: grant.purpose,
      created_at: clock.now().toISOString(), created_by: actor.principal?.id ?? null, expires_at: expiresAt.toISOString(),
      revoked_at: null, revoked_reason: null, last_used_at: null, replaced_by: null,
    };
    await repo.insertKey(trx, row);
    return { row, key: token };
  }

  async function recordCreated(trx: Trx, batch: WriteBatch, actor: Actor, row: ApiKeysTable, key: string, principalName: string, extra: Record<string, unknown> = {}) {
    await audit.record(trx, batch, {
      type: 'credential.api_key.created', action: 'credential.issue', actor,
      target: { type: 'api_key', id: row.id, name: principalName }, outcome: 'success',
      details: {
        principal_id: row.principal_id, scope: scopeOf(row), purpose: row.purpose, audience: audienceOf(row),
        expires_at: row.expires_at, description: row.description, key_hmac: audit.hmac(key), ...extra,
      },
    });
  }

  async function revokeRow(trx: Trx, batch: WriteBatch, actor: Actor, row: ApiKeysTable, reason: string | null, details: Record<string, unknown>): Promise<ApiKeysTable> {
    const at = clock.now().toISOString();
    await repo.markRevoked(trx, row.id, at, reason);
    await audit.record(trx, batch, {
      type: 'credential.api_key.revoked', action: 'credential.revoke', actor,
      target: { type: 'api_key', id: row.id, name: null }, outcome: 'success',
      details: { reason, principal_id: row.principal_id, ...details },
    });
    await onCredentialRevoked(trx, batch, actor, row.id, reason ?? 'API key revoked');
    return { ...row, revoked_at: at, revoked_reason: reason };
  }

  return {
    /** Creates a key; the response carries it once. */
    async create(actor: Actor, input: CreateApiKeyInput) {
      return db.write(async (trx, batch) => {
        const p = await managedPrincipal(trx, actor, input.principal);
        const grant = await decideGrant(trx, p, input);
        const ttl = apiKeyLifetime(input.ttl_seconds ?? DEFAULT_API_KEY_TTL_SECONDS, p.riskTier);
        const { row, key } = await insert(trx, actor, p.id, grant, new Date(clock.now().getTime() + ttl * 1000), input.description ?? null);
        await recordCreated(trx, batch, actor, row, key, p.name);
        return { ...(await viewOf(row, trx)), key };
      });
    },

    async list(actor: Actor, query: ListApiKeysQuery) {
      const after = decodeCursor(query.cursor);
      let principalId: string | undefined;
      if (query.principal !== undefined) {
        const p = await directory.principal(query.principal);
        principalId = p && mayReadOrRevokeKeysOf(actor, p) ? p.id : '-';
      } else if (actor.role === null) {
        // A principal acting with its own credential lists its own keys.
        principalId = actor.principal?.id ?? '-';
      } else if (actor.role === 'owner') {
        throw errors.forbidden('owner-role operators list the keys of one principal they own: pass principal');
      }
      const rows = await repo.listKeys(db.kysely, {
        principalId, includeRevoked: Boolean(query.include_revoked), afterId: after === undefined ? undefined : String(after), limit: query.limit + 1,
      });
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: await views(page.items), next_cursor: page.next_cursor };
    },

    /** A successor with the same binding; the old key keeps working for the overlap window at most. */
    async rotate(actor: Actor, id: string, input?: { overlap_seconds?: number } | RotateApiKeyInput) {
      const overlap = input?.overlap_seconds ?? DEFAULT_OVERLAP_SECONDS;
      return db.write(async (trx, batch) => {
        const { row: old } = await visibleKey(trx, actor, id, (p) => mayManageKeysOf(actor, p));
        const now = clock.now();
        if (old.revoked_at) throw new AppError('credential_already_revoked', `API key ${old.id} was revoked at ${old.revoked_at}; create a new one`);
        if (old.replaced_by) throw new AppError('invalid_transition', `API key ${old.id} was already rotated; rotate its successor ${old.replaced_by}`, { allowed: ['revoke'] });
        if (new Date(old.expires_at) <= now) throw new AppError('invalid_transition', `API key ${old.id} expired at ${old.expires_at}; create a new one`, { allowed: [] });
        const p = await managedPrincipal(trx, actor, old.principal_id);
        // The successor never carries what a create would refuse today (a key made before the principal had
        // purposes gets its only one, or is refused when it now has several).
        const grant = await decideGrant(trx, p, { scope: scopeOf(old), purpose: old.purpose ?? undefined, audience: audienceOf(old) });
        const { newExpiresAt, oldExpiresAt } = rotationExpiries(old, now, overlap, p.riskTier);
        const { row, key } = await insert(trx, actor, p.id, grant, newExpiresAt, old.description);
        await repo.markReplaced(trx, old.id, row.id, oldExpiresAt.toISOString());
        await recordCreated(trx, batch, actor, row, key, p.name, { replaces: old.id });
        await audit.record(trx, batch, {
          type: 'credential.api_key.rotated', action: 'credential.rotate', actor,
          target: { type: 'api_key', id: old.id, name: p.name }, outcome: 'success',
          details: { principal_id: p.id, replaced_by: row.id, overlap_seconds: overlap, old_expires_at: oldExpiresAt.toISOString(), new_expires_at: row.expires_at },
        });
        const replaced = { ...old, replaced_by: row.id, expires_at: oldExpiresAt.toISOString() };
        return { ...(await viewOf(row, trx)), key, replaces: await viewOf(replaced, trx) };
      });
    },

    async revoke(actor: Actor, id: string, reason: string | undefined) {
      return db.write(async (trx, batch) => {
        const { row } = await visibleKey(trx, actor, id, (p) => mayReadOrRevokeKeysOf(actor, p) && actor.role !== 'auditor');
        if (row.revoked_at) throw new AppError('credential_already_revoked', `API key ${row.id} was revoked at ${row.revoked_at}; nothing changed`);
        return viewOf(await revokeRow(trx, batch, actor, row, reason ?? null, {}), trx);
      });
    },

    /** Revokes every live key of a principal inside the caller's transaction (suspension, decommissioning, revoke-all). */
    async revokeAllOf(trx: Trx, batch: WriteBatch, actor: Actor, principalId: string, reason: string): Promise<string[]> {
      const rows = await repo.liveKeysOf(trx, principalId, clock.now().toISOString());
      for (const row of rows) await revokeRow(trx, batch, actor, row, reason, {});
      return rows.map((r) => r.id);
    },

    /** For the inventory: the keys a principal holds now (not revoked, not expired); `null`: every principal's (the
     * newest FLEET_INVENTORY_LIMIT), for fleet-wide audits. */
    async heldBy(principalId: string | null, trx?: Trx): Promise<ApiKeyView[]> {
      const q = trx ?? db.kysely;
      const now = clock.now().toISOString();
      const rows = principalId === null
        ? (await repo.listKeys(q, { includeRevoked: false, limit: FLEET_INVENTORY_LIMIT })).filter((r) => r.expires_at > now)
        : await repo.liveKeysOf(q, principalId, now);
      return views(rows, trx);
    },

    /**
     * For the scanner: inside the caller's transaction, confirm that a leaked key is one of ours (its id and the
     * SHA-256 prefix the scan computed match) and revoke it if it is still live. Never needs the secret.
     */
    async revokeLeaked(trx: Trx, batch: WriteBatch, actor: Actor, leak: { id: string; sha256Prefix: string }, details: Record<string, unknown>) {
      const row = await repo.findKey(trx, leak.id);
      const judged = judgeLeak(row, leak, clock.now());
      if (judged.liveness !== 'live') return { liveness: judged.liveness, ownerId: judged.ownerId, revoked: false };
      await revokeRow(trx, batch, actor, row!, 'leaked: found by a secret scan', details);
      return { liveness: 'revoked' as const, ownerId: judged.ownerId, revoked: true };
    },
  };
}
export type ApiKeyService = ReturnType<typeof createApiKeyService>;
