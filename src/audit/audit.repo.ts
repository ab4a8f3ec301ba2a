import { sql, type Kysely } from 'kysely';
import type { DB } from '../platform/store/schema.js';
import type { TreeHashReader } from './tree-builder.js';

// Thin queries over the append-only audit tables.

type Q = Kysely<DB>;

export const STORED_NODE_LEVELS = [8, 16] as const;

export async function maxSeq(db: Q): Promise<number> {
  const row = await db.selectFrom('audit_events').select(sql<number | null>`max(seq)`.as('max')).executeTakeFirst();
  return row?.max === null || row?.max === undefined ? -1 : Number(row.max);
}

export async function eventsFrom(db: Q, fromSeq: number, limit: number) {
  return db.selectFrom('audit_events').select(['seq', 'canonical', 'leaf_hash'])
    .where('seq', '>=', fromSeq).orderBy('seq').limit(limit).execute();
}

/** What the checkpointer integrates: sequence numbers and leaf hashes only, not the event bodies. */
export async function leafHashesFrom(db: Q, fromSeq: number, limit: number) {
  return db.selectFrom('audit_events').select(['seq', 'leaf_hash'])
    .where('seq', '>=', fromSeq).orderBy('seq').limit(limit).execute();
}

export function hashReader(db: Q): TreeHashReader {
  return {
    async leafHashes(start, end) {
      const rows = await db.selectFrom('audit_events').select(['seq', 'leaf_hash'])
        .where('seq', '>=', start).where('seq', '<', end).orderBy('seq').execute();
      return rows.map((r) => Buffer.from(r.leaf_hash, 'hex'));
    },
    storedLevels: STORED_NODE_LEVELS,
    async nodeHashes(level, start, end) {
      const rows = await db.selectFrom('audit_nodes').select('hash')
        .where('level', '=', level).where('idx', '>=', start).where('idx', '<', end).orderBy('idx').execute();
      return rows.map((r) => Buffer.from(r.hash, 'hex'));
    },
  };
}

export async function latestCheckpoint(db: Q) {
  return db.selectFrom('audit_checkpoints').selectAll().orderBy('tree_size', 'desc').limit(1).executeTakeFirst();
}

export async function checkpointAt(db: Q, size: number) {
  return db.selectFrom('audit_checkpoints').selectAll().where('tree_size', '=', size).executeTakeFirst();
}

export async function storedNodeCounts(db: Q): Promise<Map<number, number>> {
  const rows = await db.selectFrom('audit_nodes').select(['level', sql<number>`count(*)`.as('n')]).groupBy('level').execute();
  return new Map(rows.map((r) => [Number(r.level), Number(r.n)]));
}
