import { sql, type Kysely } from 'kysely';
import type { DB, OAuthClientsTable } from '../../platform/store/schema.js';

// Thin queries over oauth_clients (registered and dynamically registered clients for people); the only SQL
// of the clients. The built-in client and clients known by a metadata document are never stored.

type Q = Kysely<DB>;
type Kind = OAuthClientsTable['kind'];

export async function findClient(db: Q, clientId: string): Promise<OAuthClientsTable | undefined> {
  return db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
}

/** Keyset page in client_id order (UUIDv7: creation order). */
export async function listClients(db: Q, f: { afterId?: string; kind?: Kind; limit: number }): Promise<OAuthClientsTable[]> {
  let q = db.selectFrom('oauth_clients').selectAll();
  if (f.afterId !== undefined) q = q.where('client_id', '>', f.afterId);
  if (f.kind !== undefined) q = q.where('kind', '=', f.kind);
  return q.orderBy('client_id').limit(f.limit).execute();
}

export async function countClients(db: Q, kind: Kind): Promise<number> {
  const row = await db.selectFrom('oauth_clients').select(sql<number | string>`count(*)`.as('n')).where('kind', '=', kind).executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function insertClient(db: Q, row: OAuthClientsTable): Promise<void> {
  await db.insertInto('oauth_clients').values(row).execute();
}

export async function updateClient(db: Q, clientId: string, patch: Partial<Pick<OAuthClientsTable, 'name' | 'redirect_uris' | 'grant_types' | 'scope'>>): Promise<void> {
  await db.updateTable('oauth_clients').set(patch).where('client_id', '=', clientId).execute();
}

export async function deleteClient(db: Q, clientId: string): Promise<void> {
  await db.deleteFrom('oauth_clients').where('client_id', '=', clientId).execute();
}
