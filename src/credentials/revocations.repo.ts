import type { Kysely, Selectable } from 'kysely';
import type { DB, RevocationsTable } from '../platform/store/schema.js';

// Thin queries over the revocation list: one row per revoked token, credential or principal, numbered by an
// increasing `version` (SQLite AUTOINCREMENT, PostgreSQL bigserial). Every node applies the list in memory and
// follows it by reading the rows after the last version it applied. Writers are serialised (one writer loop,
// and on PostgreSQL an advisory lock per write transaction), so versions become visible in commit order and a
// follower reading `version > last` never skips a row that commits later with a smaller number.

type Q = Kysely<DB>;

export type RevocationRow = Selectable<RevocationsTable>;
export type NewRevocation = Omit<RevocationRow, 'version'>;

const CHUNK = 500;

/** Inserts the entries and returns them with their versions, in insertion order. */
export async function insertRevocations(db: Q, rows: NewRevocation[]): Promise<RevocationRow[]> {
  const out: RevocationRow[] = [];
  for (let i = 0; i < rows.length; i += CHUNK) {
    const inserted = await db.insertInto('revocations').values(rows.slice(i, i + CHUNK)).returningAll().execute();
    out.push(...(inserted as RevocationRow[]));
  }
  return out.sort((a, b) => Number(a.version) - Number(b.version));
}

/** Entries that may still matter at `now` (forget_after null or later), in version order. */
export async function activeRevocations(db: Q, now: string): Promise<RevocationRow[]> {
  return db.selectFrom('revocations').selectAll()
    .where((eb) => eb.or([eb('forget_after', 'is', null), eb('forget_after', '>', now)]))
    .orderBy('version').execute();
}

/** Entries after `version`, in version order. */
export async function revocationsSince(db: Q, version: number, limit: number): Promise<RevocationRow[]> {
  return db.selectFrom('revocations').selectAll().where('version', '>', version).orderBy('version').limit(limit).execute();
}

/** The highest version ever written that is still stored (0 for an empty list). */
export async function maxVersion(db: Q): Promise<number> {
  const row = await db.selectFrom('revocations').select((eb) => eb.fn.max('version').as('v')).executeTakeFirst();
  return Number(row?.v ?? 0);
}

export async function findRevocation(db: Q, kind: RevocationRow['kind'], target: string): Promise<RevocationRow | undefined> {
  return db.selectFrom('revocations').selectAll().where('kind', '=', kind).where('target', '=', target).orderBy('version', 'desc').executeTakeFirst();
}

/** Deletes entries whose forget_after has passed, except the newest entry (it keeps the list's version, so a node
 * starting later reads the same version as the others); returns how many. */
export async function pruneRevocations(db: Q, now: string): Promise<number> {
  const newest = await maxVersion(db);
  const r = await db.deleteFrom('revocations').where('forget_after', 'is not', null).where('forget_after', '<=', now)
    .where('version', '<', newest).executeTakeFirst();
  return Number(r.numDeletedRows);
}
