// Incremental RFC 9162 Merkle tree and proof generation from stored hashes.
//
// The builder keeps only the "frontier" (compact range): one hash per set bit of the tree size,
// the roots of the perfect subtrees that make up the tree so far. Appending is amortised O(1)
// hashes, the root costs O(log n), memory is O(log n); its state can be saved and restored so a
// writer does not rehash the log on restart.
//
// Proofs for a tree of size n need the hashes of O(log n) subtrees, and those subtrees cover up to
// n - 1 leaves. Computing them from leaf hashes alone costs O(n) reads and hashes (about a second
// at 1M leaves). A reader can therefore also offer hashes of perfect subtrees at chosen levels
// ("stored levels", e.g. every 2^8 and 2^16 leaves); the builder reports those nodes as they
// complete (`onNode`) so a store can keep them. With levels every 8 bits a proof reads at most a
// few hundred hashes per subtree. Storing them is optional: without them proofs are still correct.
import { emptyRoot, hashChildren, HASH_SIZE, inclusionProofRanges, consistencyProofRanges, isTreeSize } from './merkle.js';

export type TreeState = {
  /** Number of leaves appended so far. */
  size: number;
  /** Roots of the perfect subtrees making up the tree, largest (leftmost) first: one per set bit of size. */
  frontier: Buffer[];
};

export type TreeBuilderOptions = {
  /** Resume from a saved state instead of an empty tree. */
  state?: TreeState;
  /** Levels (log2 of subtree width, ≥ 1) whose completed perfect-subtree hashes are reported to onNode. */
  nodeLevels?: readonly number[];
  /** Called when the perfect subtree at (level, index), covering leaves [index·2^level, (index+1)·2^level), completes. */
  onNode?: (level: number, index: number, hash: Buffer) => void;
};

function popcount(n: number): number {
  let c = 0;
  while (n > 0) {
    c += n % 2;
    n = Math.floor(n / 2);
  }
  return c;
}

export function createTreeBuilder(options: TreeBuilderOptions = {}) {
  // levels[l] holds the root of the perfect subtree of width 2^l when bit l of size is set.
  const levels: Array<Buffer | undefined> = [];
  let size = 0;
  const report = new Set(options.nodeLevels ?? []);
  const onNode = options.onNode;
  for (const l of report) {
    if (!Number.isInteger(l) || l < 1 || l > 52) throw new RangeError('nodeLevels must be integers in 1..52');
  }

  if (options.state) {
    const { size: s, frontier } = options.state;
    if (!isTreeSize(s)) throw new RangeError('state.size must be a non-negative safe integer');
    if (frontier.length !== popcount(s) || !frontier.every((h) => h instanceof Uint8Array && h.length === HASH_SIZE)) {
      throw new RangeError('state.frontier must hold one 32-byte hash per set bit of size');
    }
    let i = 0;
    for (let l = Math.floor(Math.log2(Math.max(s, 1))) + 1; l >= 0; l--) {
      if (Math.floor(s / 2 ** l) % 2 === 1) levels[l] = Buffer.from(frontier[i++]!);
    }
    size = s;
  }

  /** Append one leaf hash (already SHA-256(0x00 || data)). Returns its leaf index. */
  function append(leafHash: Uint8Array): number {
    if (leafHash.length !== HASH_SIZE) throw new RangeError('leaf hash must be 32 bytes');
    const index = size;
    let h: Buffer = Buffer.from(leafHash);
    let level = 0;
    let s = size;
    // Carry like binary addition: merge equal-width subtrees while bit `level` is set.
    while (s % 2 === 1) {
      h = hashChildren(levels[level]!, h);
      levels[level] = undefined;
      level++;
      s = (s - 1) / 2;
      if (onNode !== undefined && report.has(level)) onNode(level, Math.floor(index / 2 ** level), h);
    }
    levels[level] = h;
    size++;
    return index;
  }

  /** Current root hash: SHA-256("") for the empty tree. */
  function root(): Buffer {
    let r: Buffer | undefined;
    for (let l = 0; l < levels.length; l++) {
      const h = levels[l];
      if (h === undefined) continue;
      r = r === undefined ? h : hashChildren(h, r);
    }
    return r === undefined ? emptyRoot() : Buffer.from(r);
  }

  function state(): TreeState {
    const frontier: Buffer[] = [];
    for (let l = levels.length - 1; l >= 0; l--) {
      const h = levels[l];
      if (h !== undefined) frontier.push(Buffer.from(h));
    }
    return { size, frontier };
  }

  return {
    append,
    root,
    state,
    get size() {
      return size;
    },
  };
}

export type TreeBuilder = ReturnType<typeof createTreeBuilder>;

type MaybePromise<T> = T | Promise<T>;

