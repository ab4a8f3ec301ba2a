import { systemActor, type Actor } from '../platform/actor.js';
import type { Database } from '../platform/store/db.js';
import { AppError, errors } from '../platform/http/errors.js';
import { decodeCursor, encodeCursor } from '../platform/http/pagination.js';
import * as repo from './audit.repo.js';
import { isTreeSize } from './merkle.js';
import type { LogKey } from './log-key.js';
import { toOcsf } from './ocsf.js';
import { proveConsistency, proveInclusion, rootAt } from './tree-builder.js';
import { prunedState, serializeState } from './tree-state.js';
import { verifyDatabase } from './verify-store.js';
import { readFailure } from './integrity.js';
import { INDEXED_COLUMNS } from './stored-row.js';
import { recoverLog } from './recovery.js';
import type { VerifyReport } from './verify-log.js';
import type { AuditWriter } from './writer.js';

// Reading the log: queries, proofs, export and server-side verification runs.

export interface EventQuery {
  type?: string;
  principal?: string;
  credential?: string;
  target?: string;
  decision?: 'allow' | 'deny';
  outcome?: 'success' | 'failure';
  since?: string;
  until?: string;
  delegation_ancestor?: string;
  after_seq?: number;
  order: 'asc' | 'desc';
  limit: number;
  cursor?: string;
}

