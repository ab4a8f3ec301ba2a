// The server's own, incremental check of the log it extends: what the checkpointer runs at start-up and
// every tick, and what the recovery runs to find where the damage is.
//
// Start-up is fast: it resumes from the verified-up-to marker (tree state at the last checkpoint this
// server verified and signed, `audit_verified_state`) after checking that marker against the signed
// checkpoint at its size, and re-verifies only the events after it. Each event integrated is checked as
// a full verifier would: seq contiguity, leaf hash recomputed from the canonical bytes, every query
// column against the canonical event, its delegation rows; the tree is compared with every signed
// checkpoint it passes, and stored subtree hashes (audit_nodes) with the ones it recomputes. After the
// pass: fewer events than the high-water mark (`audit_next_seq`) or than the largest signed checkpoint
// is a truncation, and the latest signed root is recomputed from the stored hashes (audit_nodes and leaf
// hashes), which catches hashes edited before the marker. Canonical bytes edited before the marker with
// their leaf hash left alone are found by the full verification (`custos audit verify`), not here.
import type { Database } from '../platform/store/db.js';
import * as repo from './audit.repo.js';
import { openCheckpoint, parseVerifierKey } from './checkpoint.js';
import type { IntegrityFailure, IntegrityKind } from './integrity.js';
import { readNextSeq } from './integrity.js';
import type { LogKey } from './log-key.js';
import { HASH_SIZE } from './merkle.js';
import { columnMismatch, expectedDelegation, indexedFields } from './stored-row.js';
import { createTreeBuilder, rootAt, type TreeBuilder, type TreeState } from './tree-builder.js';
import { prunedState, stateRoot, verifiedState } from './tree-state.js';
import { leafHex, storedHashBytes } from './verify-leaves.js';

const READ_CHUNK = 5000;

export type Finding = Omit<IntegrityFailure, 'detected_at' | 'detected_by'>;

export interface LogScannerOptions {
  db: Database;
  key: LogKey;
  /**
   * Lenient (recovery): go on past edits, integrating the stored leaf hash as verifiers do, ignore a marker
   * that does not verify, and stop only at a gap. Strict (default): stop at the first finding.
   */
  lenient?: boolean;
}

const finding = (kind: IntegrityKind, seq: number | null, message: string): Finding => ({ kind, first_bad_seq: seq, message });

