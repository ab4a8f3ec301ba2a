import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashLeaf, rootFromLeafHashes } from './merkle.js';
import { createTreeBuilder } from './tree-builder.js';
import { createFrontier } from './verify-frontier.js';

const leaves = (n: number, salt = 0) => Array.from({ length: n }, (_, i) => hashLeaf(Buffer.from(`leaf ${salt}:${i}`)));

describe('verification frontier', () => {
  it('has the RFC 9162 root after every append, whether leaves come as bytes or hex', () => {
    const ls = leaves(70);
    const a = createFrontier();
    const b = createFrontier();
    expect(a.root().equals(rootFromLeafHashes([]))).toBe(true);
    for (let i = 0; i < ls.length; i++) {
      a.appendBytes(ls[i]!);
      b.appendHex(ls[i]!.toString('hex'));
      const want = rootFromLeafHashes(ls.slice(0, i + 1));
      expect(a.root().equals(want)).toBe(true);
      expect(b.root().equals(want)).toBe(true);
      expect(a.size).toBe(i + 1);
    }
  });

  it('reads a leaf at an offset inside a larger buffer', () => {
    const ls = leaves(5);
    const packed = Buffer.concat(ls);
    const f = createFrontier();
    for (let i = 0; i < 5; i++) f.appendBytes(packed, i * 32);
    expect(f.root().equals(rootFromLeafHashes(ls))).toBe(true);
  });

  it('agrees with the reference tree builder when resumed from any saved state', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }), (k, extra) => {
        const ls = leaves(k + extra, k);
        const ref = createTreeBuilder();
        for (const l of ls.slice(0, k)) ref.append(l);
        const f = createFrontier(ref.state());
        expect(f.size).toBe(k);
        expect(f.root().equals(ref.root())).toBe(true);
        for (const l of ls.slice(k)) {
          ref.append(l);
          f.appendBytes(l);
        }
        expect(f.root().equals(ref.root())).toBe(true);
        expect(f.root().equals(rootFromLeafHashes(ls))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('works at sizes beyond 2^32 (arithmetic, not 32-bit bit operations)', () => {
    const size = 2 ** 33 + 5; // bits 33, 2 and 0
    const frontier = leaves(3, 9);
    const ref = createTreeBuilder({ state: { size, frontier } });
    const f = createFrontier({ size, frontier });
    expect(f.root().equals(ref.root())).toBe(true);
    const next = leaves(4, 10);
    for (const l of next) {
      ref.append(l);
      f.appendBytes(l);
    }
    expect(f.size).toBe(size + 4);
    expect(f.root().equals(ref.root())).toBe(true);
  });

  it('refuses a state whose frontier does not match its size', () => {
    expect(() => createFrontier({ size: 3, frontier: leaves(1) })).toThrow(RangeError);
    expect(() => createFrontier({ size: 1, frontier: leaves(2) })).toThrow(RangeError);
    expect(() => createFrontier({ size: 1, frontier: [Buffer.alloc(31)] })).toThrow(RangeError);
  });
});
