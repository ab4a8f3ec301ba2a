import type { Actor, OperatorRole, Provenance } from '../platform/actor.js';
import { judgeLeak } from '../platform/leaked-credential.js';
import { anonymousActor, operatorActor } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import {
  custosTokenMatches, generateCustosToken, hashCustosToken, parseCustosToken,
} from '../platform/credential-format.js';
import { AppError, errors } from '../platform/http/errors.js';
import { kindPhrase } from '../platform/text.js';
import { decodeCursor, pageOf } from '../platform/http/pagination.js';
import type { Database, Trx, WriteBatch } from '../platform/store/db.js';
import { ROLE_RANK } from '../identity/index.js';
import type { OperatorTokensTable } from '../platform/store/schema.js';
import type { AuditRecorder, PrincipalLookup } from './ports.js';
import * as repo from './operator-tokens.repo.js';
import { canGrantRole } from './roles.js';
import type { ListTokensQuery, MintTokenInput, TokenView } from './operator-tokens.schemas.js';

// Operator API tokens: bearer credentials for humans who run Custos, each with one role and an expiry.
// The token is shown once; only its hash is stored. Every mint, first use, failure and revocation is audited.
// Principals are identity's: this service asks identity's directory (a port) and never reads its tables.

const LAST_USED_RESOLUTION_MS = 60_000;

export interface OperatorTokenDeps {
  db: Database;
  audit: AuditRecorder;
  clock: Clock;
  identity: PrincipalLookup;
}

