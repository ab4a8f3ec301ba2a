// Focused benchmark for whole-store verification (`custos audit verify --store`, verifyStore).
//
//   npx tsx bench/audit/verify.ts [--events 1000000] [--runs 3] [--store DIR] [--keep] [--workers N]
//
// Fills a SQLite store through the real writer (64 concurrent writers, group commit, checkpoints every
// second as a server makes them), or reuses DIR when it already holds a store, then times verifyStore
// --runs times and prints each run and the median. --keep leaves the store for the next run
// (filling 1M events takes about a minute); without --store a temporary one is used and removed.
// --workers N fixes the number of worker threads (default: verifyStore's own choice). Each run also
// prints the process CPU time (all threads) and the load average, as this machine is shared.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createControlPlane } from '../../src/app.js';
import { verifySqliteFile } from '../../src/audit/verify-sqlite-fast.js';
import { systemActor } from '../../src/platform/actor.js';
import { loadConfig } from '../../src/platform/config.js';
import { sqlitePath } from '../../src/platform/store/db.js';
import { createLogger } from '../../src/platform/logger.js';
import { median, round } from '../registry/stats.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const EVENTS = Number(opt('events') ?? 1_000_000);
const RUNS = Number(opt('runs') ?? 3);
const WORKERS = opt('workers') === undefined ? undefined : Number(opt('workers'));
const WRITERS = 64;
const dataDir = opt('store') ?? fs.mkdtempSync(path.join(os.tmpdir(), 'custos-bench-verify-'));
const keep = flag('keep') || opt('store') !== undefined;

async function fill(): Promise<void> {
  const config = loadConfig({ dataDir, logLevel: 'silent' }, {});
  const cp = await createControlPlane(config, { logger: createLogger('silent') });
  const actor = systemActor('background');
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    while (next < EVENTS) {
      const i = next++;
      await cp.db.write((trx, batch) => cp.audit.record(trx, batch, {
        type: 'bench.event', action: 'model.invoke', actor, outcome: 'success', decision: 'allow',
        target: { type: 'resource', id: '01a21c2c-0d76-76a2-91c3-0806a9eca393', name: 'gpt-prod' },
        reasons: ['policy:allow-support-bots'], purpose: 'customer-support', details: { i, tokens: 512 },
      }));
    }
  }));
  await cp.checkpointer.checkpointNow();
  console.log(`filled ${cp.checkpointer.size()} events in ${round((performance.now() - t0) / 1000)} s`);
  await cp.close();
}

try {
  if (!fs.existsSync(sqlitePath(dataDir))) await fill();
  else console.log(`reusing the store in ${dataDir}`);
  const times: number[] = [];
  let size = 0;
  for (let run = 0; run < RUNS; run++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const report = await verifySqliteFile(sqlitePath(dataDir), WORKERS === undefined ? {} : { workers: WORKERS });
    const s = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    if (!report.ok) throw new Error(`verification failed: ${JSON.stringify(report.problems.slice(0, 3))}`);
    size = report.size;
    times.push(s);
    const { workers, chunks, chunksByWorkers } = report.stats;
    console.log(`run ${run + 1}: verify ${round(s)} s (${round(size / s, 0)} events/s), cpu ${round((cpu.user + cpu.system) / 1e6)} s, ${workers} worker(s) did ${chunksByWorkers}/${chunks} chunks, ${report.checkpoints.matched} checkpoint(s) matched, load ${os.loadavg()[0]!.toFixed(2)}`);
  }
  const m = median(times);
  console.log(`verifyStore over ${size} events (SQLite), ${os.cpus().length} CPUs: median ${round(m)} s of ${RUNS} (${round(size / m, 0)} events/s; ${round((m / size) * 1e6, 2)} µs/event)`);
} finally {
  if (!keep) fs.rmSync(dataDir, { recursive: true, force: true });
  else console.log(`store kept in ${dataDir}`);
}
