// SQL outside audit.repo.ts on purpose: the SQLite fast path reads with raw better-sqlite3 prepared statements, for speed.
// Whole-store verification of a SQLite audit log: rows read with better-sqlite3 directly (read-only,
// prepared statements, raw rows) instead of through the query builder, and the reading and leaf
// hashing spread over worker threads. The main thread also hashes chunks, and integrates every leaf
// into the tree in seq order through the same checker as verifyLog, so every check, and the first bad
// sequence number it names, is the same as verifyLog over the same rows.
//
// The log is cut into chunks of consecutive seqs; the main thread and each worker claim the next
// chunk from a shared counter, so a thread that gets less CPU simply does fewer chunks. A worker
// returns a chunk's leaf hashes as one transferred ArrayBuffer. At most WINDOW chunks are claimed
// ahead of the one being integrated, so memory stays bounded whatever the log's size.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { HASH_SIZE } from './merkle.js';
import { parseState, type SerializedState } from './tree-state.js';
import { createLogChecker, type LogChecker, type VerifyReport } from './verify-log.js';
import { hashRows, type RowsResult, type StoredRow } from './verify-leaves.js';
import { INDEXED_COLUMNS_SQL } from './stored-row.js';
import { checkDelegation, DELEGATION_SQL, withProblems, type DelegationReader } from './verify-delegation.js';
import { CHUNK_ROWS_SQL, CTRL, openForVerify, type WorkerMessage, type WorkerSetup } from './verify-sqlite-protocol.js';

export const DEFAULT_CHUNK = 8192;
/** Chunks claimed ahead of the next one to integrate (bounds memory to about WINDOW · chunk · 32 bytes). */
const WINDOW = 16;
/** Problems the checker reports at most; a chunk never needs to list more edited seqs than that. */
const MAX_EDITED = 100;
/** Below this many events a worker's start-up costs more than it saves. */
const MIN_EVENTS_FOR_WORKERS = 65_536;

export type SqliteVerifyOptions = {
  vkey?: string;
  against?: string[];
  /** Worker threads besides the main thread; default: one per spare CPU (at most 3), none for small logs. */
  workers?: number;
  /** Events per chunk (default 8192). */
  chunkSize?: number;
  /** False: the main thread only integrates and workers do all the reading and hashing (needs workers > 0). */
  mainHashes?: boolean;
};

/** Chunks integrated into the tree, and how many of them workers hashed. */
export type SqliteVerifyStats = { workers: number; chunks: number; chunksByWorkers: number; ms: number };

/** The worker module beside this one, in whatever form this file itself was loaded (.ts under tsx, .js from dist). */
function spawnWorker(workerData: WorkerSetup): Worker {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const url = new URL(`./verify-sqlite-worker${ext}`, import.meta.url);
  if (ext === '.js') return new Worker(url, { workerData });
  // Running from TypeScript sources (tsx, a dev dependency): register its loader inside the worker first.
  const api = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true, workerData });
}

function defaultWorkers(events: number): number {
  if (events < MIN_EVENTS_FOR_WORKERS) return 0;
  return Math.max(0, Math.min(3, os.availableParallelism() - 1));
}

type Done = { leaves: Buffer; result: RowsResult; rows: number; byWorker: boolean };

/**
 * Verifies the audit log in the SQLite store at `file` without the server or the master key. Reads one
 * snapshot for the key, checkpoints and range of events (rows are append-only, so workers reading
 * the same seqs later see the same rows).
 */
export async function verifySqliteFile(file: string, opts: SqliteVerifyOptions = {}): Promise<VerifyReport & { vkey: string; stats: SqliteVerifyStats }> {
  const t0 = performance.now();
  const db = openForVerify(file);
  try {
    db.exec('begin');
    const meta = db.prepare('select value from meta where key = ?').pluck();
    const vkey = opts.vkey ?? (meta.get('audit_vkey') as string | undefined);
    if (!vkey) throw new Error('no audit public key: pass --public-key (the store has none recorded)');
    const notes = db.prepare('select note from audit_checkpoints order by tree_size').pluck().all() as string[];
    const pruned = meta.get('audit_pruned_state') as string | undefined;
    const start = pruned ? parseState(JSON.parse(pruned) as SerializedState) : undefined;
    const one = db.prepare('select canonical from audit_events where seq = ?').pluck();
    const checker = createLogChecker({
      checkpoints: notes, vkey, against: opts.against ?? [], seqField: 'seq', ...(start ? { start } : {}),
      // Read back only to pinpoint a reorder after a root mismatch.
      canonicalAt: (seq) => one.get(seq) as string | undefined,
    });
    const stats = await readEvents(db, file, checker, start?.size ?? 0, opts);
    const from = start?.size ?? 0;
    const extra = await checkDelegation(sqliteDelegationReader(db), from, checker.expected, checker.delegationRowsExpected);
    const report = withProblems(checker.finish(), extra);
    db.exec('commit');
    return { ...report, vkey, stats: { ...stats, ms: performance.now() - t0 } };
  } finally {
    db.close();
  }
}

function sqliteDelegationReader(db: BetterSqlite3.Database): DelegationReader {
  const pairs = (q: string, ...args: number[]) => db.prepare(q).raw().all(...args) as Array<[number, string]>;
  return {
    suspicious: (from) => (db.prepare(DELEGATION_SQL.suspicious).raw().all(from) as Array<[number, string, string | null]>).map((r) => [Number(r[0]), r[1], r[2]] as const),
    count: (from, to) => Number(db.prepare(DELEGATION_SQL.count).pluck().get(from, to)),
    rows: (from, to) => pairs(DELEGATION_SQL.rows, from, to).map((r) => [Number(r[0]), r[1]] as const),
    events: (from, to) => pairs(DELEGATION_SQL.events, from, to).map((r) => [Number(r[0]), r[1]] as const),
  };
}

