// Pure verification of a whole audit log: one streaming pass over the stored events that
// recomputes every leaf hash and the tree (frontier only, O(log n) memory), checks every signed
// checkpoint against the recomputed root at its size, and names the first bad sequence number.
//
// What each kind of tampering looks like here:
//   edited      recomputed leaf hash ≠ stored leaf hash (exact seq); or, when the stored hash was
//               rewritten too, a checkpoint root mismatch (seq range since the last good checkpoint)
//   deleted     a gap in seq (exact seq of the first missing event)
//   reordered   seq out of order or repeated; or, on a root mismatch, an event whose own `seq`
//               field does not match its position (exact seq)
//   truncated   fewer events than the largest checkpoint in the log says (first missing seq)
//   rollback    an externally saved checkpoint (--against) is larger than the log, or its root
//               differs from the log's root at its size
//   split-view  two validly signed checkpoints with one size and different roots
//   bad-checkpoint  a checkpoint that does not parse, verify or carry the expected origin
//   column-edited   a column queries filter on (type, actor, target, time, outcome, decision, id) or an
//                   audit_delegation row disagrees with the canonical event (exact seq; stored-row.ts)
import { NoteError, openCheckpoint, parseVerifierKey, type NoteVerifier } from './checkpoint.js';
import { emptyRoot, HASH_SIZE } from './merkle.js';
import type { TreeState } from './tree-builder.js';
import { stateRoot } from './tree-state.js';
import { createFrontier } from './verify-frontier.js';
import { leafHex, leafMismatch } from './verify-leaves.js';
import { columnMismatch, expectedDelegationCount, indexedFields, type IndexedValues } from './stored-row.js';

export type StoredEvent = {
  /** 0-based leaf index. */
  seq: number;
  /** Canonical event bytes, canonical JSON text, or the event object (canonicalized here, slower). */
  canonical: Uint8Array | string | object;
  /** Leaf hash kept by the store, as bytes or hex; compared with the recomputed one when present. */
  storedLeafHash?: Uint8Array | string;
  /**
   * The columns stored beside the event for queries, in INDEXED_COLUMNS order or by name; each is checked
   * against the canonical event (text or bytes) when given.
   */
  columns?: readonly unknown[] | IndexedValues;
};

export type VerifyProblemKind =
  | 'edited'
  | 'deleted'
  | 'reordered'
  | 'truncated'
  | 'rollback'
  | 'split-view'
  | 'bad-checkpoint'
  | 'column-edited';

export type VerifyProblem = {
  kind: VerifyProblemKind;
  /** First bad sequence number, when one can be named (null for a checkpoint that is itself bad). */
  seq: number | null;
  /** When only an interval is known: the first bad event lies in [from, to). seq is then `from`. */
  range?: [number, number];
  /** Which checkpoint list and index the problem concerns, if any. */
  checkpoint?: { source: 'log' | 'against'; index: number; size?: number };
  /** For column-edited: the stored column (or `audit_delegation`) that disagrees with the canonical event. */
  column?: string;
  /** The seq of the audited recovery (`audit.recovered`) that recorded this very problem when it re-anchored the log. */
  acknowledgedBy?: number;
  message: string;
};

/** An audited recovery met in the log: where it re-anchored and the problems it recorded as found. */
export type RecoveryMark = { seq: number; acknowledged: Array<{ kind: string; seq: number | null }> };

export type VerifyReport = {
  /** No problem, or only problems an audited recovery recorded when it re-anchored the log (see acknowledgedBy). */
  ok: boolean;
  /** Problems no recovery acknowledged. */
  unacknowledged: number;
  /** Audited recoveries in the log (`audit.recovered` events), in order. */
  recoveries: RecoveryMark[];
  /** Tree size reached: events read in order (plus a pruned prefix given as `start`). */
  size: number;
  /** Events before this were pruned: covered by the start tree state, not read (0 when nothing was pruned). */
  start: number;
  /** Recomputed root over those events. */
  rootHash: Buffer;
  firstBadSeq: number | null;
  /** Problems in the order found; capped at maxProblems. */
  problems: VerifyProblem[];
  checkpoints: { valid: number; invalid: number; matched: number; largestSize: number | null };
};