export function createAuditService(deps: { db: Database; key: LogKey; audit: AuditWriter }) {
  const { db, key } = deps;

  async function latestSize(): Promise<number> {
    const latest = await repo.latestCheckpoint(db.kysely);
    if (!latest) throw new AppError('no_checkpoint', 'no signed checkpoint exists yet; retry in a second');
    return Number(latest.tree_size);
  }

  /** Proofs are served up to the latest signed checkpoint, whose subtree hashes are all stored. */
  async function resolveTreeSize(requested: number | undefined): Promise<number> {
    const latest = await latestSize();
    if (requested === undefined) return latest;
    if (requested > latest) throw new AppError('tree_size_too_large', `tree_size ${requested} is beyond the latest signed checkpoint (${latest}); retry after the next checkpoint`);
    return requested;
  }

  async function prunedSize(): Promise<number> {
    return (await prunedState(db))?.size ?? 0;
  }

  return {
    publicKey() {
      return { origin: key.origin, vkey: key.vkey, algorithm: 'Ed25519', public_key: key.publicKeyRaw.toString('base64') };
    },

    async list(q: EventQuery) {
      const after = decodeCursor(q.cursor);
      const f: repo.EventFilter = { order: q.order, limit: q.limit + 1 };
      if (q.type) {
        if (q.type.endsWith('*')) f.typeLike = q.type.slice(0, -1).replace(/[%_]/g, '') + '%';
        else f.type = q.type;
      }
      if (q.principal) f.principal = q.principal;
      if (q.credential) f.credential = q.credential;
      if (q.target) f.target = q.target;
      if (q.decision) f.decision = q.decision;
      if (q.outcome) f.outcome = q.outcome;
      if (q.since) f.since = new Date(q.since).toISOString();
      if (q.until) f.until = new Date(q.until).toISOString();
      if (q.delegation_ancestor) f.delegationAncestor = q.delegation_ancestor;
      if (q.after_seq !== undefined) f.afterSeq = q.after_seq;
      if (after !== undefined) f.cursor = Number(after);
      const rows = await repo.listEvents(db.kysely, f);
      const more = rows.length > q.limit;
      const items = rows.slice(0, q.limit).map((r) => JSON.parse(r.canonical) as Record<string, unknown>);
      const last = items[items.length - 1];
      return { items, next_cursor: more && last ? encodeCursor(Number(last.seq)) : null };
    },

    async get(seq: number) {
      const row = await repo.eventAt(db.kysely, seq);
      if (!row) {
        const pruned = await prunedSize();
        if (seq < pruned) throw new AppError('event_archived', `event ${seq} was pruned (events before ${pruned} were archived); it is in the retention archive: custos audit verify-archive FILE`, { pruned_before: pruned });
        throw errors.notFound('audit event', String(seq));
      }
      return { event: JSON.parse(row.canonical) as Record<string, unknown>, canonical: row.canonical, leaf_hash: row.leaf_hash };
    },

    async inclusionProof(seq: number, treeSizeParam: number | undefined) {
      const treeSize = await resolveTreeSize(treeSizeParam);
      if (!isTreeSize(seq) || seq >= treeSize) throw new AppError('seq_out_of_range', `event ${seq} is not in a tree of size ${treeSize}`);
      if (seq < (await prunedSize())) throw new AppError('event_archived', `event ${seq} was archived and pruned; its proof is in the retention archive`);
      const reader = repo.hashReader(db.kysely);
      const [proof, leaf, cp] = await Promise.all([
        proveInclusion(reader, seq, treeSize),
        repo.leafHashAt(db.kysely, seq),
        repo.checkpointAt(db.kysely, treeSize),
      ]);
      return {
        leaf_index: seq,
        tree_size: treeSize,
        leaf_hash: Buffer.from(leaf.leaf_hash, 'hex').toString('base64'),
        proof: proof.map((h) => h.toString('base64')),
        root_hash: (await rootAt(reader, treeSize)).toString('base64'),
        checkpoint: cp?.note ?? null,
      };
    },

    async consistencyProof(from: number, to: number) {
      const size = await latestSize();
      if (from > to || to > size || from < 0) throw new AppError('bad_tree_sizes', `need 0 <= from <= to <= ${size} (the latest signed checkpoint)`);
      const pruned = await prunedSize();
      if (from < pruned) throw new AppError('event_archived', `tree size ${from} lies in the pruned prefix (before ${pruned}); use the retention archive`);
      const reader = repo.hashReader(db.kysely);
      const proof = await proveConsistency(reader, from, to);
      const [cpFrom, cpTo] = await Promise.all([repo.checkpointAt(db.kysely, from), repo.checkpointAt(db.kysely, to)]);
      return {
        from, to,
        proof: proof.map((h) => h.toString('base64')),
        from_root: (await rootAt(reader, from)).toString('base64'),
        to_root: (await rootAt(reader, to)).toString('base64'),
        from_checkpoint: cpFrom?.note ?? null,
        to_checkpoint: cpTo?.note ?? null,
      };
    },

    async checkpoints(limit: number, cursor: string | undefined) {
      const after = decodeCursor(cursor);
      const rows = await repo.checkpointsPage(db.kysely, after !== undefined ? Number(after) : undefined, limit + 1);
      const more = rows.length > limit;
      const items = rows.slice(0, limit).map((r) => ({ tree_size: Number(r.tree_size), root_hash: Buffer.from(r.root_hash, 'hex').toString('base64'), time: r.time, note: r.note }));
      const last = items[items.length - 1];
      return { items, next_cursor: more && last ? encodeCursor(last.tree_size) : null };
    },

    /** Streams stored events in seq order, chunked, for export and verification. */
    async *iterate(fromSeq = 0, toSeq = Number.MAX_SAFE_INTEGER) {
      let next = fromSeq;
      for (;;) {
        const rows = await repo.rowsFrom(db.kysely, next, 5000);
        const inRange = rows.filter((r) => Number(r.seq) < toSeq);
        if (inRange.length) {
          yield inRange.map((r) => ({
            seq: Number(r.seq), canonical: r.canonical, leaf_hash: r.leaf_hash,
            columns: Object.fromEntries(INDEXED_COLUMNS.map((c) => [c, r[c]])) as Record<string, unknown>,
          }));
        }
        if (rows.length < 5000 || inRange.length < rows.length) return;
        next = Number(rows[rows.length - 1]!.seq) + 1;
      }
    },

    toOcsf,

    /**
     * Recomputes the tree from the store and checks every checkpoint; the run itself is audited. While the
     * log is marked as failed the run cannot be recorded (no event is written over a damaged log): the report
     * is still returned, with `recorded: false`.
     */
    async verify(actor: Actor, against: string[] = []): Promise<VerifyReport & { recorded: boolean }> {
      const report = await verifyDatabase(db, key.vkey, against);
      try {
        await db.write((trx, batch) => deps.audit.record(trx, batch, {
          type: 'audit.verified', action: 'audit.verify', actor: actor ?? systemActor(), outcome: report.ok ? 'success' : 'failure',
          details: { ok: report.ok, size: report.size, first_bad_seq: report.firstBadSeq, problems: report.problems.slice(0, 5).map((p) => ({ kind: p.kind, seq: p.seq })) },
        }));
      } catch (error) {
        if (error instanceof AppError && error.code === 'audit_integrity_failed') return { ...report, recorded: false };
        throw error;
      }
      return { ...report, recorded: true };
    },

    /** The audited way out of an integrity failure (recovery.ts); 409 recovery_not_needed when nothing is wrong. */
    recover: (actor: Actor, reason: string) => recoverLog({ db, key, audit: deps.audit }, actor, reason),

    /** The recorded integrity failure, if any (null when the log is not marked as failed). */
    async integrity() {
      return { failure: (await readFailure(db)) ?? null };
    },

    /**
     * Records an export. Over a log marked as failed nothing can be recorded; the export (a read, needed to
     * investigate) still runs and the answer says so: false.
     */
    async recordExport(actor: Actor, format: string, from: number, to: number | undefined): Promise<boolean> {
      try {
        await db.write((trx, batch) => deps.audit.record(trx, batch, {
          type: 'audit.exported', action: 'audit.export', actor, outcome: 'success', details: { format, from_seq: from, to_seq: to ?? null },
        }));
        return true;
      } catch (error) {
        if (error instanceof AppError && error.code === 'audit_integrity_failed') return false;
        throw error;
      }
    },

    hmac: (value: string) => deps.audit.hmac(value),

    async retentionState() {
      const start = await prunedState(db);
      return { pruned_state: start ? serializeState(start) : null };
    },

    latestSize,
  };
}
export type AuditService = ReturnType<typeof createAuditService>;