export function createLogScanner(opts: LogScannerOptions) {
  const { db } = opts;
  const verifier = parseVerifierKey(opts.key.vkey);
  const lenient = opts.lenient ?? false;
  let tree: TreeBuilder | undefined;
  let start: TreeState = { size: 0, frontier: [] };
  /** Signed roots at sizes the tree has not reached yet. */
  const ahead = new Map<number, Buffer>();
  let nodeCounts = new Map<number, number>();
  let newNodes: Array<{ level: number; idx: number; hash: string }> = [];
  let storedNodesToCompare: Array<{ level: number; idx: number; hash: Buffer }> = [];
  const found: Finding[] = [];
  const note = (f: Finding) => {
    found.push(f);
    return f;
  };

  async function loadAhead(from: number): Promise<Finding | undefined> {
    const rows = await repo.checkpointNotesAfter(db.kysely, from);
    for (const r of rows) {
      const size = Number(r.tree_size);
      let root: Buffer;
      try {
        const cp = openCheckpoint(r.note, verifier, { origin: opts.key.origin });
        if (cp.size !== size) throw new Error(`note says size ${cp.size}`);
        root = cp.rootHash;
      } catch (e) {
        if (lenient) continue;
        return note(finding('bad-checkpoint', null, `stored checkpoint at size ${size} does not verify: ${(e as Error).message}`));
      }
      ahead.set(size, root);
    }
    return undefined;
  }

  return {
    /** Where verification resumes (the marker, the pruned prefix, or 0) and the builder from there. */
    async open(): Promise<Finding | undefined> {
      nodeCounts = await repo.storedNodeCounts(db.kysely);
      const pruned = await prunedState(db);
      start = pruned ?? { size: 0, frontier: [] };
      const marker = await verifiedState(db);
      if (marker && marker.size >= start.size && marker.size > 0) {
        const cp = await repo.checkpointAt(db.kysely, marker.size);
        let problem: Finding | undefined;
        if (!cp) problem = finding('marker', marker.size, `the verified marker is at size ${marker.size}, but no signed checkpoint of that size is stored (checkpoints removed)`);
        else {
          try {
            const opened = openCheckpoint(cp.note, verifier, { origin: opts.key.origin });
            if (!opened.rootHash.equals(stateRoot(marker))) problem = finding('marker', null, `the verified marker at size ${marker.size} does not match the signed checkpoint of that size`);
          } catch (e) {
            problem = finding('bad-checkpoint', null, `the checkpoint at the verified size ${marker.size} does not verify: ${(e as Error).message}`);
          }
        }
        if (problem && !lenient) return note(problem);
        if (!problem) start = marker;
      }
      if (!lenient && start.size > 0) {
        // The marker is past events the store no longer holds: the tail was cut below a verified size.
        const end = (await repo.maxSeq(db.kysely)) + 1;
        if (end < start.size) return note(finding('truncated', end, `the log holds events up to ${end} but ${start.size} were verified and signed: events from ${end} are gone`));
      }
      tree = createTreeBuilder({
        ...(start.size > 0 ? { state: start } : {}),
        nodeLevels: repo.STORED_NODE_LEVELS,
        onNode: (level, idx, hash) => {
          if (idx >= (nodeCounts.get(level) ?? 0)) newNodes.push({ level, idx, hash: hash.toString('hex') });
          else storedNodesToCompare.push({ level, idx, hash: Buffer.from(hash) });
        },
      });
      // The signed checkpoints ahead of `start` are read (and checked) by the first integrate(), which every
      // caller runs next: reading them here too would open every note twice at start-up.
      return undefined;
    },

    get tree(): TreeBuilder {
      if (!tree) throw new Error('scanner not opened');
      return tree;
    },
    get start(): TreeState {
      return start;
    },
    findings: found,

    /** Integrates and checks every stored event after the tree's size. Returns the first finding (strict). */
    async integrate(): Promise<Finding | undefined> {
      const t = this.tree;
      // Read the high-water mark before the events: events committed with it are then visible below.
      const hwm = await readNextSeq(db);
      const more = await loadAhead(t.size);
      if (more && !lenient) return more;
      const from = t.size;
      const expectedPairs = new Map<string, Set<number>>();
      for (;;) {
        const rows = await repo.rowsFrom(db.kysely, t.size, READ_CHUNK);
        for (const r of rows) {
          const seq = Number(r.seq);
          if (seq !== t.size) {
            return note(finding(seq > t.size ? 'deleted' : 'reordered', t.size, `expected event ${t.size}, the store holds ${seq} next`));
          }
          const hex = leafHex(r.canonical);
          let leaf: Uint8Array = Buffer.from(hex, 'hex');
          if (hex !== r.leaf_hash) {
            const stored = storedHashBytes(r.leaf_hash);
            if (!stored || !stored.equals(leaf)) {
              const f = note(finding('edited', seq, `event ${seq}: its canonical bytes do not hash to the stored leaf hash`));
              if (!lenient) return f;
              if (stored && stored.length === HASH_SIZE) leaf = stored;
            }
          }
          const fields = indexedFields(r.canonical);
          const col = columnMismatch(fields, r);
          if (col) {
            const f = note(finding('column-edited', seq, `event ${seq}: stored column ${col} differs from the canonical event`));
            if (!lenient) return f;
          }
          if (!lenient) {
            for (const p of expectedDelegation(fields)) {
              const set = expectedPairs.get(p);
              if (set) set.add(seq);
              else expectedPairs.set(p, new Set([seq]));
            }
          }
          t.append(leaf);
          const signed = ahead.get(t.size);
          if (signed) {
            ahead.delete(t.size);
            if (!signed.equals(t.root())) {
              const f = note(finding('edited', from, `the tree recomputed at size ${t.size} differs from the signed checkpoint of that size (an event in [${from}, ${t.size}) was changed)`));
              if (!lenient) return f;
            }
          }
        }
        if (rows.length < READ_CHUNK) break;
      }
      if (!lenient && expectedPairs.size > 0) {
        // The rows each event needs, read through the (principal_id, seq) key.
        const principals = [...expectedPairs.keys()];
        for (let i = 0; i < principals.length; i += 500) {
          const batch = principals.slice(i, i + 500);
          const rows = await repo.delegationRowsOf(db.kysely, batch, from, t.size);
          for (const r of rows) {
            const seq = Number(r.seq);
            const want = expectedPairs.get(r.principal_id);
            if (!want?.has(seq)) return note(finding('column-edited', seq, `event ${seq}: a delegation row names ${r.principal_id}, who is not in its actor chain`));
            want.delete(seq);
          }
        }
        let first: number | undefined;
        for (const seqs of expectedPairs.values()) for (const s of seqs) if (first === undefined || s < first) first = s;
        if (first !== undefined) return note(finding('column-edited', first, `event ${first}: a delegation row of its actor chain is missing`));
      }
      if (storedNodesToCompare.length > 0) {
        const list = storedNodesToCompare;
        storedNodesToCompare = [];
        for (const n of list) {
          const row = await repo.nodeAt(db.kysely, n.level, n.idx);
          if (row && row.hash !== n.hash.toString('hex')) {
            const f = note(finding('nodes', n.idx * 2 ** n.level, `stored subtree hash (level ${n.level}, index ${n.idx}) differs from the one recomputed from the events`));
            if (!lenient) return f;
          }
        }
      }
      if (hwm !== undefined && t.size < hwm) {
        return note(finding('truncated', t.size, `the log holds ${t.size} events but ${hwm} were acknowledged (high-water mark): events from ${t.size} are gone`));
      }
      return undefined;
    },

    /** Largest signed size the tree has not reached (a truncation once the events are all read). */
    signedAhead(): number | undefined {
      let m: number | undefined;
      for (const s of ahead.keys()) if (m === undefined || s > m) m = s;
      return m;
    },

    /** The latest signed root recomputed from the stored hashes (audit_nodes and leaf hashes). */
    async latestRootCheck(): Promise<Finding | undefined> {
      const latest = await repo.latestCheckpoint(db.kysely);
      if (!latest) return undefined;
      const size = Number(latest.tree_size);
      let signed: Buffer;
      try {
        signed = openCheckpoint(latest.note, verifier, { origin: opts.key.origin }).rootHash;
      } catch (e) {
        return note(finding('bad-checkpoint', null, `the latest checkpoint (size ${size}) does not verify: ${(e as Error).message}`));
      }
      let stored: Buffer;
      try {
        stored = await rootAt(repo.hashReader(db.kysely), size);
      } catch {
        // Hashes missing (events pruned or lost, e.g. a range an audited recovery skipped): missing events
        // are the full verification's to name; only a root that can be computed and differs is a finding here.
        return undefined;
      }
      if (!stored.equals(signed)) return note(finding('nodes', null, `the root recomputed from stored hashes at size ${size} differs from the latest signed checkpoint`));
      return undefined;
    },

    /** Subtree hashes completed since the last call that the store does not hold yet. */
    takeNodes() {
      const n = newNodes;
      newNodes = [];
      for (const x of n) nodeCounts.set(x.level, Math.max(nodeCounts.get(x.level) ?? 0, x.idx + 1));
      return n;
    },
  };
}

export type LogScanner = ReturnType<typeof createLogScanner>;
