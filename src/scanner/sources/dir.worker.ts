// Worker thread for directory scans: scans batches of files it is sent, then returns what it saw.
import { parentPort, workerData } from 'node:worker_threads';
import { createCollector, type Limits } from '../collector.js';
import { createEngine, type RuleTuning } from '../engine.js';
import { RULES } from '../rules/rules.js';
import { scanFiles } from './dir.js';

const data = workerData as { absRoot: string; tuning: RuleTuning; limits: Limits };
const engine = createEngine({ rules: RULES, tuning: data.tuning });
let lastBytes = 0;
const collector = createCollector({
  engine, limits: data.limits,
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
      const r = collector.result('dir', data.absRoot, 0);
      parentPort!.postMessage({ type: 'result', result: { findings: r.findings, skipped: r.skipped, incompleteReasons: r.incompleteReasons, stats: r.stats } });
    }
  });
});
parentPort!.postMessage({ type: 'started' });
