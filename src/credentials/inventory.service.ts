import type { Actor } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import { AppError, errors } from '../platform/http/errors.js';
import { decodeCursor, encodeCursor } from '../platform/http/pagination.js';
import type { Database, Trx } from '../platform/store/db.js';
import type { OAuthTokensTable } from '../platform/store/schema.js';
import {
  DEFAULT_EXPIRING_WITHIN_SECONDS, type InventoryItem, type InventoryState, type ListInventoryQuery, type RevocationResult,
  type RevokeCredentialsInput,
} from './inventory.schemas.js';
import type { RevocationService } from './revocation.service.js';
import * as tokens from './tokens.repo.js';

// The credential inventory: what a principal holds (live access tokens from oauth_tokens; API keys, client
// secrets and client keys from the services that issue them), what expires soon, what lives longest, what was
// never used; and revocation by token, family, credential or principal through the revocation service.
//
// Who sees and revokes what:
// - admin and security operators: everything; auditors: list everything, revoke nothing.
// - owner-role operators: only principals they own (directly or through a team they belong to) and themselves;
//   a principal they may not see answers 404, as if it did not exist; a list must name the principal.
// - a principal acting with its own credential (no operator role: an access token or an API key): lists only
//   its own credentials and revokes only its own tokens (by jti or family, as sub or as the client that
//   obtained them); never a credential or a principal.
//
// Pages: one order over every kind (by id, by expiry soonest first, or by lifetime longest first, each with
// the id as tie-breaker); access tokens come from a keyset query, other kinds from their services' lists, and
// the two are merged. The cursor carries the sort it was made for.

/** What the inventory needs to know of a principal (identity's directory provides it). */
export interface InventoryPrincipal {
  id: string;
  name: string;
  ownerId: string | null;
  /** The owning team; when the directory does not say, ownership through a team is not recognised (fails closed). */
  ownerTeamId?: string | null;
}

export interface InventoryDirectory {
  principal(ref: string, trx?: Trx): Promise<InventoryPrincipal | undefined>;
  principalNames(ids: string[], trx?: Trx): Promise<Map<string, string>>;
}

/** A service that issues one kind of credential (API keys, client secrets, client keys). */
export interface InventorySource {
  /** The credentials the principal holds now (not revoked, not expired). */
  heldBy(principalId: string, trx?: Trx): Promise<InventoryItem[]>;
  /** Every principal's, for lists that name no principal; a source without it appears only when one is named. */
  all?(trx?: Trx): Promise<InventoryItem[]>;
}

export interface InventoryDeps {
  db: Database;
  clock: Clock;
  revocation: RevocationService;
  directory: InventoryDirectory;
  inventories?: InventorySource[];
}

const READ_ALL_ROLES = new Set(['admin', 'security', 'auditor']);
const REVOKE_ALL_ROLES = new Set(['admin', 'security']);

/** Whether the actor may see (and, for owners and admins, manage) the principal's credentials. */
export function mayActOn(actor: Actor, p: InventoryPrincipal, intent: 'read' | 'revoke'): boolean {
  if (actor.role !== null) {
    if ((intent === 'read' ? READ_ALL_ROLES : REVOKE_ALL_ROLES).has(actor.role)) return true;
    if (actor.role !== 'owner' || !actor.principal) return false;
    if (p.id === actor.principal.id || p.ownerId === actor.principal.id) return true;
    return p.ownerTeamId !== undefined && p.ownerTeamId !== null && actor.teamIds.includes(p.ownerTeamId);
  }
  return actor.principal !== null && p.id === actor.principal.id && isSelfService(actor);
}

/** A principal acting with its own credential (not an operator). */
export function isSelfService(actor: Actor): boolean {
  return actor.role === null && actor.principal !== null && (actor.credential?.kind === 'access_token' || actor.credential?.kind === 'api_key');
}

/** Whether a principal acting for itself owns the token: it is the token's subject or the client that obtained it. */
export function ownsToken(actor: Actor, row: Pick<OAuthTokensTable, 'principal_id' | 'client_id'>): boolean {
  const me = actor.principal?.id;
  return me !== undefined && (row.principal_id === me || row.client_id === me);
}

type Sort = 'id' | 'expires_at' | 'lifetime';
/** Null expiry sorts last by expiry and first by lifetime (it never ends). */
const NEVER = '9999-12-31T23:59:59.999Z';
const ENDLESS = 1e15;

interface Key { primary: string | number; id: string }

export function lifetimeSeconds(item: Pick<InventoryItem, 'created_at' | 'expires_at'>): number {
  return item.expires_at === null ? ENDLESS : Math.round((Date.parse(item.expires_at) - Date.parse(item.created_at)) / 1000);
}

export function sortKey(sort: Sort, item: InventoryItem): Key {
  if (sort === 'expires_at') return { primary: item.expires_at ?? NEVER, id: item.id };
  if (sort === 'lifetime') return { primary: lifetimeSeconds(item), id: item.id };
  return { primary: '', id: item.id };
}

