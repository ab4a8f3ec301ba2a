import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import { tagDialect } from './reusable.js';
import type { DB } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';
export type Trx = Transaction<DB>;

// bigint (int8) columns come back as strings from pg by default; our sequence numbers fit in 2^53.
pg.types.setTypeParser(20, (value: string) => Number(value));

export interface Database {
  kysely: Kysely<DB>;
  dialect: Dialect;
  /**
   * Runs `fn` inside a group-committed transaction: concurrent writers share one transaction and one
   * durable commit. Each job runs inside its own savepoint, so a failing job rolls back alone and the
   * others still commit. The promise settles only after the commit is durable.
   */
  write<T>(fn: (trx: Trx, batch: WriteBatch) => Promise<T>): Promise<T>;
  /** Called after each group commit with its duration and the writes already queued for the next one (metrics). */
  observeCommits(observe: (seconds: number, queued: number) => void): void;
  /** Last commit failure (cleared by the next successful commit); readiness reports it. */
  lastWriteError(): Error | undefined;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Per-batch scratch space shared by the jobs of one transaction (e.g. the next audit sequence number). */
export interface WriteBatch {
  state: Map<symbol, unknown>;
  /** Called if the current job's savepoint is rolled back, to undo in-memory batch state. */
  onJobRollback(undo: () => void): void;
  /**
   * Runs `flush` once, after the last job and before the commit (e.g. one multi-row insert of everything the jobs
   * staged). If it throws, the whole batch fails: nothing is committed.
   */
  beforeCommit(key: symbol, flush: (trx: Trx) => Promise<void>): void;
  /**
   * Runs `fn` after the transaction committed and before the job's promise resolves (e.g. applying a revocation
   * to in-memory state, so it is in force the moment the caller hears of it). Dropped when the job rolls back.
   */
  afterCommit(fn: () => void): void;
}

export interface OpenOptions {
  dataDir: string;
  databaseUrl: string | undefined;
  /** Largest number of jobs committed together. */
  maxBatch?: number;
}

export function sqlitePath(dataDir: string): string {
  return path.join(dataDir, 'custos.db');
}

export function openDatabase(opts: OpenOptions): Database {
  if (opts.databaseUrl) {
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 10 });
    // An idle client error must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    // pg-pool drops its idle listener while a client is checked out; a connection that dies then (PostgreSQL
    // restarting, a failover) would emit 'error' with nobody listening and crash the process. The client's next
    // query fails instead, which the HTTP layer answers 503.
    pool.on('connect', (client) => client.on('error', () => undefined));
    const kysely = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return wrap(kysely, 'postgres', opts.maxBatch);
  }
  fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const file = sqlitePath(opts.dataDir);
  const native = new BetterSqlite3(file);
  fs.chmodSync(file, 0o600);
  native.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before we acknowledge it (audit before response survives power loss).
  native.pragma('synchronous = FULL');
  native.pragma('foreign_keys = ON');
  native.pragma('busy_timeout = 5000');
  const kysely = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(native) }) });
  return wrap(kysely, 'sqlite', opts.maxBatch, (text) => native.exec(text));
}

/**
 * Kysely's SQLite driver prepares every statement anew; preparing costs more than running a small insert.
 * Statements are reused by SQL text (bounded), which is safe because better-sqlite3 runs them synchronously.
 */
