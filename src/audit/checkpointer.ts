import fs from 'node:fs';
import type { Clock } from '../platform/clock.js';
import type { Database } from '../platform/store/db.js';
import type { Logger } from '../platform/logger.js';
import * as repo from './audit.repo.js';
import { signCheckpoint } from './checkpoint.js';
import type { LogKey } from './log-key.js';
import { prunedState } from './tree-state.js';
import { createTreeBuilder, type TreeBuilder } from './tree-builder.js';

// Integrates committed events into the Merkle tree in sequence order and signs a checkpoint at least
// every interval while events arrive, and once more on shutdown. Checkpoints are stored (append-only)
// and pushed to the configured sinks for external witnessing.

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

const READ_CHUNK = 5000;

export function createCheckpointer(deps: CheckpointerDeps) {
  const { db, key } = deps;
  let tree: TreeBuilder | undefined;
  let pendingNodes: Array<{ level: number; idx: number; hash: string }> = [];
  let nodeCounts = new Map<number, number>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let healthy = true;
  let lastError: string | undefined;

  async function ensureTree(): Promise<TreeBuilder> {
    if (tree) return tree;
    // Rebuild the frontier from the stored leaf hashes; node hashes already stored are not re-inserted.
    nodeCounts = await repo.storedNodeCounts(db.kysely);
    // After retention pruning the stored log starts at the saved tree state, not at leaf 0.
    const start = await prunedState(db);
    const t = createTreeBuilder({
      ...(start ? { state: start } : {}),
      nodeLevels: repo.STORED_NODE_LEVELS,
      onNode: (level, idx, hash) => {
        if (idx >= (nodeCounts.get(level) ?? 0)) pendingNodes.push({ level, idx, hash: hash.toString('hex') });
      },
    });
    tree = t;
    return t;
  }

  async function integrate(t: TreeBuilder): Promise<void> {
    for (;;) {
      const rows = await repo.leafHashesFrom(db.kysely, t.size, READ_CHUNK);
      if (rows.length === 0) return;
      for (const row of rows) {
        if (Number(row.seq) !== t.size) {
          throw new Error(`audit log has a gap: expected seq ${t.size}, found ${row.seq}`);
        }
        t.append(Buffer.from(row.leaf_hash, 'hex'));
      }
      if (rows.length < READ_CHUNK) return;
    }
  }

  async function tick(): Promise<void> {
    const t = await ensureTree();
    await integrate(t);
    const latest = await repo.latestCheckpoint(db.kysely);
    const nodes = pendingNodes;
    if (latest && Number(latest.tree_size) >= t.size && nodes.length === 0) return;
    const size = t.size;
    const root = t.root();
    const note = signCheckpoint({ origin: key.origin, size, rootHash: root }, key.signer);
    const time = deps.clock.now().toISOString();
    const isNew = !latest || Number(latest.tree_size) < size;
    await db.write(async (trx) => {
      if (nodes.length) {
        for (let i = 0; i < nodes.length; i += 500) await trx.insertInto('audit_nodes').values(nodes.slice(i, i + 500)).execute();
      }
      if (isNew) await trx.insertInto('audit_checkpoints').values({ tree_size: size, root_hash: root.toString('hex'), time, note }).execute();
    });
    pendingNodes = [];
    for (const n of nodes) nodeCounts.set(n.level, Math.max(nodeCounts.get(n.level) ?? 0, n.idx + 1));
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

  return {
    start() {
      timer = setInterval(() => void runOnce(), deps.intervalMs);
      timer.unref();
    },
    /** Integrates and signs now (tests, shutdown). */
    checkpointNow: runOnce,
    async stop() {
      if (timer) clearInterval(timer);
      await runOnce();
    },
    health: () => ({ ok: healthy, detail: lastError }),
    size: () => tree?.size ?? 0,
  };
}
export type Checkpointer = ReturnType<typeof createCheckpointer>;