export type VerifyLogInput = {
  events: AsyncIterable<StoredEvent | readonly StoredEvent[]> | Iterable<StoredEvent | readonly StoredEvent[]>;
  /** Signed checkpoint notes kept by the log itself. */
  checkpoints: Iterable<string>;
  /** The log's public key: vkey text or a parsed verifier. */
  vkey: string | NoteVerifier;
  /** Expected checkpoint origin; defaults to the key name. */
  origin?: string;
  /** Checkpoints saved elsewhere earlier (`--against`): the log must still extend each of them. */
  against?: Iterable<string>;
  /** Top-level event field holding the event's own sequence number, used to pinpoint reorders. */
  seqField?: string | null;
  /** Events since the last good checkpoint kept (by reference) to pinpoint reorders; default 1,048,576. */
  retainLimit?: number;
  maxProblems?: number;
  /**
   * Resume after a pruned prefix: the tree state (size and frontier) at the first stored event,
   * e.g. from a retention archive. Events must then start at seq = start.size; checkpoints below
   * that size are checked for signature and split views only.
   */
  start?: TreeState;
};

type ValidCheckpoint = { source: 'log' | 'against'; index: number; size: number; root: Buffer };

const utf8 = new TextDecoder();

function ownSeq(c: StoredEvent['canonical'] | undefined, field: string): number | undefined {
  if (c === undefined) return undefined;
  try {
    const obj: unknown = c instanceof Uint8Array ? JSON.parse(utf8.decode(c)) : typeof c === 'string' ? JSON.parse(c) : c;
    if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
      const v = (obj as Record<string, unknown>)[field];
      if (typeof v === 'number') return v;
    }
  } catch {
    // Unparseable bytes are an edit, reported by the range; nothing to pinpoint here.
  }
  return undefined;
}

export type LogCheckerOptions = Omit<VerifyLogInput, 'events'> & {
  /**
   * The stored event at a position, read back only when a root mismatch is being pinpointed. Without it
   * the checker keeps events since the last good checkpoint in memory (events given as whole objects);
   * with it nothing is kept, which leaf hashes computed elsewhere (appendLeaves) need.
   */
  canonicalAt?: (seq: number) => StoredEvent['canonical'] | undefined;
};

/**
 * The streaming verifier behind verifyLog: feed it events in order (`event`), or leaf hashes computed
 * elsewhere (`appendLeaves`, `gap`), then `finish`. Either way the same checks, in the same order,
 * name the same first bad sequence number.
 */
