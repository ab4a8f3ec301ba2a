import fs from 'node:fs';
import { openDatabase, sqlitePath, type Database } from '../platform/store/db.js';
import { eventsFrom } from './audit.repo.js';
import { prunedState } from './retention.js';
import { verifyLog, type VerifyReport } from './verify.js';
import { verifySqliteFile } from './verify-sqlite.js';

// Verifies a store directly (no server, no master key): recompute the tree from the stored events,
// compare stored leaf hashes, check every checkpoint signature and root, and any externally saved checkpoints.
// SQLite is read directly, read-only, and over several threads (verify-sqlite.ts); PostgreSQL through the query builder.

export type VerifyStoreOptions = {
  dataDir: string;
  databaseUrl?: string;
  vkey?: string;
  against?: string[];
  /** SQLite only: worker threads besides the main one (default: one per spare CPU, none for small logs). */
  workers?: number;
  /** SQLite only: events per chunk handed to a thread. */
  chunkSize?: number;
};

export async function verifyStore(opts: VerifyStoreOptions): Promise<VerifyReport & { vkey: string }> {
  if (!opts.databaseUrl) {
    const file = sqlitePath(opts.dataDir);
    if (!fs.existsSync(file)) throw new Error(`no Custos store at ${opts.dataDir}`);
    const { stats: _stats, ...report } = await verifySqliteFile(file, {
      ...(opts.vkey !== undefined ? { vkey: opts.vkey } : {}),
      against: opts.against ?? [],
      ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
      ...(opts.chunkSize !== undefined ? { chunkSize: opts.chunkSize } : {}),
    });
    return report;
  }
  const db = openDatabase({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl });
  try {
    const stored = await db.kysely.selectFrom('meta').select('value').where('key', '=', 'audit_vkey').executeTakeFirst();
    const vkey = opts.vkey ?? stored?.value;
    if (!vkey) throw new Error('no audit public key: pass --public-key (the store has none recorded)');
    return { ...(await verifyDatabase(db, vkey, opts.against ?? [])), vkey };
  } finally {
    await db.close();
  }
}

/**
 * Verification over an open store through the query builder: every stored event in order, every checkpoint,
 * the pruned prefix's tree state. Used for PostgreSQL here and by the server's `POST /v1/audit/verify`.
 */
export async function verifyDatabase(db: Database, vkey: string, against: string[]): Promise<VerifyReport> {
  const notes = (await db.kysely.selectFrom('audit_checkpoints').select('note').orderBy('tree_size').execute()).map((r) => r.note);
  async function* events() {
    let next = 0;
    for (;;) {
      const rows = await eventsFrom(db.kysely, next, 10_000);
      if (rows.length === 0) return;
      yield rows.map((r) => ({ seq: Number(r.seq), canonical: r.canonical, storedLeafHash: r.leaf_hash }));
      next = Number(rows[rows.length - 1]!.seq) + 1;
    }
  }
  const start = await prunedState(db);
  return verifyLog({ events: events(), checkpoints: notes, vkey, against, seqField: 'seq', ...(start ? { start } : {}) });
}
