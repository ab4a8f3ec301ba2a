import type { Kysely } from 'kysely';
import type { ClientKeysTable, DB } from '../platform/store/schema.js';

// Thin queries over client_keys (public keys registered for private_key_jwt); the only SQL for them.
// Times are ISO-8601 UTC text, so comparing strings compares instants.

type Q = Kysely<DB>;

export async function insertKey(db: Q, row: ClientKeysTable): Promise<void> {
  await db.insertInto('client_keys').values(row).execute();
}

export async function findKey(db: Q, id: string): Promise<ClientKeysTable | undefined> {
  return db.selectFrom('client_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Keys not removed and not expired at `now`, oldest first: what private_key_jwt assertions are checked against. */
export async function activeKeysOf(db: Q, principalId: string, now: string): Promise<ClientKeysTable[]> {
  return db.selectFrom('client_keys').selectAll()
    .where('principal_id', '=', principalId).where('removed_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('id').execute();
}

/** Every key a principal has registered, removed ones too, oldest first. */
export async function keysOf(db: Q, principalId: string): Promise<ClientKeysTable[]> {
  return db.selectFrom('client_keys').selectAll().where('principal_id', '=', principalId).orderBy('id').execute();
}

export async function listKeys(db: Q, f: { principalId?: string; includeRemoved: boolean; afterId?: string; limit: number }): Promise<ClientKeysTable[]> {
  let q = db.selectFrom('client_keys').selectAll();
  if (f.principalId !== undefined) q = q.where('principal_id', '=', f.principalId);
  if (!f.includeRemoved) q = q.where('removed_at', 'is', null);
  if (f.afterId !== undefined) q = q.where('id', '>', f.afterId);
  return q.orderBy('id').limit(f.limit).execute();
}

export async function markRemoved(db: Q, id: string, at: string): Promise<void> {
  await db.updateTable('client_keys').set({ removed_at: at }).where('id', '=', id).where('removed_at', 'is', null).execute();
}

/** Sets last_used_at unless it was set after `cutoff` (another node marked it within the resolution). */
export async function markUsed(db: Q, id: string, at: string, cutoff: string): Promise<void> {
  await db.updateTable('client_keys').set({ last_used_at: at }).where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', cutoff)]))
    .execute();
}
