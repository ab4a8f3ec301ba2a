import type { AuditWriter } from '../audit/index.js';
import type { Actor } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import { custosTokenMatches, generateCustosToken, hashCustosToken, parseCustosToken } from '../platform/credential-format.js';
import { errors } from '../platform/http/errors.js';
import { judgeLeak } from '../platform/leaked-credential.js';
import { decodeCursor, pageOf } from '../platform/http/pagination.js';
import type { IdGenerator } from '../platform/ids.js';
import type { Database, Trx, WriteBatch } from '../platform/store/db.js';
import type { RefreshTokensTable, SigninSessionsTable } from '../platform/store/schema.js';
import * as repo from './sessions.repo.js';

// A person's sign-in session: what their refresh tokens continue, and the credential every access token minted
// through it names (oauth_tokens.credential_id), so revoking the session revokes those tokens in cascade.
// Rules:
// - Refresh tokens are custos_rt_ strings, stored as SHA-256 only; each lives until the session's absolute expiry.
// - Rotation: a refresh marks its token used and issues the next, in the transaction that records the new access
//   token. A used token presented again is reuse (RFC 9700 §4.14.2): the whole session ends — every refresh token
//   and every access token obtained through it — and the reuse is audited.
// - The session ends when the person is suspended or decommissioned (revokeAllOf, in identity's transaction), when
//   it is revoked by id (an operator, `custos logout`, a leak report), or when the IdP no longer vouches for them.

export interface SessionStart {
  /** Chosen before the transaction: the first access token names it as its credential. */
  id: string;
  principal: { id: string; name: string };
  clientId: string;
  authMethod: SigninSessionsTable['auth_method'];
  idpId: string | null;
  sourceCredentialId: string | null;
  role: string | null;
  groups: string[];
  scope: string[];
  audience: string[];
  purpose: string | null;
  jkt: string | null;
  upstreamRefreshSealed: string | null;
  authTime: Date;
  /** Whether the client gets refresh tokens (its grant types include refresh_token). */
  refreshable: boolean;
  /** The session ends by then at the latest (the operator token it was started with expires). */
  notAfter?: Date | null;
}

export type RefreshLookup =
  | { kind: 'live'; token: RefreshTokensTable; session: SigninSessionsTable }
  | { kind: 'reused'; token: RefreshTokensTable; session: SigninSessionsTable }
  | { kind: 'invalid'; reason: string };

export interface SessionServiceDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  sessionHours: number;
  /** Principal names for the views (identity's directory). */
  principalNames(ids: string[]): Promise<Map<string, string>>;
  /** The credentials module's cascade: every token obtained with the credential (the session) revoked. */
  onCredentialRevoked(trx: Trx, batch: WriteBatch, actor: Actor, credentialId: string, reason: string | null): Promise<unknown>;
}

export function sessionView(s: SigninSessionsTable, principalName?: string) {
  return {
    id: s.id, principal: { id: s.principal_id, name: principalName ?? s.principal_id }, client_id: s.client_id, auth_method: s.auth_method,
    idp_id: s.idp_id, role: s.role, groups: JSON.parse(s.groups) as string[], scope: s.scope.split(' ').filter(Boolean),
    audience: JSON.parse(s.audience) as string[], purpose: s.purpose, dpop_bound: s.jkt !== null, auth_time: s.auth_time, created_at: s.created_at,
    expires_at: s.expires_at, last_refreshed_at: s.last_refreshed_at, revoked_at: s.revoked_at, revoked_reason: s.revoked_reason,
  };
}
export type SessionView = ReturnType<typeof sessionView>;

