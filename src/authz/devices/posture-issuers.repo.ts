import type { Kysely } from 'kysely';
import { isUuid } from '../../platform/ids.js';
import type { DB, PostureIssuersTable } from '../../platform/store/schema.js';

// Thin queries over posture_issuers; the only SQL of posture issuers.

type Q = Kysely<DB>;

/** By id or name (a UUID is an id). */
export async function findIssuer(db: Q, ref: string): Promise<PostureIssuersTable | undefined> {
  return db.selectFrom('posture_issuers').selectAll().where(isUuid(ref) ? 'id' : 'name', '=', ref).executeTakeFirst();
}

/** The issuer whose `issuer` is exactly `iss` (unique). */
export async function findByIssuer(db: Q, iss: string): Promise<PostureIssuersTable | undefined> {
  return db.selectFrom('posture_issuers').selectAll().where('issuer', '=', iss).executeTakeFirst();
}

export async function countIssuers(db: Q): Promise<number> {
  const row = await db.selectFrom('posture_issuers').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function listIssuers(db: Q, f: { afterId?: string; limit: number }): Promise<PostureIssuersTable[]> {
  let q = db.selectFrom('posture_issuers').selectAll();
  if (f.afterId !== undefined) q = q.where('id', '>', f.afterId);
  return q.orderBy('id').limit(f.limit).execute();
}

export async function insertIssuer(db: Q, row: PostureIssuersTable): Promise<void> {
  await db.insertInto('posture_issuers').values(row).execute();
}

export async function deleteIssuer(db: Q, id: string): Promise<void> {
  await db.deleteFrom('posture_issuers').where('id', '=', id).execute();
}
