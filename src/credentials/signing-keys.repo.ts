import type { Kysely } from 'kysely';
import type { DB, SigningKeysTable } from '../platform/store/schema.js';

// Thin queries over signing_keys; the only SQL of the signing-key store. Rows carry the public JWK in clear
// and the private JWK sealed with the master key (signing-keys.service.ts seals and opens it).

type Q = Kysely<DB>;

export async function insertKey(db: Q, row: SigningKeysTable): Promise<void> {
  await db.insertInto('signing_keys').values(row).execute();
}

/** Every key, oldest first (the store holds a few dozen at most: one per rotation). */
export async function listKeys(db: Q): Promise<SigningKeysTable[]> {
  return db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
}

export async function keysWithStatus(db: Q, status: SigningKeysTable['status']): Promise<SigningKeysTable[]> {
  return db.selectFrom('signing_keys').selectAll().where('status', '=', status).orderBy('created_at').orderBy('kid').execute();
}

/** An active key stops signing: it verifies until `verifyUntil`, when every token it signed has expired. */
export async function markRetiring(db: Q, kid: string, at: string, verifyUntil: string): Promise<void> {
  await db.updateTable('signing_keys').set({ status: 'retiring', deactivated_at: at, verify_until: verifyUntil })
    .where('kid', '=', kid).where('status', '=', 'active').execute();
}

/** A retiring key past `verify_until` is retired; returns whether this call retired it (another node may have). */
export async function markRetired(db: Q, kid: string, at: string): Promise<boolean> {
  const result = await db.updateTable('signing_keys').set({ status: 'retired', retired_at: at })
    .where('kid', '=', kid).where('status', '=', 'retiring').executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
