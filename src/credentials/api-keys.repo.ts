import type { Kysely } from 'kysely';
import { reusable } from '../platform/store/reusable.js';
import type { ApiKeysTable, DB } from '../platform/store/schema.js';

// Thin queries over api_keys; the only SQL for API keys. Principals are read through identity's directory.

type Q = Kysely<DB>;

// Every request authenticated with an API key runs this one: compiled once, re-bound after (reusable.ts).
const keyById = reusable(1, (db, id) => db.selectFrom('api_keys').selectAll().where('id', '=', id));

export async function findKey(db: Q, id: string): Promise<ApiKeysTable | undefined> {
  return (await keyById(db, id)).rows[0] as ApiKeysTable | undefined;
}

export async function insertKey(db: Q, row: ApiKeysTable): Promise<void> {
  await db.insertInto('api_keys').values(row).execute();
}

export async function listKeys(db: Q, f: { principalId?: string; includeRevoked: boolean; afterId?: string; limit: number }): Promise<ApiKeysTable[]> {
  let q = db.selectFrom('api_keys').selectAll();
  if (f.principalId !== undefined) q = q.where('principal_id', '=', f.principalId);
  if (!f.includeRevoked) q = q.where('revoked_at', 'is', null);
  if (f.afterId !== undefined) q = q.where('id', '>', f.afterId);
  return q.orderBy('id').limit(f.limit).execute();
}

/** A principal's keys that are neither revoked nor expired at `now`. */
export async function liveKeysOf(db: Q, principalId: string, now: string): Promise<ApiKeysTable[]> {
  return db.selectFrom('api_keys').selectAll()
    .where('principal_id', '=', principalId).where('revoked_at', 'is', null).where('expires_at', '>', now)
    .orderBy('id').execute();
}

export async function markRevoked(db: Q, id: string, at: string, reason: string | null): Promise<void> {
  await db.updateTable('api_keys').set({ revoked_at: at, revoked_reason: reason }).where('id', '=', id).execute();
}

export async function markReplaced(db: Q, id: string, replacedBy: string, expiresAt: string): Promise<void> {
  await db.updateTable('api_keys').set({ replaced_by: replacedBy, expires_at: expiresAt }).where('id', '=', id).execute();
}

export async function markUsed(db: Q, id: string, at: string): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
}