/** Negative when a comes first. */
export function compareKeys(sort: Sort, a: Key, b: Key): number {
  if (a.primary !== b.primary) {
    if (sort === 'lifetime') return (b.primary as number) - (a.primary as number);
    return a.primary < b.primary ? -1 : 1;
  }
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function encodeKey(sort: Sort, key: Key): string {
  return encodeCursor(JSON.stringify({ s: sort, p: key.primary, id: key.id }));
}

function decodeKey(sort: Sort, cursor: string | undefined): Key | undefined {
  const raw = decodeCursor(cursor);
  if (raw === undefined) return undefined;
  try {
    const parsed = JSON.parse(String(raw)) as { s?: unknown; p?: unknown; id?: unknown };
    const primaryOk = sort === 'lifetime' ? typeof parsed.p === 'number' : typeof parsed.p === 'string';
    if (parsed.s === sort && primaryOk && typeof parsed.id === 'string') return { primary: parsed.p as string | number, id: parsed.id };
  } catch {
    // not one of ours: below
  }
  throw new AppError('invalid_cursor', 'cursor was made for another list or sort; pass next_cursor from a previous page of the same list unchanged');
}

/** Whether an item is in the state asked for at `now`. */
export function inState(item: InventoryItem, state: InventoryState, now: number, withinSeconds: number): boolean {
  const live = item.revoked_at === null && (item.expires_at === null || Date.parse(item.expires_at) > now);
  if (!live) return false;
  if (state === 'expiring') return item.expires_at !== null && Date.parse(item.expires_at) <= now + withinSeconds * 1000;
  if (state === 'never_used') return item.last_used_at === null && item.kind !== 'access_token';
  return true;
}

function tokenItem(row: OAuthTokensTable, name: string): InventoryItem {
  return {
    id: row.jti, kind: 'access_token', principal: { id: row.principal_id, name }, created_at: row.issued_at, expires_at: row.expires_at,
    last_used_at: null, revoked_at: row.revoked_at,
    details: {
      client_id: row.client_id, family_id: row.family_id, parent_jti: row.parent_jti, depth: row.depth, grant_type: row.grant_type,
      auth_method: row.auth_method, credential_id: row.credential_id, scope: row.scope ? row.scope.split(' ') : [],
      audience: JSON.parse(row.audience) as string[], purpose: row.purpose, dpop_jkt: row.jkt, act_chain: JSON.parse(row.act_chain) as string[],
      kid: row.kid, revoked_reason: row.revoked_reason,
    },
  };
}

export function createInventoryService(deps: InventoryDeps) {
  const { db, clock, revocation, directory } = deps;
  const sources = deps.inventories ?? [];

  /** The principal named, if the actor may act on it; otherwise the error its role gets. */
  async function visiblePrincipal(actor: Actor, ref: string, intent: 'read' | 'revoke', missing: 'not_found' | 'principal_not_found'): Promise<InventoryPrincipal> {
    const p = await directory.principal(ref);
    if (p && mayActOn(actor, p, intent)) return p;
    if (isSelfService(actor)) throw errors.forbidden('with your own credential you may list and revoke only your own credentials');
    if (!p || (actor.role === 'owner' && !mayActOn(actor, p, 'read'))) {
      throw missing === 'not_found' ? errors.notFound('principal', ref) : new AppError('principal_not_found', `principal '${ref}' does not exist`);
    }
    throw errors.forbidden(`role '${actor.role ?? 'none'}' cannot ${intent === 'read' ? 'list' : 'revoke'} the credentials of '${p.name}'`);
  }

  async function tokenOwnerCheck(actor: Actor, row: OAuthTokensTable, what: string, id: string): Promise<void> {
    if (isSelfService(actor)) {
      if (!ownsToken(actor, row)) throw errors.notFound(what, id);
      return;
    }
    if (actor.role === 'admin' || actor.role === 'security') return;
    const p = await directory.principal(row.principal_id);
    if (!p || !mayActOn(actor, p, 'revoke')) {
      if (actor.role === 'owner' && (!p || !mayActOn(actor, p, 'read'))) throw errors.notFound(what, id);
      throw errors.forbidden(`role '${actor.role ?? 'none'}' cannot revoke this ${what}`);
    }
  }

  return {
    async list(actor: Actor, query: ListInventoryQuery) {
      let principal: InventoryPrincipal | undefined;
      if (query.principal !== undefined) principal = await visiblePrincipal(actor, query.principal, 'read', 'not_found');
      else if (isSelfService(actor)) principal = await visiblePrincipal(actor, actor.principal!.id, 'read', 'not_found');
      else if (actor.role === null || !READ_ALL_ROLES.has(actor.role)) {
        if (actor.role !== 'owner') throw errors.forbidden('this credential cannot list credentials');
        throw errors.validation('owner-role operators list the credentials of one principal they own: pass principal=');
      }

      const sort: Sort = query.sort ?? 'id';
      const after = decodeKey(sort, query.cursor);
      const state: InventoryState = query.state ?? (query.expiring_within !== undefined ? 'expiring' : 'live');
      const within = query.expiring_within ?? DEFAULT_EXPIRING_WITHIN_SECONDS;
      const nowDate = clock.now();
      const now = nowDate.getTime();
      const want = query.limit + 1;

      let tokenItems: InventoryItem[] = [];
      if ((query.kind === undefined || query.kind === 'access_token') && state !== 'never_used') {
        const rows = await tokens.listTokens(db.kysely, db.dialect, {
          principalId: principal?.id,
          liveAt: nowDate.toISOString(),
          expiresBy: state === 'expiring' ? new Date(now + within * 1000).toISOString() : undefined,
          sort: sort === 'id' ? 'jti' : sort,
          after: after === undefined ? undefined
            : sort === 'id' ? { sort: 'jti', jti: after.id }
              : sort === 'expires_at' ? { sort: 'expires_at', expiresAt: String(after.primary), jti: after.id }
                : { sort: 'lifetime', lifetime: Number(after.primary), jti: after.id },
          limit: want,
        });
        const names = await directory.principalNames([...new Set(rows.map((r) => r.principal_id))]);
        tokenItems = rows.map((r) => tokenItem(r, names.get(r.principal_id) ?? r.principal_id));
      }

      let held: InventoryItem[] = [];
      if (query.kind !== 'access_token') {
        for (const source of sources) {
          const items = principal ? await source.heldBy(principal.id) : await source.all?.() ?? [];
          held.push(...items);
        }
        held = held.filter((i) => (query.kind === undefined || i.kind === query.kind) && inState(i, state, now, within)
          && (after === undefined || compareKeys(sort, sortKey(sort, i), after) > 0));
      }

      const merged = [...tokenItems, ...held].sort((a, b) => compareKeys(sort, sortKey(sort, a), sortKey(sort, b))).slice(0, want);
      const items = merged.slice(0, query.limit);
      const last = items[items.length - 1];
      return { items, next_cursor: merged.length > query.limit && last ? encodeKey(sort, sortKey(sort, last)) : null };
    },

    /** Revokes exactly one target (the body schema guarantees it). */
    async revoke(actor: Actor, input: RevokeCredentialsInput): Promise<RevocationResult> {
      const reason = input.reason ?? null;
      if (actor.role === 'auditor') throw errors.forbidden('auditors revoke nothing');
      if (input.jti !== undefined) {
        const row = await tokens.findToken(db.kysely, input.jti);
        if (!row) throw errors.notFound('access token', input.jti);
        await tokenOwnerCheck(actor, row, 'access token', input.jti);
        const r = await revocation.revokeToken(actor, input.jti, reason);
        return { target: { kind: 'token', id: r.jti }, revoked_at: r.revoked_at, already_revoked: r.already_revoked, not_before: null, cascade: r.cascade };
      }
      if (input.family !== undefined) {
        const members = await tokens.tokensOfFamily(db.kysely, input.family);
        const root = members.find((m) => m.jti === input.family) ?? members[0];
        if (!root) throw errors.notFound('token family', input.family);
        await tokenOwnerCheck(actor, root, 'token family', input.family);
        const r = await revocation.revokeFamily(actor, input.family, reason);
        return { target: { kind: 'family', id: r.family_id }, revoked_at: r.revoked_at, already_revoked: r.already_revoked, not_before: null, cascade: r.cascade };
      }
      if (isSelfService(actor)) throw errors.forbidden('with your own credential you may revoke only your own tokens (jti or family)');
      if (input.credential_id !== undefined) {
        const holderId = await revocation.principalOfCredential(input.credential_id);
        if (!holderId) throw errors.notFound('credential', input.credential_id);
        const p = await directory.principal(holderId);
        if (!p || !mayActOn(actor, p, 'revoke')) {
          if (actor.role === 'owner') throw errors.notFound('credential', input.credential_id);
          throw errors.forbidden(`role '${actor.role ?? 'none'}' cannot revoke credentials`);
        }
        const r = await revocation.revokeCredential(actor, input.credential_id, reason);
        return { target: { kind: 'credential', id: r.credential_id }, revoked_at: r.revoked_at, already_revoked: r.already_revoked, not_before: null, cascade: r.cascade };
      }
      const p = await visiblePrincipal(actor, input.principal!, 'revoke', 'principal_not_found');
      const r = await revocation.revokePrincipal(actor, p.id, reason);
      return { target: { kind: 'principal', id: r.principal_id }, revoked_at: r.revoked_at, already_revoked: false, not_before: r.not_before, cascade: r.cascade };
    },
  };
}
export type InventoryService = ReturnType<typeof createInventoryService>;
