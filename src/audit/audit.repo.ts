import { sql, type Kysely } from 'kysely';
import type { DB } from '../platform/store/schema.js';
import type { TreeHashReader } from './tree-builder.js';
import { INDEXED_COLUMNS } from './stored-row.js';
import type { DelegationReader } from './verify-delegation.js';

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

/** Stored events with every column queries filter on, for verification. */
export async function rowsFrom(db: Q, fromSeq: number, limit: number) {
  return db.selectFrom('audit_events').select(['seq', 'canonical', 'leaf_hash', ...INDEXED_COLUMNS])
    .where('seq', '>=', fromSeq).orderBy('seq').limit(limit).execute();
}

/** audit_delegation read for verification (see verify-delegation.ts). */
export function delegationReader(db: Q): DelegationReader {
  return {
    async suspicious(from) {
      const r = await sql<{ seq: number | string; principal_id: string; canonical: string | null }>`select d.seq, d.principal_id, e.canonical from audit_delegation d left join audit_events e on e.seq = d.seq
        where d.seq >= ${from} and (e.seq is null or e.actor_principal_id is null or d.principal_id <> e.actor_principal_id) order by d.seq, d.principal_id`.execute(db);
      return r.rows.map((x) => [Number(x.seq), x.principal_id, x.canonical] as const);
    },
    async count(from, to) {
      const r = await db.selectFrom('audit_delegation').select(sql<number | string>`count(*)`.as('n')).where('seq', '>=', from).where('seq', '<', to).executeTakeFirst();
      return Number(r?.n ?? 0);
    },
    async rows(from, to) {
      const r = await db.selectFrom('audit_delegation').select(['seq', 'principal_id']).where('seq', '>=', from).where('seq', '<', to).orderBy('seq').execute();
      return r.map((x) => [Number(x.seq), x.principal_id] as const);
    },
    async events(from, to) {
      const r = await db.selectFrom('audit_events').select(['seq', 'canonical']).where('seq', '>=', from).where('seq', '<', to).orderBy('seq').execute();
      return r.map((x) => [Number(x.seq), x.canonical] as const);
    },
  };
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