export function createSessionService(deps: SessionServiceDeps) {
  const { db, audit, clock } = deps;
  const nowIso = () => clock.now().toISOString();
  // A role held through a session counts while its access tokens could still be live (the longest lifetime: 1 h).
  const usedSince = () => new Date(clock.now().getTime() - 3600_000).toISOString();

  async function newRefreshToken(trx: Trx, session: { id: string; expires_at: string }): Promise<{ id: string; token: string }> {
    const { id, token } = generateCustosToken('rt');
    await repo.insertRefreshToken(trx, { id, session_id: session.id, secret_hash: hashCustosToken(token), issued_at: nowIso(), expires_at: session.expires_at, used_at: null, replaced_by: null });
    return { id, token };
  }

  async function revokeIn(trx: Trx, batch: WriteBatch, actor: Actor, session: SigninSessionsTable, reason: string, type = 'signin.session.revoked'): Promise<boolean> {
    const changed = await repo.revokeSession(trx, session.id, nowIso(), reason);
    await deps.onCredentialRevoked(trx, batch, actor, session.id, reason);
    if (changed) {
      await audit.record(trx, batch, {
        type, action: 'credential.revoke', actor, target: { type: 'session', id: session.id, name: null }, outcome: 'success',
        details: { session_id: session.id, principal_id: session.principal_id, client_id: session.client_id, reason },
      });
    }
    return changed;
  }

  return {
    /** Inside the transaction that records the first access token: the session and, when refreshable, its first refresh token. */
    async startIn(trx: Trx, batch: WriteBatch, actor: Actor, input: SessionStart): Promise<{ session: SigninSessionsTable; refreshToken: string | null }> {
      const now = clock.now();
      const session: SigninSessionsTable = {
        id: input.id, principal_id: input.principal.id, client_id: input.clientId, auth_method: input.authMethod, idp_id: input.idpId,
        source_credential_id: input.sourceCredentialId, role: input.role, groups: JSON.stringify(input.groups), scope: input.scope.join(' '),
        audience: JSON.stringify(input.audience), purpose: input.purpose, jkt: input.jkt, upstream_refresh_sealed: input.upstreamRefreshSealed,
        auth_time: input.authTime.toISOString(), created_at: now.toISOString(),
        expires_at: new Date(Math.min(now.getTime() + deps.sessionHours * 3600_000, input.notAfter?.getTime() ?? Infinity)).toISOString(),
        last_refreshed_at: null, revoked_at: null, revoked_reason: null,
      };
      await repo.insertSession(trx, session);
      const refresh = input.refreshable ? await newRefreshToken(trx, session) : null;
      await audit.record(trx, batch, {
        type: 'signin.session.started', action: 'credential.issue', actor, target: { type: 'session', id: session.id, name: input.principal.name }, outcome: 'success',
        details: {
          session_id: session.id, principal_id: input.principal.id, client_id: input.clientId, auth_method: input.authMethod, idp_id: input.idpId,
          role: input.role, groups: input.groups, scope: input.scope, audience: input.audience, purpose: input.purpose, dpop_jkt: input.jkt,
          refreshable: input.refreshable, expires_at: session.expires_at,
        },
      });
      return { session, refreshToken: refresh?.token ?? null };
    },

    /** What a presented refresh token is: live (with its session), reused (already rotated), or nothing we issued. */
    async lookup(token: string): Promise<RefreshLookup> {
      const parsed = parseCustosToken(token);
      if (!parsed || parsed.kind !== 'rt') return { kind: 'invalid', reason: 'not a Custos refresh token' };
      const row = await repo.findRefreshToken(db.kysely, parsed.id);
      if (!row || !custosTokenMatches(token, row.secret_hash)) return { kind: 'invalid', reason: 'unknown refresh token' };
      const session = await repo.findSession(db.kysely, row.session_id);
      if (!session) return { kind: 'invalid', reason: 'unknown refresh token' };
      return row.used_at !== null ? { kind: 'reused', token: row, session } : { kind: 'live', token: row, session };
    },

    /** Rotation, inside the transaction recording the new access token: false when the token was used meanwhile. */
    async rotateIn(trx: Trx, old: RefreshTokensTable, session: SigninSessionsTable, update: Partial<SigninSessionsTable>): Promise<string | false> {
      const next = await newRefreshToken(trx, session);
      if (!await repo.markRefreshUsed(trx, old.id, nowIso(), next.id)) return false;
      await repo.updateSession(trx, session.id, { ...update, last_refreshed_at: nowIso() });
      return next.token;
    },

    /** Reuse of a rotated refresh token: the whole session ends (its own transaction, committed before the refusal). */
    async endForReuse(actor: Actor, session: SigninSessionsTable, tokenId: string): Promise<void> {
      await db.write(async (trx, batch) => {
        const fresh = await repo.findSession(trx, session.id);
        if (!fresh) return;
        await revokeIn(trx, batch, actor, fresh, `refresh token ${tokenId} was presented again after rotation`, 'signin.session.reuse_detected');
      });
    },

    async end(actor: Actor, sessionId: string, reason: string): Promise<boolean> {
      return db.write(async (trx, batch) => {
        const session = await repo.findSession(trx, sessionId);
        if (!session) return false;
        return revokeIn(trx, batch, actor, session, reason);
      });
    },

    endIn: revokeIn,

    /** An operator token revoked: the sessions a person started by pasting it end with it, in the same transaction. */
    async endStartedWith(trx: Trx, batch: WriteBatch, actor: Actor, credentialId: string, reason: string): Promise<void> {
      for (const s of await repo.liveSessionsStartedWith(trx, credentialId, nowIso())) await revokeIn(trx, batch, actor, s, `the operator token it was started with was revoked (${reason})`);
    },

    /** A provider removed: every live session people started through it ends, in the removing transaction. */
    async endAllThrough(trx: Trx, batch: WriteBatch, actor: Actor, idpId: string): Promise<void> {
      for (const s of await repo.liveSessionsThrough(trx, idpId, nowIso())) await revokeIn(trx, batch, actor, s, 'the identity provider was removed');
    },

    /** A refresh that changed what the person holds (role, groups): audited with the refresh. */
    async recordChange(trx: Trx, batch: WriteBatch, actor: Actor, session: SigninSessionsTable, details: Record<string, unknown>): Promise<void> {
      await audit.record(trx, batch, {
        type: 'signin.session.refreshed', action: 'credential.issue', actor, target: { type: 'session', id: session.id, name: null }, outcome: 'success',
        details: { session_id: session.id, principal_id: session.principal_id, ...details },
      });
    },

    async get(id: string): Promise<SessionView> {
      const s = await repo.findSession(db.kysely, id);
      if (!s) throw errors.notFound('session', id);
      return sessionView(s, (await deps.principalNames([s.principal_id])).get(s.principal_id));
    },

    async list(query: { principal?: string; active?: boolean; limit?: number; cursor?: string }) {
      const limit = query.limit ?? 50;
      const after = decodeCursor(query.cursor);
      const rows = await repo.listSessions(db.kysely, {
        principalId: query.principal, activeAt: query.active ? nowIso() : undefined, afterId: typeof after === 'string' ? after : undefined, limit: limit + 1,
      });
      const page = pageOf(rows, limit, (r) => r.id);
      const names = await deps.principalNames([...new Set(page.items.map((s) => s.principal_id))]);
      return { items: page.items.map((s) => sessionView(s, names.get(s.principal_id))), next_cursor: page.next_cursor };
    },

    /** Credential holder (revocation cascades): a principal suspended or decommissioned loses every session. */
    holder: {
      async revokeAllOf(trx: Trx, batch: WriteBatch, actor: Actor, principalId: string, reason: string): Promise<void> {
        for (const s of await repo.liveSessionsOf(trx, principalId, nowIso())) await revokeIn(trx, batch, actor, s, reason);
      },
      async principalOf(credentialId: string, trx?: Trx): Promise<string | undefined> {
        return (await repo.findSession(trx ?? db.kysely, credentialId))?.principal_id;
      },
      async revokeOne(trx: Trx, batch: WriteBatch, actor: Actor, credentialId: string, reason: string): Promise<'revoked' | 'already_revoked' | undefined> {
        const s = await repo.findSession(trx, credentialId);
        if (!s) return undefined;
        return (await revokeIn(trx, batch, actor, s, reason)) ? 'revoked' : 'already_revoked';
      },
    },

    /**
     * For the findings loop: a leaked refresh token (its id and SHA-256 prefix, never the secret) that is ours and
     * whose session is live ends the session, in the report's transaction. A rotated one counts too: whoever holds
     * it could present it, and reuse would end the session anyway.
     */
    async revokeLeaked(trx: Trx, batch: WriteBatch, actor: Actor, leak: { id: string; sha256Prefix: string }, _details: Record<string, unknown>) {
      const token = await repo.findRefreshToken(trx, leak.id);
      const session = token ? await repo.findSession(trx, token.session_id) : undefined;
      const judged = judgeLeak(token && session ? { secret_hash: token.secret_hash, principal_id: session.principal_id, revoked_at: session.revoked_at, expires_at: session.expires_at } : undefined, leak, clock.now());
      if (judged.liveness !== 'live') return { liveness: judged.liveness, ownerId: judged.ownerId, revoked: false };
      await revokeIn(trx, batch, actor, session!, 'leaked: found by a secret scan');
      return { liveness: 'revoked' as const, ownerId: judged.ownerId, revoked: true };
    },

    /** Roles held through live sessions, for identity's role rules (no role acts on a higher one; keep one admin). */
    async liveRolesOf(principalId: string, trx?: Trx): Promise<string[]> {
      return repo.liveRolesOf(trx ?? db.kysely, principalId, nowIso(), usedSince());
    },
    async liveAdminHolders(trx?: Trx): Promise<string[]> {
      return repo.liveAdminHolders(trx ?? db.kysely, nowIso(), usedSince());
    },
    async prune(): Promise<number> {
      return repo.deleteExpiredRefreshTokens(db.kysely, new Date(clock.now().getTime() - 24 * 3600_000).toISOString());
    },
  };
}
export type SessionService = ReturnType<typeof createSessionService>;
