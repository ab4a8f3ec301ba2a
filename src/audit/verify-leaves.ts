// Leaf hashes of stored events for whole-log verification: recompute SHA-256(0x00 || canonical bytes)
// and compare it with the hash the store kept, without a Buffer or a regex per event.
//
// node:crypto allocates a new ArrayBuffer for every 'buffer' digest; a 'hex' digest is a V8 string and
// compares with the stored hex text directly. The slow path (a difference, upper-case or malformed
// stored hex, byte hashes) keeps the exact semantics of the original verifier.
import { hash } from 'node:crypto';
import { canonicalBytes } from './canonical.js';
import { HASH_SIZE } from './merkle.js';
import { columnMismatch, expectedDelegationCount, indexedFields } from './stored-row.js';

let scratch = Buffer.alloc(4096);
const decoded = Buffer.alloc(HASH_SIZE);

function room(need: number): void {
  if (need > scratch.length) scratch = Buffer.alloc(Math.max(need, scratch.length * 2));
}

/** Lower-case hex of the leaf hash: canonical bytes as given, text as UTF-8, an object canonicalized first. */
export function leafHex(canonical: Uint8Array | string | object): string {
  scratch[0] = 0x00;
  if (typeof canonical === 'string') {
    // A UTF-16 code unit never takes more than 3 UTF-8 bytes.
    room(1 + 3 * canonical.length);
    const n = scratch.write(canonical, 1, 'utf8');
    return hash('sha256', scratch.subarray(0, 1 + n), 'hex');
  }
  const bytes = canonical instanceof Uint8Array ? canonical : canonicalBytes(canonical);
  room(1 + bytes.length);
  scratch.set(bytes, 1);
  return hash('sha256', scratch.subarray(0, 1 + bytes.length), 'hex');
}

/** A stored leaf hash as 32 bytes, or undefined when it is not one (wrong length, not hex). */
export function storedHashBytes(h: Uint8Array | string): Buffer | undefined {
  if (typeof h === 'string') {
    if (h.length !== 2 * HASH_SIZE || !/^[0-9a-fA-F]+$/.test(h)) return undefined;
    return Buffer.from(h, 'hex');
  }
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) return undefined;
  return Buffer.isBuffer(h) ? h : Buffer.from(h.buffer, h.byteOffset, h.length);
}

/**
 * Compares the recomputed leaf hash with the stored one. Undefined when they agree; otherwise the hash
 * to integrate in the tree: the stored one when it is a well-formed hash (it is what the signed
 * checkpoints committed to, so later independent edits still show), else the recomputed one.
 */
export function leafMismatch(computedHex: string, stored: Uint8Array | string): { use: Buffer } | undefined {
  if (stored === computedHex) return undefined;
  decoded.write(computedHex, 0, 'hex');
  if (stored instanceof Uint8Array && stored.length === HASH_SIZE && decoded.equals(stored)) return undefined;
  const bytes = typeof stored === 'string' ? storedHashBytes(stored) : undefined;
  if (bytes && bytes.equals(decoded)) return undefined;
  if (stored instanceof Uint8Array) return { use: stored.length === HASH_SIZE ? Buffer.from(stored) : Buffer.from(decoded) };
  return { use: bytes ?? Buffer.from(decoded) };
}

/** One stored row as read from the store: [seq, canonical, leaf_hash, ...indexed columns (optional)]. */
export type StoredRow = readonly unknown[];

export type RowsResult = {
  /** Leaves written to `out`: rows lo, lo+1, … up to the first missing or out-of-place one. */
  count: number;
  /** Sequence numbers (ascending, at most maxEdited) whose recomputed leaf hash differs from the stored one. */
  edited: number[];
  /** Where count < rows expected: the seq found at position lo + count, or undefined when the rows ran out. */
  got?: number;
  /** Rows (ascending, at most maxEdited) whose stored query columns differ from the canonical event, with the first such column. */
  columns: Array<[number, string]>;
  /** audit_delegation rows the counted events require. */
  delegation: number;
};

/**
 * Hashes the rows of one chunk, which should hold seqs lo, lo+1, … in order. Writes the leaf hash to
 * integrate for each into out[32·i, 32·i+32) and stops at the first row whose seq is not lo + i.
 */
export function hashRows(rows: readonly StoredRow[], lo: number, out: Buffer, maxEdited: number): RowsResult {
  const edited: number[] = [];
  const columns: Array<[number, string]> = [];
  let delegation = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const seq = Number(row[0]);
    if (seq !== lo + i) return { count: i, edited, got: seq, columns, delegation };
    if (row.length > 3) {
      // The query columns, checked against the canonical text (bytes are an edit the leaf hash reports).
      const fields = typeof row[1] === 'string' ? indexedFields(row[1]) : undefined;
      const bad = columnMismatch(fields, row, 3);
      if (bad && columns.length < maxEdited) columns.push([seq, bad]);
      delegation += expectedDelegationCount(fields);
    }
    const hex = leafHex(row[1] as Uint8Array | string | object);
    const stored = row[2] as Uint8Array | string | null | undefined;
    const bad = stored === undefined || stored === null ? undefined : leafMismatch(hex, stored);
    if (bad) {
      if (edited.length < maxEdited) edited.push(seq);
      out.set(bad.use, i * HASH_SIZE);
    } else {
      out.write(hex, i * HASH_SIZE, 'hex');
    }
  }
  return { count: rows.length, edited, columns, delegation };
}
