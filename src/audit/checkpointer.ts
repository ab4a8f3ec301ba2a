import fs from 'node:fs';
import type { Clock } from '../platform/clock.js';
import type { Database } from '../platform/store/db.js';
import type { Logger } from '../platform/logger.js';
import { putMeta } from '../platform/store/meta.repo.js';
import * as repo from './audit.repo.js';
import { signCheckpoint } from './checkpoint.js';
import { persistFailure, readFailure, type IntegrityFailure } from './integrity.js';
import type { LogKey } from './log-key.js';
import { createLogScanner, type Finding, type LogScanner } from './log-scanner.js';
import { serializeState, VERIFIED_STATE_KEY } from './tree-state.js';
import { verifyDatabase } from './verify-store.js';

// Integrates committed events into the Merkle tree in sequence order and signs a checkpoint at least
// every interval while events arrive, and once more on shutdown. Checkpoints are stored (append-only)
// and pushed to the configured sinks for external witnessing.
//
// It is also the server's integrity check (log-scanner.ts): the first tick (before the server listens)
// resumes from the verified-up-to marker and re-verifies what came after it; every later tick verifies
// the events it integrates. A finding is recorded in `meta` (integrity.ts): from then on every
// audit.record fails with audit_integrity_failed, /readyz is red, and no checkpoint is signed over the
// damaged log, until the audited recovery (`custos audit recover`) re-anchors it.

export type CheckpointSink = { kind: 'file'; path: string } | { kind: 'webhook'; url: string } | { kind: 'stdout' };

export function parseSinks(spec: string | undefined): CheckpointSink[] {
  if (!spec) return [];
  return spec.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    if (s === 'stdout') return { kind: 'stdout' as const };
    if (s.startsWith('file:')) return { kind: 'file' as const, path: s.slice(5) };
    if (s.startsWith('webhook:')) return { kind: 'webhook' as const, url: s.slice(8) };
    throw new Error(`checkpoint sink '${s}' must be stdout, file:PATH or webhook:URL`);
  });
}

export interface CheckpointerDeps {
  db: Database;
  key: LogKey;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  sinks?: CheckpointSink[];
  stdout?: NodeJS.WritableStream;
}