/** Where proof generation reads stored hashes from (a database, a file, or an array in memory). */
export type TreeHashReader = {
  /** Leaf hashes for leaf indices [start, end), in order; exactly end - start of them. */
  leafHashes(start: number, end: number): MaybePromise<readonly Uint8Array[]>;
  /** Levels for which nodeHashes can answer (as passed to the builder's nodeLevels). */
  storedLevels?: readonly number[];
  /** Stored perfect-subtree hashes at `level` for subtree indices [start, end), in order. */
  nodeHashes?(level: number, start: number, end: number): MaybePromise<readonly Uint8Array[]>;
};

function reducePerfect(hashes: readonly Uint8Array[]): Buffer {
  // hashes.length is a power of two: combine pairwise level by level.
  let layer: Uint8Array[] = hashes.slice();
  while (layer.length > 1) {
    const next: Uint8Array[] = new Array(layer.length / 2);
    for (let i = 0; i < next.length; i++) next[i] = hashChildren(layer[2 * i]!, layer[2 * i + 1]!);
    layer = next;
  }
  return Buffer.from(layer[0]!);
}

function expectCount(got: readonly Uint8Array[], want: number, what: string): void {
  if (got.length !== want || !got.every((h) => h instanceof Uint8Array && h.length === HASH_SIZE)) {
    throw new Error(`hash reader returned ${got.length} ${what} hashes, expected ${want} of 32 bytes`);
  }
}

async function perfectSubtreeHash(reader: TreeHashReader, start: number, width: number): Promise<Buffer> {
  // Use the highest stored level that fits inside this subtree, if any.
  let best = 0;
  if (reader.nodeHashes && reader.storedLevels) {
    for (const l of reader.storedLevels) if (2 ** l <= width && l > best) best = l;
  }
  if (best > 0 && reader.nodeHashes) {
    const w = 2 ** best;
    const first = start / w;
    const count = width / w;
    const nodes = await reader.nodeHashes(best, first, first + count);
    expectCount(nodes, count, 'node');
    return reducePerfect(nodes);
  }
  const leaves = await reader.leafHashes(start, start + width);
  expectCount(leaves, width, 'leaf');
  return reducePerfect(leaves);
}

/**
 * MTH(D[start:end]) for a node of the tree: start must be a multiple of the smallest power of two
 * ≥ end - start (true for every range a proof needs). Splits into aligned perfect subtrees.
 */
export async function subtreeHash(reader: TreeHashReader, start: number, end: number): Promise<Buffer> {
  if (!isTreeSize(start) || !isTreeSize(end) || end < start) throw new RangeError('bad subtree range');
  if (end === start) return emptyRoot();
  // Perfect chunks in decreasing width, left to right; all aligned because start is aligned.
  const chunks: Array<[number, number]> = [];
  let pos = start;
  let remaining = end - start;
  while (remaining > 0) {
    let w = 1;
    while (w * 2 <= remaining) w *= 2;
    if (pos % w !== 0) throw new RangeError('subtree range is not a node of the tree');
    chunks.push([pos, w]);
    pos += w;
    remaining -= w;
  }
  const hashes = await Promise.all(chunks.map(([s, w]) => perfectSubtreeHash(reader, s, w)));
  // RFC MTH splits off the largest power of two on the left, so fold right to left.
  let r = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) r = hashChildren(hashes[i]!, r);
  return r;
}

/** Inclusion proof (RFC 9162 §2.1.3.1) for leafIndex in the tree of treeSize, from stored hashes. */
export async function proveInclusion(reader: TreeHashReader, leafIndex: number, treeSize: number): Promise<Buffer[]> {
  const ranges = inclusionProofRanges(leafIndex, treeSize);
  return Promise.all(ranges.map(([s, e]) => subtreeHash(reader, s, e)));
}

/** Consistency proof (RFC 9162 §2.1.4.1) from size1 to size2, from stored hashes. */
export async function proveConsistency(reader: TreeHashReader, size1: number, size2: number): Promise<Buffer[]> {
  const ranges = consistencyProofRanges(size1, size2);
  return Promise.all(ranges.map(([s, e]) => subtreeHash(reader, s, e)));
}

/** Root of the tree of treeSize from stored hashes (the root at any past size). */
export async function rootAt(reader: TreeHashReader, treeSize: number): Promise<Buffer> {
  return subtreeHash(reader, 0, treeSize);
}

/** A reader over leaf hashes held in memory (tests, benchmarks, small logs, archives). */
export function arrayHashReader(leafHashes: readonly Uint8Array[], nodes?: Map<number, Uint8Array[]>): TreeHashReader {
  const reader: TreeHashReader = {
    leafHashes(start, end) {
      if (end > leafHashes.length) throw new RangeError('leaf range beyond stored leaves');
      return leafHashes.slice(start, end);
    },
  };
  if (nodes) {
    reader.storedLevels = [...nodes.keys()];
    reader.nodeHashes = (level, start, end) => {
      const arr = nodes.get(level);
      if (!arr || end > arr.length) throw new RangeError('node range beyond stored nodes');
      return arr.slice(start, end);
    };
  }
  return reader;
}