export function createLogChecker(input: LogCheckerOptions) {
  const verifier = typeof input.vkey === 'string' ? parseVerifierKey(input.vkey) : input.vkey;
  const origin = input.origin ?? verifier.name;
  const maxProblems = input.maxProblems ?? 100;
  const seqField = input.seqField === undefined ? 'seq' : input.seqField;
  const retainLimit = input.retainLimit ?? 1 << 20;
  const canonicalAt = input.canonicalAt;
  const problems: VerifyProblem[] = [];
  const add = (p: VerifyProblem) => {
    if (problems.length < maxProblems) problems.push(p);
  };

  // 1. Open every checkpoint.
  const valid: ValidCheckpoint[] = [];
  let invalid = 0;
  const open = (notes: Iterable<string> | undefined, source: 'log' | 'against') => {
    let index = 0;
    for (const note of notes ?? []) {
      try {
        const cp = openCheckpoint(note, verifier, { origin });
        valid.push({ source, index, size: cp.size, root: cp.rootHash });
      } catch (e) {
        invalid++;
        const code = e instanceof NoteError ? e.code : 'error';
        add({ kind: 'bad-checkpoint', seq: null, checkpoint: { source, index }, message: `${source} checkpoint #${index} rejected (${code}): ${(e as Error).message}` });
      }
      index++;
    }
  };
  open(input.checkpoints, 'log');
  open(input.against, 'against');

  // 2. Group by size; two roots for one size is a split view whatever the log holds.
  const bySize = new Map<number, ValidCheckpoint[]>();
  for (const c of valid) {
    const list = bySize.get(c.size);
    if (list) list.push(c);
    else bySize.set(c.size, [c]);
  }
  const sizes = [...bySize.keys()].sort((a, b) => a - b);
  const largestLog = valid.reduce<number | null>((m, c) => (c.source === 'log' && (m === null || c.size > m) ? c.size : m), null);

  // Largest size at which some checkpoint matched the recomputed root, per source.
  const lastGood = { log: 0, against: 0 };
  let matched = 0;
  let diverged = false; // after a root mismatch every later root differs too: report once
  // Events since the last good checkpoint, to pinpoint reorders: counted always, kept only without canonicalAt.
  const retained: Array<StoredEvent['canonical'] | undefined> = [];
  let retainedCount = 0;
  const startSize = input.start?.size ?? 0;
  let retainedFrom = startSize;
  let retainOverflow = false;

  let tree = createFrontier(input.start);
  const recoveries: RecoveryMark[] = [];
  let nextSizeIdx = 0;

  const checkAt = (size: number) => {
    const list = bySize.get(size)!;
    const root = size === 0 ? emptyRoot() : tree.root();
    const good = list.filter((c) => c.root.equals(root));
    const bad = list.filter((c) => !c.root.equals(root));
    const distinctRoots = new Set(list.map((c) => c.root.toString('hex'))).size;
    for (const c of good) {
      matched++;
      lastGood[c.source] = Math.max(lastGood[c.source], size);
      if (c.source === 'against') lastGood.log = Math.max(lastGood.log, size);
    }
    if (good.length > 0) {
      retained.length = 0;
      retainedCount = 0;
      retainedFrom = size;
      retainOverflow = false;
    }
    if (bad.length === 0) return;
    const first = bad[0]!;
    // Where the first differing event can lie: after the last size this view was seen to agree.
    const from = first.source === 'against' || distinctRoots > 1 ? lastGood.against : lastGood.log;
    const range: [number, number] = [Math.min(Math.max(from, startSize), size), size];
    const where = { source: first.source, index: first.index, size };
    if (distinctRoots > 1) {
      add({ kind: 'split-view', seq: range[0], range, checkpoint: where, message: `two different signed roots for tree size ${size}; the log matches ${good.length > 0 ? 'one of them' : 'neither'}` });
      return;
    }
    if (diverged) return;
    diverged = true;
    if (size === startSize && startSize > 0) {
      add({ kind: 'edited', seq: null, checkpoint: where, message: `the starting tree state does not match the signed checkpoint at size ${size}` });
      return;
    }
    if (first.source === 'against') {
      add({ kind: 'rollback', seq: range[0], range, checkpoint: where, message: `log is not consistent with the saved checkpoint of size ${size}: it was rewritten after it (first difference in [${range[0]}, ${size}))` });
      return;
    }
    // Try to pinpoint a reorder from the events' own sequence numbers.
    if (seqField && !retainOverflow && retainedFrom <= range[0]) {
      const own = (pos: number) => ownSeq(canonicalAt ? canonicalAt(pos) : retained[pos - retainedFrom], seqField);
      for (let pos = range[0]; pos < retainedFrom + retainedCount; pos++) {
        const got = own(pos);
        if (got !== undefined && got !== pos) {
          // Later events all shifted down by one: an event was deleted and the rest renumbered.
          const next = pos + 1 < retainedFrom + retainedCount ? own(pos + 1) : undefined;
          const shifted = got === pos + 1 && (next === undefined || next === got + 1);
          add({
            kind: shifted ? 'deleted' : 'reordered',
            seq: pos,
            checkpoint: where,
            message: shifted
              ? `event ${pos} is missing: the event at position ${pos} records ${seqField} ${got} and later events were renumbered`
              : `event at position ${pos} records ${seqField} ${got}: events were moved`,
          });
          return;
        }
      }
    }
    add({ kind: 'edited', seq: range[0], range, checkpoint: where, message: `recomputed root at size ${size} differs from the signed checkpoint: an event in [${range[0]}, ${size}) was changed` });
  };

  // Split views are reported even for sizes the log no longer reaches.
  const checkSizesUpTo = (n: number) => {
    while (nextSizeIdx < sizes.length && sizes[nextSizeIdx]! <= n) {
      const s = sizes[nextSizeIdx]!;
      if (s === n) checkAt(n);
      else splitViewOnly(s);
      nextSizeIdx++;
    }
  };
  // Sizes the events cannot reach (pruned prefix, or beyond a broken log): only split views show.
  const splitViewOnly = (s: number) => {
    const list = bySize.get(s)!;
    if (new Set(list.map((c) => c.root.toString('hex'))).size > 1) {
      const range: [number, number] = [Math.min(lastGood.against, s), s];
      add({ kind: 'split-view', seq: range[0], range, checkpoint: { source: list[0]!.source, index: list[0]!.index, size: s }, message: `two different signed roots for tree size ${s}` });
    }
  };
  checkSizesUpTo(startSize);

  // 3. One pass over the events.
  let expected = startSize;
  let broken: { at: number; got: number } | null = null;
  let missingSeen = false;

  // After integrating the leaf of event `expected`: keep it for pinpointing while a checkpoint lies ahead.
  const advance = (canonical: StoredEvent['canonical'] | undefined) => {
    if (seqField && nextSizeIdx < sizes.length) {
      if (retainedCount < retainLimit) {
        retainedCount++;
        if (!canonicalAt) retained.push(canonical);
      } else retainOverflow = true;
    }
    expected++;
    if (nextSizeIdx < sizes.length && sizes[nextSizeIdx] === expected) checkSizesUpTo(expected);
  };
  let delegationRows = 0;
  const columnProblem = (seq: number, column: string, message?: string) => add({
    kind: 'column-edited', seq, column, message: message ?? `event ${seq}: stored column ${column} differs from the canonical event (a filtered query would not find it as recorded)`,
  });
  const checkColumns = (ev: StoredEvent) => {
    const c = ev.canonical;
    const text = typeof c === 'string' ? c : c instanceof Uint8Array ? utf8.decode(c) : undefined;
    if (text === undefined) return;
    const fields = indexedFields(text);
    const bad = columnMismatch(fields, ev.columns!);
    if (bad) columnProblem(ev.seq, bad);
    delegationRows += expectedDelegationCount(fields);
  };
  // Re-anchors on an audited recovery's tree state: the tree resumes from it (it is committed to by the
  // checkpoints signed after the recovery event), and checkpoints below it can no longer be compared.
  const adopt = (rec: { resume: TreeState; acknowledged: RecoveryMark['acknowledged'] }, seq: number) => {
    recoveries.push({ seq, acknowledged: rec.acknowledged });
    tree = createFrontier(rec.resume);
    expected = rec.resume.size;
    lastGood.log = Math.max(lastGood.log, expected);
    lastGood.against = Math.max(lastGood.against, expected);
    diverged = false;
    retained.length = 0;
    retainedCount = 0;
    retainedFrom = expected;
    retainOverflow = false;
    checkSizesUpTo(expected);
  };
  const editedProblem = (seq: number) => add({ kind: 'edited', seq, message: `event ${seq}: recomputed leaf hash differs from the stored leaf hash` });

  return {
    /** The sequence number the next event must carry. */
    get expected() {
      return expected;
    },
    /** True once events stopped following 0, 1, 2, …: later input is only scanned for the missing one. */
    get broken() {
      return broken !== null;
    },

    /** The next stored event, in store order. */
    event(ev: StoredEvent): void {
      if (broken) {
        if (ev.seq === broken.at) missingSeen = true;
        return;
      }
      const rec = recoveryOf(ev);
      if (ev.seq !== expected) {
        if (!rec || ev.seq < expected || rec.resume.size !== ev.seq) {
          broken = { at: expected, got: ev.seq };
          return;
        }
        // Events [expected, ev.seq) are missing, and an audited recovery re-anchored the log right after them.
        add({ kind: 'deleted', seq: expected, message: `events ${expected}..${ev.seq - 1} are missing; the audited recovery at seq ${ev.seq} re-anchored the log after them` });
        adopt(rec, ev.seq);
      } else if (rec && rec.resume.size === expected && !tree.root().equals(stateRoot(rec.resume))) {
        if (problems.length === 0) add({ kind: 'edited', seq: Math.max(lastGood.log, startSize), message: `the tree state recorded by the recovery at seq ${ev.seq} differs from the tree recomputed before it` });
        adopt(rec, ev.seq);
      } else if (rec) {
        recoveries.push({ seq: ev.seq, acknowledged: rec.acknowledged });
      }
      const hex = leafHex(ev.canonical);
      const bad = ev.storedLeafHash !== undefined ? leafMismatch(hex, ev.storedLeafHash) : undefined;
      if (bad) {
        editedProblem(expected);
        // Continue with the stored hash: it is what the checkpoints committed to, so later
        // independent edits still show up.
        tree.appendBytes(bad.use);
      } else {
        tree.appendHex(hex);
      }
      if (ev.columns !== undefined) checkColumns(ev);
      advance(ev.canonical);
    },

    /**
     * Leaf hashes computed elsewhere for events expected, expected+1, …: `count` 32-byte hashes in
     * `leaves` (already the hash to integrate), and the seqs among them (ascending) whose recomputed
     * hash differed from the stored one.
     */
    appendLeaves(leaves: Uint8Array, count: number, edited: readonly number[] = [], columns: ReadonlyArray<readonly [number, string]> = []): void {
      if (broken) return;
      let e = 0;
      let c = 0;
      for (let i = 0; i < count; i++) {
        if (e < edited.length && edited[e] === expected) {
          editedProblem(expected);
          e++;
        }
        tree.appendBytes(leaves, i * HASH_SIZE);
        // In the same order as event(): leaf, then columns, then the checkpoint at the new size.
        while (c < columns.length && columns[c]![0] === expected) {
          columnProblem(expected, columns[c]![1]);
          c++;
        }
        advance(undefined);
      }
    },

    /** audit_delegation rows the events checked so far must have (counted where columns were given). */
    get delegationRowsExpected() {
      return delegationRows;
    },
    addDelegationRowsExpected(n: number): void {
      delegationRows += n;
    },

    /** The next stored event carries `got` instead of the expected seq (a store read in seq order has no later match). */
    gap(got: number): void {
      if (!broken) broken = { at: expected, got };
    },

    finish(): VerifyReport {
      const size = expected;
      if (broken !== null) {
        const b = broken as { at: number; got: number };
        if (b.got < b.at) {
          add({ kind: 'reordered', seq: b.at, message: `event ${b.got} appears again or out of order where event ${b.at} was expected` });
        } else if (missingSeen) {
          add({ kind: 'reordered', seq: b.at, message: `event ${b.got} appears where event ${b.at} was expected; ${b.at} comes later` });
        } else {
          add({ kind: 'deleted', seq: b.at, message: `events ${b.at}..${b.got - 1} are missing (next stored event is ${b.got})` });
        }
      }

      // 4. Checkpoints beyond what was read.
      for (; nextSizeIdx < sizes.length; nextSizeIdx++) splitViewOnly(sizes[nextSizeIdx]!);
      if (broken === null) {
        if (largestLog !== null && largestLog > size) {
          add({ kind: 'truncated', seq: size, message: `log has ${size} events but a checkpoint it signed covers ${largestLog}: events from ${size} are gone` });
        }
        const ahead = valid.filter((c) => c.source === 'against' && c.size > size);
        if (ahead.length > 0) {
          const c = ahead.reduce((a, b) => (b.size > a.size ? b : a));
          add({ kind: 'rollback', seq: size, checkpoint: { source: 'against', index: c.index, size: c.size }, message: `log has ${size} events but a checkpoint saved elsewhere covers ${c.size}: truncated or rolled back` });
        }
      }

      const seqs = problems.map((p) => p.seq).filter((s): s is number => s !== null);
      return acknowledge({
        ok: problems.length === 0,
        unacknowledged: problems.length,
        recoveries,
        size,
        start: startSize,
        rootHash: tree.root(),
        firstBadSeq: seqs.length > 0 ? Math.min(...seqs) : null,
        problems,
        checkpoints: { valid: valid.length, invalid, matched, largestSize: sizes.length > 0 ? sizes[sizes.length - 1]! : null },
      });
    },
  };
}

