// The incremental RFC 9162 tree used by whole-log verification: the same frontier as createTreeBuilder
// (one hash per set bit of the size), kept in one flat buffer and hashed without a Buffer per node.
//
// Why a second implementation: node:crypto returns each 'buffer' digest in a freshly allocated
// ArrayBuffer, which costs more than hashing 65 bytes and feeds the GC; a 'binary' (latin1) digest is a plain
// one-byte string, written straight back into the scratch buffer. At 1M events this halves the tree's
// cost. tree-builder.ts stays the reference (tests compare the two).
import { hash } from 'node:crypto';
import { emptyRoot, HASH_SIZE } from './merkle.js';
import type { TreeState } from './tree-builder.js';

const MAX_LEVELS = 64;
const RIGHT = 1 + HASH_SIZE;
const NODE = 1 + 2 * HASH_SIZE;
const LEVELS = 96;

export function createFrontier(state?: TreeState) {
  // One buffer: the node being hashed, 0x01 || left || right, at [0, 65) (the incoming hash in the right
  // half), then levels: level l at LEVELS + 32·l is the root of the perfect subtree of width 2^l when
  // bit l of size is set. One buffer lets every copy be a copyWithin, with no view allocated per leaf.
  const mem = Buffer.alloc(LEVELS + MAX_LEVELS * HASH_SIZE);
  const node = mem.subarray(0, NODE);
  mem[0] = 0x01;
  let size = 0;

  if (state) {
    let i = 0;
    for (let l = MAX_LEVELS - 1; l >= 0; l--) {
      if (Math.floor(state.size / 2 ** l) % 2 === 1) {
        const h = state.frontier[i++];
        if (!h || h.length !== HASH_SIZE) throw new RangeError('state.frontier must hold one 32-byte hash per set bit of size');
        mem.set(h, LEVELS + l * HASH_SIZE);
      }
    }
    if (i !== state.frontier.length) throw new RangeError('state.frontier must hold one 32-byte hash per set bit of size');
    size = state.size;
  }

  /** Integrates the leaf hash already in the right half of the node. */
  function integrate(): void {
    let s = size;
    let at = LEVELS;
    // Carry like binary addition: merge equal-width subtrees while the low bit is set.
    while (s % 2 === 1) {
      mem.copyWithin(1, at, at + HASH_SIZE);
      mem.write(hash('sha256', node, 'binary'), RIGHT, 'binary');
      at += HASH_SIZE;
      s = (s - 1) / 2;
    }
    mem.copyWithin(at, RIGHT, NODE);
    size++;
  }

  return {
    get size() {
      return size;
    },
    /** Appends a leaf hash given as 64 lowercase hex digits (as computed, already validated). */
    appendHex(leafHex: string): void {
      mem.write(leafHex, RIGHT, 'hex');
      integrate();
    },
    /** Appends the 32-byte leaf hash at bytes[offset .. offset+32). */
    appendBytes(bytes: Uint8Array, offset = 0): void {
      if (offset + HASH_SIZE > bytes.length) throw new RangeError('leaf hash must be 32 bytes');
      for (let i = 0; i < HASH_SIZE; i++) mem[RIGHT + i] = bytes[offset + i]!;
      integrate();
    },
    /** Root of the tree so far: SHA-256("") when empty. */
    root(): Buffer {
      if (size === 0) return emptyRoot();
      const acc = Buffer.alloc(1 + 2 * HASH_SIZE);
      acc[0] = 0x01;
      let have = false;
      let s = size;
      for (let l = 0; s > 0; l++, s = Math.floor(s / 2)) {
        if (s % 2 === 0) continue;
        if (!have) {
          mem.copy(acc, RIGHT, LEVELS + l * HASH_SIZE, LEVELS + (l + 1) * HASH_SIZE);
          have = true;
        } else {
          mem.copy(acc, 1, LEVELS + l * HASH_SIZE, LEVELS + (l + 1) * HASH_SIZE);
          acc.write(hash('sha256', acc, 'binary'), RIGHT, 'binary');
        }
      }
      return Buffer.from(acc.subarray(RIGHT));
    },
  };
}

export type Frontier = ReturnType<typeof createFrontier>;
