// Worker thread for directory scans: scans batches of files it is sent, then returns what it saw (its
// collector has no filters: the main thread runs them on everything, so dedupe and baseline see all threads).
import { parentPort, workerData } from 'node:worker_threads';
import { createCollector, type Limits } from '../collector.js';
import { createEngine, type RuleTuning } from '../engine.js';
import { RULES } from '../rules/rules.js';
import { createSecretHasher } from '../finding.js';
import { scanFiles } from './dir.js';

const data = workerData as { absRoot: string; tuning: RuleTuning; limits: Limits; key: string };
const engine = createEngine({ rules: RULES, tuning: data.tuning });
let lastBytes = 0;
const collector = createCollector({
  engine, limits: data.limits, filters: null, hasher: createSecretHasher(Buffer.from(data.key, 'hex')),
  onProgress: (bytes) => {
    if (bytes - lastBytes > 4_000_000) {
      parentPort!.postMessage({ type: 'progress', bytes: bytes - lastBytes });
      lastBytes = bytes;
    }
  },
});

// Messages are handled one after the other: a batch queued behind another waits for it, `finish` for all.
let chain: Promise<void> = Promise.resolve();
parentPort!.on('message', (msg: { type: 'batch'; files: string[] } | { type: 'finish' }) => {
  chain = chain.then(async () => {
    if (msg.type === 'batch') {
      await scanFiles(collector, data.absRoot, msg.files);
      parentPort!.postMessage({ type: 'done' });
    } else {
      // Unfiltered matches, secrets included: they cross to the main thread in memory, whose filters decide.
      parentPort!.postMessage({ type: 'result', result: collector.partial() });
    }
  });
});
parentPort!.postMessage({ type: 'started' });
