import type { AuditInput, AuditWriter } from '../audit/index.js';
import type { Logger } from '../platform/logger.js';
import type { Database, Trx, WriteBatch } from '../platform/store/db.js';

// Where a call's `gateway.call_completed` event waits to be written. It need not be durable before anything is
// answered — the call's own record (`gateway.call`, with its decision) already was, before the first byte — so instead
// of a commit of its own per call (on SQLite an fsync on the event loop, which every other call waits behind), it is
// written inside the next call's record commit, or by a flush at most FLUSH_MS later when no call comes. A call then
// costs one commit, not two.
//
// Rules:
// - Each queued event is written exactly once: one job per batch claims the queue (batch.state), and the events leave
//   the queue only after the commit that holds them (afterCommit); a rolled-back or retried batch writes them again.
// - Batches run one after another (db.ts), so two batches never hold the same events.
// - A failed flush keeps the events queued (the next commit tries again) and is logged; close() flushes what is left.
// - What a crash loses is at most the last FLUSH_MS of completion events; the calls themselves are recorded.

export const FLUSH_MS = 20;
/** Beyond this many queued events, a flush is started at once. */
const MAX_QUEUED = 2_000;
const CLAIMED = Symbol('gateway.completions.claimed');

export interface CompletionQueue {
  add(event: AuditInput): void;
  /** Writes the queued events inside the caller's transaction (a call's record), once per batch. */
  drainInto(trx: Trx, batch: WriteBatch): Promise<void>;
  flush(): Promise<void>;
  pending(): number;
}

export function createCompletionQueue(deps: { db: Database; audit: AuditWriter; logger: Logger; flushMs?: number }): CompletionQueue {
  let queue: AuditInput[] = [];
  let timer: NodeJS.Timeout | undefined;

  async function drainInto(trx: Trx, batch: WriteBatch): Promise<void> {
    if (queue.length === 0 || batch.state.has(CLAIMED)) return;
    batch.state.set(CLAIMED, true);
    const events = queue.slice();
    for (const event of events) await deps.audit.record(trx, batch, event);
    batch.afterCommit(() => {
      // Events queued while this commit ran were appended after these.
      queue = queue.slice(events.length);
    });
  }

  async function flush(): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (queue.length === 0) return;
    try {
      await deps.db.write((trx, batch) => drainInto(trx, batch));
    } catch (error) {
      deps.logger.error({ err: error, queued: queue.length }, 'gateway completion events could not be written; kept for the next commit');
      schedule();
    }
  }

  function schedule() {
    if (timer) return;
    timer = setTimeout(() => { timer = undefined; void flush(); }, deps.flushMs ?? FLUSH_MS);
    timer.unref();
  }

  return {
    add(event) {
      queue.push(event);
      if (queue.length >= MAX_QUEUED) void flush();
      else schedule();
    },
    drainInto,
    flush,
    pending: () => queue.length,
  };
}
