import { sql, type Kysely } from 'kysely';
import type { AuditCheckpointsTable, AuditDelegationTable, AuditEventsTable, AuditNodesTable, DB } from '../platform/store/schema.js';
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

// Writes (each one statement; callers chunk multi-row inserts under the bound-parameter limits).

export async function insertEvents(db: Q, rows: AuditEventsTable[]): Promise<void> {
  await db.insertInto('audit_events').values(rows).execute();
}

export async function insertDelegation(db: Q, rows: AuditDelegationTable[]): Promise<void> {
  await db.insertInto('audit_delegation').values(rows).execute();
}

export async function insertNodes(db: Q, nodes: AuditNodesTable[]): Promise<void> {
  await db.insertInto('audit_nodes').values(nodes).execute();
}

/** Subtree hashes, leaving any already stored at the same (level, idx) as they are. */
export async function insertNodesIfAbsent(db: Q, nodes: AuditNodesTable[]): Promise<void> {
  await db.insertInto('audit_nodes').values(nodes).onConflict((oc) => oc.columns(['level', 'idx']).doNothing()).execute();
}

export async function insertCheckpoint(db: Q, row: AuditCheckpointsTable): Promise<void> {
  await db.insertInto('audit_checkpoints').values(row).execute();
}

export async function deleteDelegationBefore(db: Q, seq: number): Promise<void> {
  await db.deleteFrom('audit_delegation').where('seq', '<', seq).execute();
}

export async function deleteEventsBefore(db: Q, seq: number): Promise<void> {
  await db.deleteFrom('audit_events').where('seq', '<', seq).execute();
}

// Reads.

/**
 * In one statement: the largest stored seq and two `meta` values (the writer's once-per-batch read of
 * the high-water mark and the integrity record).
 */
export async function maxSeqAndMeta(db: Q, hwmKey: string, integrityKey: string) {
  const r = await sql<{ max_seq: number | string | null; hwm: string | null; integrity: string | null }>`select
      (select max(seq) from audit_events) as max_seq,
      (select value from meta where key = ${hwmKey}) as hwm,
      (select value from meta where key = ${integrityKey}) as integrity`.execute(db);
  return r.rows[0]!;
}

/** Filters for listEvents; each one set is one condition (values already in stored form). */
export interface EventFilter {
  type?: string;
  /** A LIKE pattern on type (instead of `type`). */
  typeLike?: string;
  principal?: string;
  credential?: string;
  target?: string;
  decision?: string;
  outcome?: string;
  /** time >= since (ISO). */
  since?: string;
  /** time < until (ISO). */
  until?: string;
  /** Events whose delegation rows name this principal. */
  delegationAncestor?: string;
  /** seq > afterSeq. */
  afterSeq?: number;
  /** seq > cursor (asc) or seq < cursor (desc). */
  cursor?: number;
  order: 'asc' | 'desc';
  limit: number;
}

export async function listEvents(db: Q, f: EventFilter) {
  let query = db.selectFrom('audit_events as e').select(['e.seq', 'e.canonical']);
  if (f.typeLike !== undefined) query = query.where('e.type', 'like', f.typeLike);
  else if (f.type !== undefined) query = query.where('e.type', '=', f.type);
  if (f.principal !== undefined) query = query.where('e.actor_principal_id', '=', f.principal);
  if (f.credential !== undefined) query = query.where('e.actor_credential_id', '=', f.credential);
  if (f.target !== undefined) query = query.where('e.target_id', '=', f.target);
  if (f.decision !== undefined) query = query.where('e.decision', '=', f.decision);
  if (f.outcome !== undefined) query = query.where('e.outcome', '=', f.outcome);
  if (f.since !== undefined) query = query.where('e.time', '>=', f.since);
  if (f.until !== undefined) query = query.where('e.time', '<', f.until);
  if (f.delegationAncestor !== undefined) {
    const ancestor = f.delegationAncestor;
    query = query.where('e.seq', 'in', (s) => s.selectFrom('audit_delegation').select('seq').where('principal_id', '=', ancestor));
  }
  if (f.afterSeq !== undefined) query = query.where('e.seq', '>', f.afterSeq);
  if (f.cursor !== undefined) query = query.where('e.seq', f.order === 'asc' ? '>' : '<', f.cursor);
  return query.orderBy('e.seq', f.order).limit(f.limit).execute();
}

export async function eventAt(db: Q, seq: number) {
  return db.selectFrom('audit_events').select(['seq', 'canonical', 'leaf_hash']).where('seq', '=', seq).executeTakeFirst();
}

/** The stored leaf hash of one event; throws (NoResultError) when it is not stored. */
export async function leafHashAt(db: Q, seq: number) {
  return db.selectFrom('audit_events').select('leaf_hash').where('seq', '=', seq).executeTakeFirstOrThrow();
}

/** Event bodies with seq in [from, to), in order. */
export async function eventsBetween(db: Q, from: number, to: number) {
  return db.selectFrom('audit_events').select(['seq', 'canonical']).where('seq', '>=', from).where('seq', '<', to).orderBy('seq').execute();
}

/** Delegation rows naming any of `principals` with seq in [from, to) (read through the (principal_id, seq) key). */
export async function delegationRowsOf(db: Q, principals: string[], from: number, to: number) {
  return db.selectFrom('audit_delegation').select(['principal_id', 'seq'])
    .where('principal_id', 'in', principals).where('seq', '>=', from).where('seq', '<', to).execute();
}

export async function nodeAt(db: Q, level: number, idx: number) {
  return db.selectFrom('audit_nodes').select('hash').where('level', '=', level).where('idx', '=', idx).executeTakeFirst();
}

/** Checkpoints newest first, below `beforeSize` when given. */
export async function checkpointsPage(db: Q, beforeSize: number | undefined, limit: number) {
  let q = db.selectFrom('audit_checkpoints').selectAll().orderBy('tree_size', 'desc');
  if (beforeSize !== undefined) q = q.where('tree_size', '<', beforeSize);
  return q.limit(limit).execute();
}

/** Signed notes of the checkpoints larger than `size`, in size order. */
export async function checkpointNotesAfter(db: Q, size: number) {
  return db.selectFrom('audit_checkpoints').select(['tree_size', 'note']).where('tree_size', '>', size).orderBy('tree_size').execute();
}

/** Every checkpoint's signed note, in size order. */
export async function checkpointNotes(db: Q) {
  return db.selectFrom('audit_checkpoints').select('note').orderBy('tree_size').execute();
}
