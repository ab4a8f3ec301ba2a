// RFC 9162 (Certificate Transparency v2) Merkle tree hashing, proofs and proof verification.
//
// Leaf:  SHA-256(0x00 || data)          Node: SHA-256(0x01 || left || right)
// Empty tree: SHA-256("")
//
// The proof generators here are the plain recursive definitions of RFC 9162 §2.1.3.1 and §2.1.4.1
// over an in-memory array of leaf hashes: the reference the faster builder in tree-builder.ts is
// tested against. The verifiers follow §2.1.3.2 and §2.1.4.2 step by step, with every input
// checked first (sizes, indices, hash lengths), so a falsified proof can never verify.
import { hash } from 'node:crypto';

export const HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

// One scratch buffer for node hashing: avoids a concat allocation per node on the hot path.
const nodeScratch = Buffer.alloc(1 + 2 * HASH_SIZE);
nodeScratch[0] = NODE_PREFIX;
let leafScratch = Buffer.alloc(1024);

const EMPTY_ROOT = hash('sha256', Buffer.alloc(0), 'buffer');

/** Root hash of the empty tree: SHA-256 of the empty string. A fresh copy each call. */
export function emptyRoot(): Buffer {
  return Buffer.from(EMPTY_ROOT);
}

/** SHA-256(0x00 || data). */
export function hashLeaf(data: Uint8Array): Buffer {
  const need = data.length + 1;
  if (need > leafScratch.length) leafScratch = Buffer.alloc(Math.max(need, leafScratch.length * 2));
  leafScratch[0] = LEAF_PREFIX;
  leafScratch.set(data, 1);
  return hash('sha256', leafScratch.subarray(0, need), 'buffer');
}

/** Leaf hash of a UTF-8 string (e.g. stored canonical JSON text) without an intermediate Buffer. */
export function hashLeafText(text: string): Buffer {
  const need = Buffer.byteLength(text, 'utf8') + 1;
  if (need > leafScratch.length) leafScratch = Buffer.alloc(Math.max(need, leafScratch.length * 2));
  leafScratch[0] = LEAF_PREFIX;
  leafScratch.write(text, 1, 'utf8');
  return hash('sha256', leafScratch.subarray(0, need), 'buffer');
}

/** SHA-256(0x01 || left || right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) throw new RangeError('node children must be 32-byte hashes');
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_SIZE);
  return hash('sha256', nodeScratch, 'buffer');
}

/** Largest power of two strictly smaller than n (n ≥ 2). Works beyond 2^31 (no 32-bit bit ops). */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function isTreeSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function assertSize(n: number, what: string): void {
  if (!isTreeSize(n)) throw new RangeError(`${what} must be a non-negative safe integer`);
}

/** MTH(D[n]) of RFC 9162 §2.1.1 over leaf hashes (recursive reference definition). */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Buffer {
  return mth(leafHashes, 0, leafHashes.length);
}

function mth(leaves: readonly Uint8Array[], start: number, end: number): Buffer {
  const n = end - start;
  if (n === 0) return emptyRoot();
  if (n === 1) return Buffer.from(leaves[start]!);
  const k = largestPowerOfTwoBelow(n);
  return hashChildren(mth(leaves, start, start + k), mth(leaves, start + k, end));
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1: the inclusion proof for leaf m in the tree of the given leaves. */
export function inclusionProof(leafIndex: number, leafHashes: readonly Uint8Array[]): Buffer[] {
  const n = leafHashes.length;
  if (!isTreeSize(leafIndex) || leafIndex >= n) throw new RangeError('leaf index out of range');
  const out: Buffer[] = [];
  path(leafIndex, leafHashes, 0, n, out);
  return out;
}

function path(m: number, leaves: readonly Uint8Array[], start: number, end: number, out: Buffer[]): void {
  const n = end - start;
  if (n <= 1) return;
  const k = largestPowerOfTwoBelow(n);
  if (m < k) {
    path(m, leaves, start, start + k, out);
    out.push(mth(leaves, start + k, end));
  } else {
    path(m - k, leaves, start + k, end, out);
    out.push(mth(leaves, start, start + k));
  }
}

/** PROOF(m, D[n]) of RFC 9162 §2.1.4.1 for 0 < m < n; empty for m = 0 or m = n. */
export function consistencyProof(size1: number, leafHashes: readonly Uint8Array[]): Buffer[] {
  const n = leafHashes.length;
  if (!isTreeSize(size1) || size1 > n) throw new RangeError('size1 out of range');
  if (size1 === 0 || size1 === n) return [];
  const out: Buffer[] = [];
  subproof(size1, leafHashes, 0, n, true, out);
  return out;
}

function subproof(m: number, l: readonly Uint8Array[], start: number, end: number, b: boolean, out: Buffer[]): void {
  const n = end - start;
  if (m === n) {
    if (!b) out.push(mth(l, start, end));
    return;
  }
  const k = largestPowerOfTwoBelow(n);
  if (m <= k) {
    subproof(m, l, start, start + k, b, out);
    out.push(mth(l, start + k, end));
  } else {
    subproof(m - k, l, start + k, end, false, out);
    out.push(mth(l, start, start + k));
  }
}

/**
 * Leaf ranges [start, end) whose subtree hashes make up the inclusion proof, in proof order.
 * Each range is a node of the tree: start is a multiple of the next power of two ≥ its length.
 */
export function inclusionProofRanges(leafIndex: number, treeSize: number): Array<[number, number]> {
  assertSize(treeSize, 'treeSize');
  if (!isTreeSize(leafIndex) || leafIndex >= treeSize) throw new RangeError('leaf index out of range');
  const topDown: Array<[number, number]> = [];
  let lo = 0;
  let hi = treeSize;
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (leafIndex - lo < k) {
      topDown.push([lo + k, hi]);
      hi = lo + k;
    } else {
      topDown.push([lo, lo + k]);
      lo += k;
    }
  }
  return topDown.reverse();
}

