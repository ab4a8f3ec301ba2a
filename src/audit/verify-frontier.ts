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

export function createFrontier(state?: TreeState) {
  // levels[l*32 .. l*32+32) is the root of the perfect subtree of width 2^l when bit l of size is set.
  const levels = Buffer.alloc(MAX_LEVELS * HASH_SIZE);
  // 0x01 || left || right; the incoming hash sits in the right half.
  const node = Buffer.alloc(1 + 2 * HASH_SIZE);
  node[0] = 0x01;
  let size = 0;

  if (state) {
    let i = 0;
    for (let l = MAX_LEVELS - 1; l >= 0; l--) {
      if (Math.floor(state.size / 2 ** l) % 2 === 1) {
        const h = state.frontier[i++];
        if (!h || h.length !== HASH_SIZE) throw new RangeError('state.frontier must hold one 32-byte hash per set bit of size');
        levels.set(h, l * HASH_SIZE);
      }
    }
    if (i !== state.frontier.length) throw new RangeError('state.frontier must hold one 32-byte hash per set bit of size');
    size = state.size;
  }

  /** Integrates the leaf hash already written to node[33..65). */
  function integrate(): void {
    let s = size;
    let off = 0;
    // Carry like binary addition: merge equal-width subtrees while the low bit is set.
    while (s % 2 === 1) {
      levels.copy(node, 1, off, off + HASH_SIZE);
      node.write(hash('sha256', node, 'binary'), 1 + HASH_SIZE, 'binary');
      off += HASH_SIZE;
      s = (s - 1) / 2;
    }
    node.copy(levels, off, 1 + HASH_SIZE);
    size++;
  }

  return {
    get size() {
      return size;
    },
    /** Appends a leaf hash given as 64 lowercase hex digits (as computed, already validated). */
    appendHex(leafHex: string): void {
      node.write(leafHex, 1 + HASH_SIZE, 'hex');
      integrate();
    },
    /** Appends the 32-byte leaf hash at bytes[offset .. offset+32). */
    appendBytes(bytes: Uint8Array, offset = 0): void {
      node.set(bytes.subarray(offset, offset + HASH_SIZE), 1 + HASH_SIZE);
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
          levels.copy(acc, 1 + HASH_SIZE, l * HASH_SIZE, (l + 1) * HASH_SIZE);
          have = true;
        } else {
          levels.copy(acc, 1, l * HASH_SIZE, (l + 1) * HASH_SIZE);
          acc.write(hash('sha256', acc, 'binary'), 1 + HASH_SIZE, 'binary');
        }
      }
      return Buffer.from(acc.subarray(1 + HASH_SIZE));
    },
  };
}

export type Frontier = ReturnType<typeof createFrontier>;
