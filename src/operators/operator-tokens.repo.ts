import type { Kysely } from 'kysely';
import { reusable } from '../platform/store/reusable.js';
import type { DB, OperatorTokensTable } from '../platform/store/schema.js';

// Thin queries over operator_tokens; the only SQL in this module. Principals are read through identity.

type Q = Kysely<DB>;

// Every authenticated request runs this one: compiled once, re-bound after (reusable.ts).
const tokenById = reusable(1, (db, id) => db.selectFrom('operator_tokens').selectAll().where('id', '=', id));

export async function findToken(db: Q, id: string): Promise<OperatorTokensTable | undefined> {
  return (await tokenById(db, id)).rows[0] as OperatorTokensTable | undefined;
}

export async function insertToken(db: Q, row: OperatorTokensTable): Promise<void> {
  await db.insertInto('operator_tokens').values(row).execute();
}

export async function listTokens(db: Q, f: { principalId?: string; includeRevoked: boolean; afterId?: string; limit: number }) {
  let q = db.selectFrom('operator_tokens').selectAll();
  if (f.principalId !== undefined) q = q.where('principal_id', '=', f.principalId);
  if (!f.includeRevoked) q = q.where('revoked_at', 'is', null);
  if (f.afterId !== undefined) q = q.where('id', '>', f.afterId);
  return q.orderBy('id').limit(f.limit).execute();
}

export async function markRevoked(db: Q, id: string, at: string, reason: string | null): Promise<void> {
  await db.updateTable('operator_tokens').set({ revoked_at: at, revoked_reason: reason }).where('id', '=', id).execute();
}

export async function markUsed(db: Q, id: string, at: string): Promise<void> {
  await db.updateTable('operator_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
}

/** Roles of a principal's valid tokens (not revoked, not expired at `now`), one row per distinct role. */
export async function validRolesOf(db: Q, principalId: string, now: string): Promise<string[]> {
  const rows = await db.selectFrom('operator_tokens').select('role').distinct()
    .where('principal_id', '=', principalId).where('revoked_at', 'is', null).where('expires_at', '>', now)
    .execute();
  return rows.map((r) => r.role);
}

/** Principals holding at least one valid admin token at `now`, optionally not counting one token. */
export async function validAdminHolders(db: Q, now: string, exceptTokenId?: string): Promise<string[]> {
  let q = db.selectFrom('operator_tokens').select('principal_id').distinct()
    .where('role', '=', 'admin').where('revoked_at', 'is', null).where('expires_at', '>', now);
  if (exceptTokenId !== undefined) q = q.where('id', '!=', exceptTokenId);
  return (await q.execute()).map((r) => r.principal_id);
}
