import type { Kysely } from 'kysely';
import type { DB, RefreshTokensTable, SigninSessionsTable } from '../platform/store/schema.js';
import type { Trx } from '../platform/store/db.js';

// signin_sessions and refresh_tokens (hashes only).

type Q = Kysely<DB> | Trx;

export async function insertSession(db: Q, row: SigninSessionsTable): Promise<void> {
  await db.insertInto('signin_sessions').values(row).execute();
}

export async function findSession(db: Q, id: string): Promise<SigninSessionsTable | undefined> {
  return db.selectFrom('signin_sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateSession(db: Q, id: string, patch: Partial<SigninSessionsTable>): Promise<void> {
  await db.updateTable('signin_sessions').set(patch).where('id', '=', id).execute();
}

export async function listSessions(db: Q, f: { principalId?: string; activeAt?: string; afterId?: string; limit: number }) {
  let q = db.selectFrom('signin_sessions').selectAll();
  if (f.principalId) q = q.where('principal_id', '=', f.principalId);
  if (f.activeAt) q = q.where('revoked_at', 'is', null).where('expires_at', '>', f.activeAt);
  if (f.afterId) q = q.where('id', '>', f.afterId);
  return q.orderBy('id').limit(f.limit).execute();
}

export async function liveSessionsOf(db: Q, principalId: string, now: string): Promise<SigninSessionsTable[]> {
  return db.selectFrom('signin_sessions').selectAll().where('principal_id', '=', principalId)
    .where('revoked_at', 'is', null).where('expires_at', '>', now).execute();
}

/** Marks the session revoked if it is not already; false when it was. */
export async function revokeSession(db: Q, id: string, at: string, reason: string): Promise<boolean> {
  const res = await db.updateTable('signin_sessions').set({ revoked_at: at, revoked_reason: reason }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function insertRefreshToken(db: Q, row: RefreshTokensTable): Promise<void> {
  await db.insertInto('refresh_tokens').values(row).execute();
}

export async function findRefreshToken(db: Q, id: string): Promise<RefreshTokensTable | undefined> {
  return db.selectFrom('refresh_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Rotation: marks the token used if it is still unused; false when another refresh used it first. */
export async function markRefreshUsed(db: Q, id: string, at: string, replacedBy: string): Promise<boolean> {
  const res = await db.updateTable('refresh_tokens').set({ used_at: at, replaced_by: replacedBy }).where('id', '=', id).where('used_at', 'is', null).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Highest operator role among a principal's live sessions (the role rules count roles held through sign-in too). */
/**
 * Roles held through sessions that are in use: live, and started or refreshed since `usedSince` (the longest access
 * token lifetime ago). An idle session's role was decided at its last refresh; it counts again once refreshed.
 */
/** Live sessions started or refreshed since `usedSince`. */
function sessionsInUse(db: Q, now: string, usedSince: string) {
  return db.selectFrom('signin_sessions').where('revoked_at', 'is', null).where('expires_at', '>', now)
    .where((eb) => eb.or([eb('last_refreshed_at', '>', usedSince), eb('created_at', '>', usedSince)]));
}

export async function liveRolesOf(db: Q, principalId: string, now: string, usedSince: string): Promise<string[]> {
  const rows = await sessionsInUse(db, now, usedSince).select('role').distinct().where('principal_id', '=', principalId).where('role', 'is not', null).execute();
  return rows.map((r) => r.role!);
}

export async function liveAdminHolders(db: Q, now: string, usedSince: string): Promise<string[]> {
  const rows = await sessionsInUse(db, now, usedSince).select('principal_id').distinct().where('role', '=', 'admin').execute();
  return rows.map((r) => r.principal_id);
}

/** Refresh tokens past their expiry (a day's grace, so a late reuse still finds its session). */
export async function deleteExpiredRefreshTokens(db: Q, before: string): Promise<number> {
  const res = await db.deleteFrom('refresh_tokens').where('expires_at', '<', before).executeTakeFirst();
  return Number(res.numDeletedRows);
}

export async function liveSessionsThrough(db: Q, idpId: string, now: string): Promise<SigninSessionsTable[]> {
  return db.selectFrom('signin_sessions').selectAll().where('idp_id', '=', idpId).where('revoked_at', 'is', null).where('expires_at', '>', now).execute();
}

export async function liveSessionsStartedWith(db: Q, credentialId: string, now: string): Promise<SigninSessionsTable[]> {
  return db.selectFrom('signin_sessions').selectAll().where('source_credential_id', '=', credentialId).where('revoked_at', 'is', null).where('expires_at', '>', now).execute();
}
