import type { Kysely } from 'kysely';
import type { DB } from '../platform/store/schema.js';

// Labels live in side tables (one row per key) so label filters use an index; the JSON copy on the row is
// what responses show. Both are written together.

export type LabelTable = 'principal_labels' | 'resource_labels';

export async function insertLabels(db: Kysely<DB>, table: LabelTable, id: string, labels: Record<string, string>): Promise<void> {
  const rows = Object.entries(labels).map(([key, value]) => ({ entity_id: id, key, value }));
  if (rows.length) await db.insertInto(table).values(rows).execute();
}

export async function replaceLabels(db: Kysely<DB>, table: LabelTable, id: string, labels: Record<string, string>): Promise<void> {
  await db.deleteFrom(table).where('entity_id', '=', id).execute();
  await insertLabels(db, table, id, labels);
}