async function readEvents(db: BetterSqlite3.Database, file: string, checker: LogChecker, startSize: number, opts: SqliteVerifyOptions): Promise<Omit<SqliteVerifyStats, 'ms'>> {
  const none = { workers: 0, chunks: 0, chunksByWorkers: 0 };
  const bounds = db.prepare('select min(seq), max(seq) from audit_events where seq >= 0').raw().get() as [unknown, unknown];
  const [min, max] = bounds;
  if (min === null || max === null) return none;
  // An audited recovery re-anchors the tree inside the log (verify-log.ts, adopt): the ordered pass follows it.
  const recovered = db.prepare("select 1 from audit_events where type = 'audit.recovered' limit 1").get() !== undefined;
  if (recovered || !Number.isSafeInteger(min) || !Number.isSafeInteger(max)) {
    // Sequence numbers that are not integers (a tampered store), or a recovery: the plain ordered pass over every row.
    for (const r of db.prepare(`select seq, canonical, leaf_hash, ${INDEXED_COLUMNS_SQL} from audit_events where seq >= 0 order by seq`).raw().iterate() as Iterable<StoredRow>) {
      checker.event({ seq: Number(r[0]), canonical: r[1] as string, storedLeafHash: r[2] as string, columns: r.slice(3) });
    }
    return none;
  }
  if ((min as number) < startSize) {
    // Rows before the pruned prefix's end: the first one read is out of place.
    checker.gap(min as number);
    return none;
  }

  const chunk = Math.max(1, Math.floor(opts.chunkSize ?? DEFAULT_CHUNK));
  const end = (max as number) + 1;
  const chunks = Math.ceil((end - startSize) / chunk);
  const mainHashes = opts.mainHashes ?? true;
  const workers = mainHashes ? Math.min(opts.workers ?? defaultWorkers(end - startSize), Math.max(0, chunks - 1)) : Math.max(1, opts.workers ?? 1);
  const rowsOf = (c: number) => Math.min(chunk, end - startSize - c * chunk);
  const chunkRows = db.prepare(CHUNK_ROWS_SQL).raw();
  const nextSeq = db.prepare('select min(seq) from audit_events where seq >= ?').pluck();

  const ctrlBuffer = new SharedArrayBuffer(CTRL.LENGTH * Int32Array.BYTES_PER_ELEMENT);
  const ctrl = new Int32Array(ctrlBuffer);
  const ready = new Map<number, Done>();
  let byWorkers = 0;

  // Workers report through events; the main thread yields between its own chunks to take them in.
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const pool: Worker[] = [];
  for (let i = 0; i < workers; i++) {
    const w = spawnWorker({ file, start: startSize, end, chunk, window: WINDOW, maxEdited: MAX_EDITED, ctrl: ctrlBuffer });
    w.on('message', (m: WorkerMessage) => {
      if ('error' in m) failure ??= new Error(`verification worker failed: ${m.error}`);
      else {
        ready.set(m.chunk, { leaves: Buffer.from(m.leaves), result: m.result, rows: rowsOf(m.chunk), byWorker: true });
      }
      poke();
    });
    w.on('error', (e) => {
      failure ??= e;
      poke();
    });
    w.on('exit', (code) => {
      if (code !== 0 && Atomics.load(ctrl, CTRL.STOP) === 0) failure ??= new Error(`verification worker exited with ${code}`);
      poke();
    });
    pool.push(w);
  }

  const hashChunk = (c: number): Done => {
    const lo = startSize + c * chunk;
    const n = rowsOf(c);
    const leaves = Buffer.allocUnsafe(n * HASH_SIZE);
    const result = hashRows(chunkRows.all(lo, lo + n) as StoredRow[], lo, leaves, MAX_EDITED);
    return { leaves, result, rows: n, byWorker: false };
  };

  let appended = 0;
  try {
    for (;;) {
      if (failure) throw failure;
      // Integrate finished chunks in seq order.
      let done: Done | undefined;
      while (!checker.broken && (done = ready.get(appended)) !== undefined) {
        ready.delete(appended);
        if (done.byWorker) byWorkers++;
        checker.appendLeaves(done.leaves, done.result.count, done.result.edited, done.result.columns);
        checker.addDelegationRowsExpected(done.result.delegation);
        if (done.result.count < done.rows) {
          // A seq is missing or out of place: name what the store holds there instead.
          const got = done.result.got ?? (nextSeq.get(checker.expected) as number | null);
          if (got === null) return { workers, chunks: appended + 1, chunksByWorkers: byWorkers };
          checker.gap(got);
        }
        appended++;
        Atomics.store(ctrl, CTRL.APPENDED, appended);
        Atomics.notify(ctrl, CTRL.APPENDED);
      }
      if (checker.broken || appended >= chunks) return { workers, chunks: appended, chunksByWorkers: byWorkers };
      // Claim the next chunk unless that would run too far ahead of integration.
      if (mainHashes && Atomics.load(ctrl, CTRL.NEXT) < Math.min(chunks, appended + WINDOW)) {
        const c = Atomics.add(ctrl, CTRL.NEXT, 1);
        if (c < chunks) {
          ready.set(c, hashChunk(c));
          if (pool.length > 0) await new Promise((r) => setImmediate(r));
          continue;
        }
      }
      // Nothing to claim: wait for a worker's chunk.
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    Atomics.store(ctrl, CTRL.STOP, 1);
    Atomics.notify(ctrl, CTRL.APPENDED);
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
