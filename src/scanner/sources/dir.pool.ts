// Spreads a directory scan over worker threads (files handed out in small batches as workers free up).
import { Worker } from 'node:worker_threads';
import type { Collector } from '../collector.js';
import type { RuleTuning } from '../engine.js';
import type { ScanResult } from '../types.js';

const BATCH = 16;

/** The worker module beside this one, in whatever form this file itself was loaded (.ts under tsx, .js from dist). */
export function workerUrl(): URL {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./dir.worker${ext}`, import.meta.url);
}

export async function scanFilesInWorkers(c: Collector, absRoot: string, files: string[], opts: { workers: number; tuning: RuleTuning; onProgress?: (bytes: number) => void }): Promise<void> {
  let next = 0;
  const url = workerUrl();
  const workerData = { absRoot, tuning: opts.tuning, limits: c.limits };
  const spawn = (): Worker => {
    if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData });
    // Running from TypeScript sources (tsx, a dev dependency): register its loader inside the worker first.
    const api = import.meta.resolve('tsx/esm/api');
    return new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true, workerData });
  };
  const workers = Array.from({ length: opts.workers }, spawn);
  try {
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
      w.on('error', reject);
      w.on('exit', (code) => { if (code !== 0) reject(new Error(`scan worker exited with ${code}`)); });
      w.on('message', (msg: { type: 'ready' } | { type: 'progress'; bytes: number } | { type: 'result'; result: Pick<ScanResult, 'findings' | 'skipped' | 'incompleteReasons' | 'stats'> }) => {
        if (msg.type === 'progress') opts.onProgress?.(msg.bytes);
        else if (msg.type === 'ready') {
          if (next < files.length) {
            w.postMessage({ type: 'batch', files: files.slice(next, next + BATCH) });
            next += BATCH;
          } else w.postMessage({ type: 'finish' });
        } else {
          c.merge(msg.result);
          resolve();
        }
      });
    })));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