function withStatementCache(native: BetterSqlite3.Database, max = 2000): BetterSqlite3.Database {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return new Proxy(native, {
    get(target, prop, receiver) {
      if (prop === 'prepare') {
        return (source: string) => {
          let stmt = cache.get(source);
          if (!stmt) {
            stmt = target.prepare(source);
            if (cache.size >= max) cache.delete(cache.keys().next().value!);
            cache.set(source, stmt);
          }
          return stmt;
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

interface Job {
  fn: (trx: Trx, batch: WriteBatch) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** rawExec runs a statement on the same connection synchronously (SQLite), skipping the query builder. */
function wrap(kysely: Kysely<DB>, dialect: Dialect, maxBatch = 512, rawExec?: (sql: string) => void): Database {
  tagDialect(kysely, dialect);
  const queue: Job[] = [];
  let running = false;
  let lastError: Error | undefined;
  let closed = false;
  const commitObservers: Array<(seconds: number, queued: number) => void> = [];

  type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

  /**
   * Runs a batch. First optimistically, with no savepoints (most jobs succeed, and each savepoint costs a
   * statement, a round trip on PostgreSQL). If a job throws, that attempt is rolled back whole and the batch is
   * run again with a savepoint around each job, so only the failing job fails. Jobs are database work only, so
   * running one twice is safe.
   */
  async function runBatch(jobs: Job[]): Promise<void> {
    const started = performance.now();
    const first = await attempt(jobs, jobs.length === 1);
    if (first === 'retry') await attempt(jobs, true);
    for (const observe of commitObservers) observe((performance.now() - started) / 1000, queue.length);
  }

  async function attempt(jobs: Job[], isolate: boolean): Promise<'done' | 'retry'> {
    const outcomes: Outcome[] = [];
    let trx;
    try {
      trx = tagDialect(await kysely.startTransaction().execute(), dialect);
    } catch (error) {
      lastError = error as Error;
      for (const job of jobs) job.reject(error);
      return 'done';
    }
    const savepoint = async (statement: 'savepoint' | 'release' | 'rollback') => {
      const text = statement === 'savepoint' ? 'savepoint custos_job' : statement === 'release' ? 'release savepoint custos_job' : 'rollback to savepoint custos_job';
      if (rawExec) rawExec(text);
      else await sql.raw(text).execute(trx);
    };
    try {
      if (dialect === 'postgres') {
        // Serialises writers across nodes so sequence numbers are assigned without gaps or races.
        await sql`select pg_advisory_xact_lock(7424011)`.execute(trx);
      }
      const flushes = new Map<symbol, (trx: Trx) => Promise<void>>();
      const committed: Array<() => void> = [];
      const batch: WriteBatch & { undo: Array<() => void>; after: Array<() => void> } = {
        state: new Map(),
        undo: [],
        after: [],
        onJobRollback(undo) { this.undo.push(undo); },
        beforeCommit(key, flush) { if (!flushes.has(key)) flushes.set(key, flush); },
        afterCommit(fn) { this.after.push(fn); },
      };
      for (const job of jobs) {
        batch.undo = [];
        batch.after = [];
        if (isolate) await savepoint('savepoint');
        try {
          const value = await job.fn(trx, batch);
          if (isolate) await savepoint('release');
          outcomes.push({ ok: true, value });
          committed.push(...batch.after);
        } catch (error) {
          if (!isolate) {
            await trx.rollback().execute();
            return 'retry';
          }
          await savepoint('rollback');
          await savepoint('release');
          for (const undo of batch.undo.reverse()) undo();
          outcomes.push({ ok: false, error });
        }
      }
      for (const flush of flushes.values()) await flush(trx);
      await trx.commit().execute();
      lastError = undefined;
      for (const fn of committed) {
        try { fn(); } catch { /* an after-commit hook must not undo a commit */ }
      }
    } catch (error) {
      lastError = error as Error;
      try { await trx.rollback().execute(); } catch { /* connection may be gone */ }
      for (const job of jobs) job.reject(error);
      return 'done';
    }
    jobs.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    });
    return 'done';
  }

  async function drain(): Promise<void> {
    if (running) return;
    running = true;
    try {
      while (queue.length > 0) {
        await runBatch(queue.splice(0, maxBatch));
      }
    } finally {
      running = false;
    }
  }

  return {
    kysely,
    dialect,
    write<T>(fn: (trx: Trx, batch: WriteBatch) => Promise<T>): Promise<T> {
      if (closed) return Promise.reject(new Error('database is closed'));
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
        // Let other requests that arrive in the same tick join this batch.
        setImmediate(() => void drain());
      });
    },
    lastWriteError: () => lastError,
    observeCommits(observe) {
      commitObservers.push(observe);
    },
    async ping() {
      await sql`select 1`.execute(kysely);
    },
    async close() {
      closed = true;
      while (running || queue.length > 0) await new Promise((r) => setTimeout(r, 5));
      await kysely.destroy();
    },
  };
}

/** Readiness checks the store contributes: reachable, and the last commit succeeded. */
export function storeHealthChecks(db: Database) {
  return {
    store: async () => {
      try {
        await db.ping();
        return { ok: true };
      } catch {
        return { ok: false, detail: 'store unreachable' };
      }
    },
    store_writes: () => (db.lastWriteError() ? { ok: false, detail: 'last commit failed' } : { ok: true }),
  };
}
