import type { Kysely } from 'kysely';
import type { DB } from './schema.js';

// The `meta` table: small named values the store keeps about itself (the master key check, the audit log's
// keys and markers). Thin queries; each module owns the keys it writes.

type Q = Kysely<DB>;

export async function getMeta(db: Q, key: string): Promise<string | undefined> {
  return (await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst())?.value;
}

export async function getMetaMany(db: Q, keys: string[]): Promise<Map<string, string>> {
  if (keys.length === 0) return new Map();
  const rows = await db.selectFrom('meta').select(['key', 'value']).where('key', 'in', keys).execute();
  return new Map(rows.map((r) => [r.key, r.value]));
}

/** Inserts; fails if the key exists (values that must be written once). */
export async function insertMeta(db: Q, key: string, value: string): Promise<void> {
  await db.insertInto('meta').values({ key, value }).execute();
}

/** Inserts several in one statement; fails if any key exists. */
export async function insertMetaMany(db: Q, rows: Array<{ key: string; value: string }>): Promise<void> {
  if (rows.length) await db.insertInto('meta').values(rows).execute();
}

/** Inserts unless the key exists; the first value wins. */
export async function insertMetaIfAbsent(db: Q, key: string, value: string): Promise<void> {
  await db.insertInto('meta').values({ key, value }).onConflict((oc) => oc.column('key').doNothing()).execute();
}

/** Inserts or replaces. */
export async function putMeta(db: Q, key: string, value: string): Promise<void> {
  await db.insertInto('meta').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
}

export async function deleteMeta(db: Q, ...keys: string[]): Promise<void> {
  if (keys.length === 1) await db.deleteFrom('meta').where('key', '=', keys[0]!).execute();
  else if (keys.length) await db.deleteFrom('meta').where('key', 'in', keys).execute();
}