export function createCheckpointer(deps: CheckpointerDeps) {
  const { db, key } = deps;
  let scanner: LogScanner | undefined;
  let pendingNodes: Array<{ level: number; idx: number; hash: string }> = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let healthy = true;
  let lastError: string | undefined;
  let failure: IntegrityFailure | undefined;

  async function fail(f: Finding, by: IntegrityFailure['detected_by']): Promise<void> {
    const record: IntegrityFailure = { ...f, detected_at: deps.clock.now().toISOString(), detected_by: by };
    await persistFailure(db, record);
    failure = (await readFailure(db)) ?? record;
    deps.logger.error({ kind: failure.kind, first_bad_seq: failure.first_bad_seq, detail: failure.message }, 'audit log integrity failure: governed writes are refused until `custos audit recover`');
  }

  /** The scanner, opened and caught up; undefined when the log failed its check (recorded). */
  async function ready(): Promise<LogScanner | undefined> {
    const recorded = await readFailure(db);
    if (recorded) {
      if (!failure) deps.logger.error({ kind: recorded.kind, first_bad_seq: recorded.first_bad_seq, detail: recorded.message }, 'audit log integrity failure recorded: governed writes are refused until `custos audit recover`');
      failure = recorded;
      scanner = undefined;
      return undefined;
    }
    if (failure) {
      // The record is gone: an audited recovery re-anchored the log. Start again from its marker.
      failure = undefined;
      scanner = undefined;
      pendingNodes = [];
    }
    const starting = scanner === undefined;
    const s = scanner ?? createLogScanner({ db, key });
    if (starting) {
      const f = await s.open();
      if (f) return void (await fail(f, 'start'));
      scanner = s;
    }
    const by = starting ? 'start' : 'checkpointer';
    let f = await s.integrate();
    // A checkpoint another node signed after this one read the events: read again before calling it a truncation.
    if (!f && (s.signedAhead() ?? 0) > s.tree.size) f = await s.integrate();
    if (!f && (s.signedAhead() ?? 0) > s.tree.size) {
      f = { kind: 'truncated', first_bad_seq: s.tree.size, message: `the log holds ${s.tree.size} events but a checkpoint it signed covers ${s.signedAhead()}: events from ${s.tree.size} are gone` };
    }
    if (!f && starting) f = await s.latestRootCheck();
    if (f) {
      scanner = undefined;
      return void (await fail(f, by));
    }
    pendingNodes.push(...s.takeNodes());
    return s;
  }

  async function tick(): Promise<void> {
    const s = await ready();
    if (!s) return;
    const t = s.tree;
    const latest = await repo.latestCheckpoint(db.kysely);
    const nodes = pendingNodes;
    if (latest && Number(latest.tree_size) >= t.size && nodes.length === 0) return;
    const size = t.size;
    const root = t.root();
    const note = signCheckpoint({ origin: key.origin, size, rootHash: root }, key.signer);
    const time = deps.clock.now().toISOString();
    const isNew = !latest || Number(latest.tree_size) < size;
    const marker = JSON.stringify(serializeState(t.state()));
    await db.write(async (trx) => {
      if (nodes.length) {
        for (let i = 0; i < nodes.length; i += 500) await repo.insertNodes(trx, nodes.slice(i, i + 500));
      }
      if (isNew) {
        await repo.insertCheckpoint(trx, { tree_size: size, root_hash: root.toString('hex'), time, note });
        // Verified up to here: the next start re-verifies only what comes after.
        await putMeta(trx, VERIFIED_STATE_KEY, marker);
      }
    });
    pendingNodes = [];
    if (isNew) await publish(note);
  }

  async function publish(note: string): Promise<void> {
    for (const sink of deps.sinks ?? []) {
      try {
        if (sink.kind === 'stdout') (deps.stdout ?? process.stdout).write(note + '\n');
        else if (sink.kind === 'file') fs.writeFileSync(sink.path, note, { mode: 0o644 });
        else {
          await fetch(sink.url, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: note, signal: AbortSignal.timeout(5000) });
        }
      } catch (error) {
        deps.logger.warn({ sink: sink.kind, err: (error as Error).message }, 'checkpoint sink failed');
      }
    }
  }

  async function runOnce(): Promise<void> {
    // One tick at a time; callers that arrive during a tick wait for the next one.
    while (running) await running;
    running = tick().then(() => {
      healthy = true;
      lastError = undefined;
    }, (error: Error) => {
      healthy = false;
      lastError = error.message;
      deps.logger.error({ err: error.message }, 'audit checkpoint failed');
    }).finally(() => { running = undefined; });
    await running;
  }

  /**
   * The whole log verified once (every event, column, delegation row and checkpoint, verify-store.ts): the
   * start-up check only re-verifies what came after the marker, so an event edited before it is found here.
   * Problems an audited recovery recorded are not findings again; anything else is.
   */
  async function verifyAll(): Promise<Finding | undefined> {
    if (failure) return undefined;
    const report = await verifyDatabase(db, key.vkey, []);
    const p = report.problems.find((x) => x.acknowledgedBy === undefined);
    if (!p) return undefined;
    const f: Finding = { kind: p.kind === 'split-view' || p.kind === 'rollback' ? 'bad-checkpoint' : p.kind, first_bad_seq: p.seq, message: `full verification: ${p.message}` };
    await fail(f, 'checkpointer');
    return f;
  }

  let stopped = false;

  return {
    /** Signs on an interval, and verifies the whole log once in the background. */
    start() {
      timer = setInterval(() => void runOnce(), deps.intervalMs);
      timer.unref();
      // Not awaited by stop(): a shutdown does not wait for a long verification (it simply ends with the store).
      void verifyAll().catch((error: Error) => {
        if (!stopped) deps.logger.error({ err: error.message }, 'audit full verification failed to run');
      });
    },
    /** Runs the whole-log verification now (what start() runs in the background); returns the finding, if any. */
    verifyAll,
    /** Integrates (verifying what it integrates) and signs now (start-up, tests, shutdown). */
    checkpointNow: runOnce,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await runOnce();
    },
    /** Readiness: red while a checkpoint cannot be made or the log failed its integrity check. */
    health: () => failure
      ? { ok: false, detail: `audit log integrity failure (${failure.kind}${failure.first_bad_seq !== null ? ` at seq ${failure.first_bad_seq}` : ''}): ${failure.message}; run custos audit recover` }
      : { ok: healthy, detail: lastError },
    /** The integrity failure found, if any (also recorded in the store). */
    failure: () => failure,
    size: () => scanner?.tree.size ?? 0,
  };
}
export type Checkpointer = ReturnType<typeof createCheckpointer>;