export function createOperatorTokenService(deps: OperatorTokenDeps) {
  const { db, audit, clock, identity } = deps;

  async function views(rows: OperatorTokensTable[], trx?: Trx): Promise<TokenView[]> {
    const names = await identity.principalNames(rows.map((r) => r.principal_id), trx);
    return rows.map((row) => ({
      id: row.id, principal: { id: row.principal_id, name: names.get(row.principal_id) ?? row.principal_id }, role: row.role as OperatorRole,
      description: row.description, created_at: row.created_at, created_by: row.created_by, expires_at: row.expires_at,
      revoked_at: row.revoked_at, revoked_reason: row.revoked_reason, last_used_at: row.last_used_at,
    }));
  }

  /** Inserts a token row and its audit event inside the caller's transaction. */
  async function insert(trx: Trx, batch: WriteBatch, actor: Actor, principal: { id: string; name: string }, role: OperatorRole, ttlSeconds: number, description: string | null) {
    const { id, token } = generateCustosToken('op');
    const now = clock.now();
    const row: OperatorTokensTable = {
      id, principal_id: principal.id, role, description, secret_hash: hashCustosToken(token),
      created_at: now.toISOString(), created_by: actor.principal?.id ?? null,
      expires_at: new Date(now.getTime() + ttlSeconds * 1000).toISOString(),
      revoked_at: null, revoked_reason: null, last_used_at: null,
    };
    await repo.insertToken(trx, row);
    await audit.record(trx, batch, {
      type: 'credential.operator_token.issued', action: 'credential.issue', actor,
      target: { type: 'operator_token', id, name: principal.name }, outcome: 'success',
      details: { principal_id: principal.id, role, expires_at: row.expires_at, description },
    });
    return { row, token };
  }

  async function recordFailure(token: string | undefined, reason: string, provenance: Provenance, credentialId: string | null) {
    try {
      await db.write((trx, batch) => audit.record(trx, batch, {
        type: 'auth.failed', action: 'auth.authenticate',
        actor: anonymousActor('operator_token', provenance, credentialId ? { id: credentialId, kind: 'operator_token' } : null),
        outcome: 'failure', reasons: [reason],
        details: token ? { token_hmac: audit.hmac(token) } : {},
      }));
    } catch {
      // The request is refused whether or not its failure could be recorded.
    }
  }

  // What else ends with a token (the sign-in sessions a person started by pasting it), attached late.
  const onRevoked: Array<(trx: Trx, batch: WriteBatch, actor: Actor, tokenId: string, reason: string) => Promise<void>> = [];

  async function revokeRow(trx: Trx, batch: WriteBatch, actor: Actor, row: OperatorTokensTable, reason: string | null, details: Record<string, unknown>) {
    if (row.revoked_at) return;
    await repo.markRevoked(trx, row.id, clock.now().toISOString(), reason);
    await audit.record(trx, batch, {
      type: 'credential.operator_token.revoked', action: 'credential.revoke', actor,
      target: { type: 'operator_token', id: row.id, name: null }, outcome: 'success',
      details: { reason, principal_id: row.principal_id, ...details },
    });
    for (const listener of onRevoked) await listener(trx, batch, actor, row.id, reason ?? 'operator token revoked');
  }

  /** The highest role among a principal's valid tokens (admin > security > auditor = owner; ties keep the first). */
  async function highestRoleOf(principalId: string, trx?: Trx): Promise<OperatorRole | null> {
    const roles = await repo.validRolesOf(trx ?? db.kysely, principalId, clock.now().toISOString()) as OperatorRole[];
    return roles.reduce<OperatorRole | null>((best, r) => (best === null || ROLE_RANK[r] > ROLE_RANK[best] ? r : best), null);
  }

  async function adminHolderIds(trx?: Trx): Promise<string[]> {
    return repo.validAdminHolders(trx ?? db.kysely, clock.now().toISOString());
  }

  /**
   * Revoking through the API obeys the role rules: no role revokes a token of a principal holding a higher role,
   * and the last valid admin token held by an active human stays (409 last_admin). A leaked token is revoked by
   * revokeLeaked regardless: a published admin token is worse than a locked-out installation, which
   * `custos admin recover` fixes on the host.
   */
  async function assertMayRevoke(trx: Trx, actor: Actor, row: OperatorTokensTable): Promise<void> {
    const held = await highestRoleOf(row.principal_id, trx);
    if (held !== null && (actor.role === null || ROLE_RANK[held] > ROLE_RANK[actor.role])) {
      throw errors.forbidden(`this token belongs to a principal holding the ${held} role; ${actor.role === 'admin' ? 'an' : 'a'} ${actor.role ?? 'role-less'} operator cannot revoke it`);
    }
    const now = clock.now();
    if (row.role !== 'admin' || new Date(row.expires_at) <= now) return;
    const holder = await identity.principalByRef(row.principal_id, trx);
    if (holder?.status !== 'active') return;
    for (const id of await repo.validAdminHolders(trx, now.toISOString(), row.id)) {
      const other = await identity.principalByRef(id, trx);
      if (other?.kind === 'human' && other.status === 'active') return;
    }
    throw new AppError('last_admin', `this is the last valid admin token of an active human ('${holder.name}'); mint another admin token first (or run \`custos admin recover\` on the host)`);
  }

  return {
    insert,
    recordFailure,
    highestRoleOf,
    adminHolderIds,

    /** The token's role and expiry while it is unrevoked and unexpired, else null (a sign-in session started with it ends). */
    async whileValid(id: string, trx?: Trx): Promise<{ role: OperatorRole; expiresAt: string } | null> {
      const row = await repo.findToken(trx ?? db.kysely, id);
      if (!row || row.revoked_at !== null || row.expires_at <= clock.now().toISOString()) return null;
      return { role: row.role as OperatorRole, expiresAt: row.expires_at };
    },

    /** Called inside the revoking transaction whenever a token is revoked (by a person or a leak report). */
    onRevoked(listener: (trx: Trx, batch: WriteBatch, actor: Actor, tokenId: string, reason: string) => Promise<void>): void {
      onRevoked.push(listener);
    },

    async mint(actor: Actor, input: MintTokenInput) {
      if (!canGrantRole(actor.role, input.role)) throw errors.forbidden(`role '${actor.role}' cannot mint '${input.role}' tokens`);
      return db.write(async (trx, batch) => {
        const p = await identity.principalByRef(input.principal, trx);
        if (!p) throw new AppError('principal_not_found', `principal '${input.principal}' does not exist`);
        if (p.kind !== 'human') throw new AppError('principal_not_human', `operator tokens are for humans; '${p.name}' is ${kindPhrase(p.kind)}`);
        if (p.status !== 'active') throw new AppError('principal_not_active', `principal '${p.name}' is ${p.status}`);
        const { row, token } = await insert(trx, batch, actor, p, input.role, input.ttl_seconds, input.description ?? null);
        const [view] = await views([row], trx);
        return { ...view!, token };
      });
    },

    async list(query: ListTokensQuery) {
      const after = decodeCursor(query.cursor);
      let principalId: string | undefined;
      if (query.principal) principalId = (await identity.principalByRef(query.principal))?.id ?? '-';
      const rows = await repo.listTokens(db.kysely, {
        principalId, includeRevoked: Boolean(query.include_revoked), afterId: after === undefined ? undefined : String(after), limit: query.limit + 1,
      });
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: await views(page.items), next_cursor: page.next_cursor };
    },

    /** Revokes at once; used by operators. Revoking a revoked token changes nothing and says so. */
    async revoke(actor: Actor, id: string, reason: string | undefined) {
      return db.write(async (trx, batch) => {
        const row = await repo.findToken(trx, id);
        if (!row) throw errors.notFound('operator token', id);
        const alreadyRevoked = row.revoked_at !== null;
        if (!alreadyRevoked) await assertMayRevoke(trx, actor, row);
        await revokeRow(trx, batch, actor, row, reason ?? null, {});
        const [view] = await views([alreadyRevoked ? row : { ...row, revoked_at: clock.now().toISOString(), revoked_reason: reason ?? null }], trx);
        return { ...view!, already_revoked: alreadyRevoked };
      });
    },

    /**
     * For the scanner: inside the caller's transaction, confirm that a leaked token is one of ours (its id and
     * the SHA-256 prefix the scan computed match) and revoke it if it is still live. Never needs the secret.
     */
    async revokeLeaked(trx: Trx, batch: WriteBatch, actor: Actor, leak: { id: string; sha256Prefix: string }, details: Record<string, unknown>) {
      const row = await repo.findToken(trx, leak.id);
      const judged = judgeLeak(row, leak, clock.now());
      if (judged.liveness !== 'live') return { liveness: judged.liveness, ownerId: judged.ownerId, revoked: false };
      await revokeRow(trx, batch, actor, row!, 'leaked: found by a secret scan', details);
      return { liveness: 'revoked' as const, ownerId: judged.ownerId, revoked: true };
    },

    /** Resolves an operator token to an Actor, or throws 401. Checks format, hash, revocation, expiry and the principal. */
    async authenticate(token: string, provenance: Provenance): Promise<Actor> {
      const parsed = parseCustosToken(token);
      if (!parsed || parsed.kind !== 'op') {
        await recordFailure(token, 'malformed_token', provenance, null);
        throw errors.unauthenticated('token is not a valid Custos operator token');
      }
      const row = await repo.findToken(db.kysely, parsed.id);
      const holder = row && custosTokenMatches(token, row.secret_hash) ? await identity.principalWithTeams(row.principal_id) : undefined;
      const now = clock.now();
      const failure = !row || !holder ? 'unknown_token'
        : row.revoked_at ? 'token_revoked'
          : new Date(row.expires_at) <= now ? 'token_expired'
            : holder.principal.status !== 'active' ? 'principal_not_active' : null;
      if (failure || !row || !holder) {
        await recordFailure(token, failure ?? 'unknown_token', provenance, row ? parsed.id : null);
        throw errors.unauthenticated(failure === 'token_expired' ? 'token has expired' : failure === 'token_revoked' ? 'token has been revoked' : 'token is not valid');
      }
      const actor = operatorActor({ principal: holder.principal, credentialId: row.id, role: row.role as OperatorRole, teamIds: holder.teamIds, provenance });
      if (!row.last_used_at) {
        // First use of a token is an operator sign-in: recorded before the request proceeds.
        await db.write(async (trx, batch) => {
          await repo.markUsed(trx, row.id, now.toISOString());
          await audit.record(trx, batch, { type: 'auth.sign_in', action: 'auth.authenticate', actor, target: { type: 'operator_token', id: row.id, name: null }, outcome: 'success' });
        });
      } else if (now.getTime() - new Date(row.last_used_at).getTime() > LAST_USED_RESOLUTION_MS) {
        void db.write((trx) => repo.markUsed(trx, row.id, now.toISOString())).catch(() => undefined);
      }
      return actor;
    },
  };
}
export type OperatorTokenService = ReturnType<typeof createOperatorTokenService>;


