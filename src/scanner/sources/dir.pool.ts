// Spreads a directory scan over this thread and worker threads: files are handed out in small
// batches; each worker keeps one batch queued so it never waits for this thread, which scans too.
import { Worker } from 'node:worker_threads';
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import type { Collector, PartialResult } from '../collector.js';
import type { RuleTuning } from '../engine.js';
import { scanFiles } from './dir.js';

const BATCH = 16;

/** The worker module beside this one, in whatever form this file itself was loaded (.ts under tsx, .js from dist). */
export function workerUrl(): URL {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./dir.worker${ext}`, import.meta.url);
}

type FromWorker = { type: 'started' } | { type: 'done' } | { type: 'progress'; bytes: number } | { type: 'result'; result: PartialResult };

/** Scans `files` here and in `opts.workers` worker threads; what the workers saw is merged into `c`. */
export async function scanFilesInWorkers(c: Collector, absRoot: string, files: string[], opts: { workers: number; tuning: RuleTuning; key: Uint8Array; onProgress?: (bytes: number) => void }): Promise<void> {
  let next = 0;
  const take = (): string[] | null => {
    if (next >= files.length) return null;
    const batch = files.slice(next, next + BATCH);
    next += BATCH;
    return batch;
  };
  const url = workerUrl();
  const workerData = { absRoot, tuning: opts.tuning, limits: c.limits, key: Buffer.from(opts.key).toString('hex') };
  const spawn = (): Worker => {
    if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData });
    // Running from TypeScript sources (tsx, a dev dependency): register its loader inside the worker first.
    const api = import.meta.resolve('tsx/esm/api');
    return new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true, workerData });
  };
  const workers = Array.from({ length: opts.workers }, spawn);

  const inWorkers = workers.map((w) => new Promise<void>((resolve, reject) => {
    let queued = 0;
    let finished = false;
    /** Sends the next batch, or `finish` once none is left and the worker's queue is empty. */
    const feed = () => {
      const batch = c.timeUp() ? null : take();
      if (batch) {
        queued++;
        w.postMessage({ type: 'batch', files: batch });
      } else if (queued === 0 && !finished) {
        finished = true;
        w.postMessage({ type: 'finish' });
      }
    };
    w.on('error', reject);
    w.on('exit', (code) => { if (code !== 0) reject(new Error(`scan worker exited with ${code}`)); });
    w.on('message', (msg: FromWorker) => {
      if (msg.type === 'progress') opts.onProgress?.(msg.bytes);
      else if (msg.type === 'started') {
        // Two batches in hand: the next is queued while one is scanned.
        feed();
        feed();
      } else if (msg.type === 'done') {
        queued--;
        feed();
      } else {
        c.merge(msg.result);
        resolve();
      }
    });
  }));

  // This thread scans batches too, yielding between them so worker messages are answered.
  const here = (async () => {
    for (let batch = take(); batch !== null && !c.timeUp(); batch = take()) {
      await scanFiles(c, absRoot, batch);
      await yieldToEvents();
    }
  })();

  try {
    await Promise.all([here, ...inWorkers]);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
