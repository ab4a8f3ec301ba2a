import type { Kysely } from 'kysely';
import { isUuid } from '../platform/ids.js';
import type { DB, IdentityProvidersTable } from '../platform/store/schema.js';

// Thin queries over identity_providers (the organisation's OIDC providers); the only SQL of the provider
// configuration. Sealed columns are returned as stored: the service opens them.

type Q = Kysely<DB>;

/** By id or name (a UUID is an id). */
export async function findProvider(db: Q, ref: string): Promise<IdentityProvidersTable | undefined> {
  return db.selectFrom('identity_providers').selectAll().where(isUuid(ref) ? 'id' : 'name', '=', ref).executeTakeFirst();
}

export async function findByIssuer(db: Q, issuer: string): Promise<IdentityProvidersTable | undefined> {
  return db.selectFrom('identity_providers').selectAll().where('issuer', '=', issuer).orderBy('id').limit(1).executeTakeFirst();
}

export async function listProviders(db: Q, f: { afterId?: string; limit: number }): Promise<IdentityProvidersTable[]> {
  let q = db.selectFrom('identity_providers').selectAll();
  if (f.afterId !== undefined) q = q.where('id', '>', f.afterId);
  return q.orderBy('id').limit(f.limit).execute();
}

/** Names and display names only, by name: what the sign-in page offers. */
export async function listNames(db: Q, limit: number): Promise<Array<Pick<IdentityProvidersTable, 'name' | 'display_name'>>> {
  return db.selectFrom('identity_providers').select(['name', 'display_name']).orderBy('name').limit(limit).execute();
}

export async function insertProvider(db: Q, row: IdentityProvidersTable): Promise<void> {
  await db.insertInto('identity_providers').values(row).execute();
}

export async function updateProvider(db: Q, id: string, patch: Partial<Omit<IdentityProvidersTable, 'id' | 'name' | 'issuer' | 'created_at' | 'created_by'>>): Promise<void> {
  await db.updateTable('identity_providers').set(patch).where('id', '=', id).execute();
}

export async function deleteProvider(db: Q, id: string): Promise<void> {
  await db.deleteFrom('identity_providers').where('id', '=', id).execute();
}
