// SQL outside audit.repo.ts on purpose: the SQLite fast path reads with raw better-sqlite3 prepared statements, for speed.
// What the store verifier's main thread and its workers share (kept apart so a worker loads little).
import BetterSqlite3 from 'better-sqlite3';
import type { RowsResult } from './verify-leaves.js';
import { INDEXED_COLUMNS_SQL } from './stored-row.js';

/**
 * Rows of one chunk: seq, canonical, leaf hash, then the columns queries filter on (INDEXED_COLUMNS order).
 * `seq >= ?` also leaves out what the query-builder path never read (NULL or negative seq).
 */
export const CHUNK_ROWS_SQL = `select seq, canonical, leaf_hash, ${INDEXED_COLUMNS_SQL} from audit_events where seq >= ? and seq < ? order by seq`;

/**
 * Opens the store for reading only, with the file memory-mapped: pages are read without a system call
 * and a copy each (about a tenth of the read cost at 1M events). SQLite's documented caveat applies: a
 * process truncating the file while it is mapped (VACUUM) can fault the reader.
 */
export function openForVerify(file: string): BetterSqlite3.Database {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  db.pragma('mmap_size = 4294967296');
  return db;
}

/** Control words in the shared Int32Array. */
export const CTRL = {
  /** Next chunk index to claim. */
  NEXT: 0,
  /** Chunks integrated into the tree so far. */
  APPENDED: 1,
  /** Non-zero: stop claiming. */
  STOP: 2,
  LENGTH: 3,
} as const;

export type WorkerSetup = {
  file: string;
  /** Chunk c covers seqs [start + c·chunk, min(end, start + (c+1)·chunk)). */
  start: number;
  end: number;
  chunk: number;
  /** Chunks that may be claimed ahead of the next one to integrate. */
  window: number;
  maxEdited: number;
  ctrl: SharedArrayBuffer;
};

export type WorkerMessage = { chunk: number; leaves: ArrayBuffer; result: RowsResult } | { error: string };
