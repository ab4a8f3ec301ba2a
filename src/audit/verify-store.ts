import fs from 'node:fs';
import { openDatabase, sqlitePath, type Database } from '../platform/store/db.js';
import { getMeta } from '../platform/store/meta.repo.js';
import { checkpointNotes, delegationReader, rowsFrom } from './audit.repo.js';
import { prunedState } from './tree-state.js';
import { checkDelegation, withProblems } from './verify-delegation.js';
import { createLogChecker, type VerifyReport } from './verify-log.js';
import { verifySqliteFile } from './verify-sqlite-fast.js';

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
    const stored = await getMeta(db.kysely, 'audit_vkey');
    const vkey = opts.vkey ?? stored;
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
  const notes = (await checkpointNotes(db.kysely)).map((r) => r.note);
  const start = await prunedState(db);
  const checker = createLogChecker({ checkpoints: notes, vkey, against, seqField: 'seq', ...(start ? { start } : {}) });
  let next = 0;
  for (;;) {
    const rows = await rowsFrom(db.kysely, next, 10_000);
    if (rows.length === 0) break;
    for (const r of rows) {
      checker.event({
        seq: Number(r.seq), canonical: r.canonical, storedLeafHash: r.leaf_hash,
        columns: [r.id, r.time, r.type, r.outcome, r.decision, r.actor_principal_id, r.actor_credential_id, r.target_type, r.target_id],
      });
    }
    next = Number(rows[rows.length - 1]!.seq) + 1;
  }
  const from = start?.size ?? 0;
  const extra = await checkDelegation(delegationReader(db.kysely), from, checker.expected, checker.delegationRowsExpected);
  return withProblems(checker.finish(), extra);
}