/** Leaf ranges whose subtree hashes make up the consistency proof from size1 to size2, in proof order. */
export function consistencyProofRanges(size1: number, size2: number): Array<[number, number]> {
  assertSize(size1, 'size1');
  assertSize(size2, 'size2');
  if (size1 > size2) throw new RangeError('size1 must not exceed size2');
  if (size1 === 0 || size1 === size2) return [];
  const topDown: Array<[number, number]> = [];
  let lo = 0;
  let hi = size2;
  let m = size1;
  let b = true;
  for (;;) {
    if (m === hi - lo) {
      if (!b) topDown.push([lo, hi]);
      break;
    }
    const k = largestPowerOfTwoBelow(hi - lo);
    if (m <= k) {
      topDown.push([lo + k, hi]);
      hi = lo + k;
    } else {
      topDown.push([lo, lo + k]);
      m -= k;
      lo += k;
      b = false;
    }
  }
  return topDown.reverse();
}

export type ProofResult = { ok: true } | { ok: false; reason: ProofFailure };

export type ProofFailure =
  | 'bad-size'
  | 'index-out-of-range'
  | 'bad-hash-length'
  | 'proof-too-long'
  | 'proof-too-short'
  | 'proof-not-empty'
  | 'proof-empty'
  | 'size1-greater-than-size2'
  | 'root-mismatch';

const fail = (reason: ProofFailure): ProofResult => ({ ok: false, reason });
const OK: ProofResult = { ok: true };

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}

function equalHash(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** RFC 9162 §2.1.3.2: verify that leafHash is the leaf at leafIndex in the tree of treeSize with rootHash. */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  rootHash: Uint8Array,
): ProofResult {
  if (!isTreeSize(treeSize) || !isTreeSize(leafIndex)) return fail('bad-size');
  if (leafIndex >= treeSize) return fail('index-out-of-range');
  if (!isHash(leafHash) || !isHash(rootHash) || !Array.isArray(proof) || !proof.every(isHash)) {
    return fail('bad-hash-length');
  }
  // fn/sn can exceed 2^32: use arithmetic, not 32-bit bit operators.
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    if (sn === 0) return fail('proof-too-long');
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) return fail('proof-too-short');
  return equalHash(r, rootHash) ? OK : fail('root-mismatch');
}

/** RFC 9162 §2.1.4.2: verify that the tree (size2, root2) extends the tree (size1, root1). */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): ProofResult {
  if (!isTreeSize(size1) || !isTreeSize(size2)) return fail('bad-size');
  if (size1 > size2) return fail('size1-greater-than-size2');
  if (!isHash(root1) || !isHash(root2) || !Array.isArray(proof) || !proof.every(isHash)) return fail('bad-hash-length');
  if (size1 === size2) {
    // Same tree: the proof is empty and the roots must be identical.
    if (proof.length !== 0) return fail('proof-not-empty');
    return equalHash(root1, root2) ? OK : fail('root-mismatch');
  }
  if (size1 === 0) {
    // The empty tree is a prefix of every tree; its root is fixed.
    if (proof.length !== 0) return fail('proof-not-empty');
    return equalHash(root1, EMPTY_ROOT) ? OK : fail('root-mismatch');
  }
  // Step 1: an empty path cannot prove anything for 0 < size1 < size2.
  if (proof.length === 0) return fail('proof-empty');
  // Step 2: if size1 is a power of two, its root is the first node of the path.
  const path: readonly Uint8Array[] = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  // Step 3, 4.
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // Step 5.
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  // Step 6.
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return fail('proof-too-long');
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // Step 7.
  if (sn !== 0) return fail('proof-too-short');
  return equalHash(fr, root1) && equalHash(sr, root2) ? OK : fail('root-mismatch');
}

export function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}

/** Number of hashes in the inclusion proof for leafIndex in a tree of treeSize. */
export function inclusionProofLength(leafIndex: number, treeSize: number): number {
  return inclusionProofRanges(leafIndex, treeSize).length;
}