export type LogChecker = ReturnType<typeof createLogChecker>;

/** Equal for acknowledgement: a truncation seen at recovery time shows as a deletion once events follow it. */
const sameKind = (a: string, b: string) => a === b || (['deleted', 'truncated'].includes(a) && ['deleted', 'truncated'].includes(b));

/**
 * Marks each problem an audited recovery recorded as found (same kind and seq, recovery later in the log)
 * and sets ok / unacknowledged from what is left. Anything a recovery did not record stays unacknowledged,
 * so tampering after (or beside) a recovery is never hidden by it.
 */
export function acknowledge(report: VerifyReport): VerifyReport {
  let left = 0;
  const problems = report.problems.map((p) => {
    const by = report.recoveries.find((r) => p.seq !== null && r.seq > p.seq && r.acknowledged.some((a) => a.seq === p.seq && sameKind(a.kind, p.kind)));
    if (!by) {
      left++;
      const { acknowledgedBy: _drop, ...rest } = p;
      return rest;
    }
    return { ...p, acknowledgedBy: by.seq };
  });
  return { ...report, problems, unacknowledged: left, ok: left === 0 };
}

const RECOVERY_TAIL = '"type":"audit.recovered","v":1}';

/** The tree state and acknowledged problems of an `audit.recovered` event, or undefined for any other event. */
export function recoveryOf(ev: StoredEvent): { resume: TreeState; acknowledged: RecoveryMark['acknowledged'] } | undefined {
  const c = ev.canonical;
  let obj: unknown;
  if (typeof c === 'string') {
    if (!c.endsWith(RECOVERY_TAIL)) return undefined;
    try { obj = JSON.parse(c); } catch { return undefined; }
  } else if (c instanceof Uint8Array) {
    const text = utf8.decode(c);
    if (!text.endsWith(RECOVERY_TAIL)) return undefined;
    try { obj = JSON.parse(text); } catch { return undefined; }
  } else obj = c;
  const e = obj as { type?: unknown; seq?: unknown; details?: { resume_state?: { size?: unknown; frontier?: unknown }; problems?: unknown } };
  if (!e || e.type !== 'audit.recovered' || e.seq !== ev.seq) return undefined;
  const rs = e.details?.resume_state;
  if (!rs || !Number.isSafeInteger(rs.size) || !Array.isArray(rs.frontier) || !rs.frontier.every((h) => typeof h === 'string')) return undefined;
  const frontier = (rs.frontier as string[]).map((h) => Buffer.from(h, 'base64'));
  if (frontier.some((h) => h.length !== HASH_SIZE)) return undefined;
  const acknowledged = Array.isArray(e.details?.problems)
    ? (e.details!.problems as Array<{ kind?: unknown; seq?: unknown }>).filter((p) => typeof p.kind === 'string').map((p) => ({ kind: p.kind as string, seq: typeof p.seq === 'number' ? p.seq : null }))
    : [];
  return { resume: { size: rs.size as number, frontier }, acknowledged };
}

export async function verifyLog(input: VerifyLogInput): Promise<VerifyReport> {
  const checker = createLogChecker(input);
  for await (const item of input.events as AsyncIterable<StoredEvent | readonly StoredEvent[]>) {
    if (Array.isArray(item)) for (const ev of item as readonly StoredEvent[]) checker.event(ev);
    else checker.event(item as StoredEvent);
  }
  return checker.finish();
}
