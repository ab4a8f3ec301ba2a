import type { Kysely } from 'kysely';
import { reusable } from '../platform/store/reusable.js';
import type { ClientSecretsTable, DB } from '../platform/store/schema.js';

// Thin queries over client_secrets (hashes only, never a secret); the only SQL for them.
// Times are ISO-8601 UTC text, so comparing strings compares instants.

type Q = Kysely<DB>;

// Every client_secret_basic / client_secret_post token request runs this one: compiled once, re-bound after.
const secretById = reusable(1, (db, id) => db.selectFrom('client_secrets').selectAll().where('id', '=', id));

export async function findSecret(db: Q, id: string): Promise<ClientSecretsTable | undefined> {
  return (await secretById(db, id)).rows[0] as ClientSecretsTable | undefined;
}

export async function insertSecret(db: Q, row: ClientSecretsTable): Promise<void> {
  await db.insertInto('client_secrets').values(row).execute();
}

/** Every secret a principal has held, revoked ones too, in id order. */
export async function secretsOf(db: Q, principalId: string): Promise<ClientSecretsTable[]> {
  return db.selectFrom('client_secrets').selectAll().where('principal_id', '=', principalId).orderBy('id').execute();
}

export async function listSecrets(db: Q, f: { principalId?: string; includeRevoked: boolean; afterId?: string; limit: number }): Promise<ClientSecretsTable[]> {
  let q = db.selectFrom('client_secrets').selectAll();
  if (f.principalId !== undefined) q = q.where('principal_id', '=', f.principalId);
  if (!f.includeRevoked) q = q.where('revoked_at', 'is', null);
  if (f.afterId !== undefined) q = q.where('id', '>', f.afterId);
  return q.orderBy('id').limit(f.limit).execute();
}

export async function markRevoked(db: Q, id: string, at: string, reason: string | null): Promise<void> {
  await db.updateTable('client_secrets').set({ revoked_at: at, revoked_reason: reason }).where('id', '=', id).where('revoked_at', 'is', null).execute();
}

/** Rotation: the old secret now expires at `expiresAt` and names its successor. */
export async function markReplaced(db: Q, id: string, replacedBy: string, expiresAt: string): Promise<void> {
  await db.updateTable('client_secrets').set({ replaced_by: replacedBy, expires_at: expiresAt }).where('id', '=', id).execute();
}

/** Sets last_used_at unless it was set after `cutoff` (another node marked it within the resolution). */
export async function markUsed(db: Q, id: string, at: string, cutoff: string): Promise<void> {
  await db.updateTable('client_secrets').set({ last_used_at: at }).where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', cutoff)]))
    .execute();
}
