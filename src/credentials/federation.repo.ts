import type { Kysely } from 'kysely';
import { isUuid } from '../platform/ids.js';
import type { DB, FederationIssuersTable } from '../platform/store/schema.js';

// Thin queries over federation_issuers (trusted workload issuers); the only SQL of federation. Principals
// are identity's and are read through its directory, never here.

type Q = Kysely<DB>;

/** By id or name (a UUID is an id). */
export async function findIssuer(db: Q, ref: string): Promise<FederationIssuersTable | undefined> {
  return db.selectFrom('federation_issuers').selectAll().where(isUuid(ref) ? 'id' : 'name', '=', ref).executeTakeFirst();
}

/** Every trusted issuer whose `issuer` is exactly `issuer` (more than one is a configuration error). */
export async function findByIssuer(db: Q, issuer: string, limit = 2): Promise<FederationIssuersTable[]> {
  return db.selectFrom('federation_issuers').selectAll().where('issuer', '=', issuer).orderBy('id').limit(limit).execute();
}

export async function listIssuers(db: Q, f: { afterId?: string; limit: number }): Promise<FederationIssuersTable[]> {
  let q = db.selectFrom('federation_issuers').selectAll();
  if (f.afterId !== undefined) q = q.where('id', '>', f.afterId);
  return q.orderBy('id').limit(f.limit).execute();
}

export async function insertIssuer(db: Q, row: FederationIssuersTable): Promise<void> {
  await db.insertInto('federation_issuers').values(row).execute();
}

export async function updateIssuer(db: Q, id: string, patch: Partial<Omit<FederationIssuersTable, 'id' | 'name' | 'issuer' | 'created_at' | 'created_by'>>): Promise<void> {
  await db.updateTable('federation_issuers').set(patch).where('id', '=', id).execute();
}

export async function deleteIssuer(db: Q, id: string): Promise<void> {
  await db.deleteFrom('federation_issuers').where('id', '=', id).execute();
}
