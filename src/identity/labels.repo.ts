import type { Kysely } from 'kysely';
import { reusable } from '../platform/store/reusable.js';
import type { DB } from '../platform/store/schema.js';

// Labels live in side tables (one row per key) so label filters use an index; the JSON copy on the row is
// what responses show. Both are written together.

export type LabelTable = 'principal_labels' | 'resource_labels';

// One multi-row insert per label count and table, compiled once and re-bound (a create runs it every time).
const insertStatements = new Map<string, ReturnType<typeof reusable>>();
function insertStatement(table: LabelTable, count: number) {
  const key = `${table}:${count}`;
  let statement = insertStatements.get(key);
  if (!statement) {
    statement = reusable(count * 3, (db, ...p) => db.insertInto(table).values(
      Array.from({ length: count }, (_, i) => ({ entity_id: p[3 * i], key: p[3 * i + 1], value: p[3 * i + 2] }))));
    insertStatements.set(key, statement);
  }
  return statement;
}

export async function insertLabels(db: Kysely<DB>, table: LabelTable, id: string, labels: Record<string, string>): Promise<void> {
  const entries = Object.entries(labels);
  if (entries.length === 0) return;
  // Label sets are bounded by the schema (at most 64 keys), so this cache stays small.
  await insertStatement(table, entries.length)(db, ...entries.flatMap(([key, value]) => [id, key, value]));
}

export async function replaceLabels(db: Kysely<DB>, table: LabelTable, id: string, labels: Record<string, string>): Promise<void> {
  await db.deleteFrom(table).where('entity_id', '=', id).execute();
  await insertLabels(db, table, id, labels);
}
