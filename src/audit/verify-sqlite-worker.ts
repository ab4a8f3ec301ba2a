// SQL outside audit.repo.ts on purpose: the SQLite fast path reads with raw better-sqlite3 prepared statements, for speed.
// Verification worker: claims chunks of the log, reads their rows from the SQLite store (its own
// read-only connection) and returns each chunk's leaf hashes to the main thread, which builds the tree.
import { parentPort, workerData } from 'node:worker_threads';
import { HASH_SIZE } from './merkle.js';
import { hashRows, type StoredRow } from './verify-leaves.js';
import { CHUNK_ROWS_SQL, CTRL, openForVerify, type WorkerMessage, type WorkerSetup } from './verify-sqlite-protocol.js';

function run(setup: WorkerSetup): void {
  const ctrl = new Int32Array(setup.ctrl);
  const chunks = Math.ceil((setup.end - setup.start) / setup.chunk);
  const db = openForVerify(setup.file);
  try {
    const rows = db.prepare(CHUNK_ROWS_SQL).raw();
    for (;;) {
      if (Atomics.load(ctrl, CTRL.STOP) !== 0) return;
      const appended = Atomics.load(ctrl, CTRL.APPENDED);
      if (Atomics.load(ctrl, CTRL.NEXT) >= appended + setup.window) {
        // Too far ahead of integration: wait until the main thread integrates a chunk.
        Atomics.wait(ctrl, CTRL.APPENDED, appended, 100);
        continue;
      }
      const c = Atomics.add(ctrl, CTRL.NEXT, 1);
      if (c >= chunks) return;
      const lo = setup.start + c * setup.chunk;
      const n = Math.min(setup.chunk, setup.end - lo);
      const leaves = new ArrayBuffer(n * HASH_SIZE);
      const result = hashRows(rows.all(lo, lo + n) as StoredRow[], lo, Buffer.from(leaves), setup.maxEdited);
      const msg: WorkerMessage = { chunk: c, leaves, result };
      parentPort!.postMessage(msg, [leaves]);
    }
  } finally {
    db.close();
  }
}

try {
  run(workerData as WorkerSetup);
} catch (e) {
  const msg: WorkerMessage = { error: (e as Error).message };
  parentPort!.postMessage(msg);
}
