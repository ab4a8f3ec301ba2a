import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { consistencyProof, emptyRoot, hashLeaf, inclusionProof, rootFromLeafHashes } from './merkle.js';
import {
  arrayHashReader,
  createTreeBuilder,
  proveConsistency,
  proveInclusion,
  rootAt,
  subtreeHash,
  type TreeHashReader,
} from './tree-builder.js';

const all = Array.from({ length: 700 }, (_, i) => hashLeaf(Buffer.from(`leaf ${i}`)));
const hex = (l: readonly Uint8Array[]) => l.map((b) => Buffer.from(b).toString('hex'));

/** Builds a tree over `leaves`, keeping node hashes at the given levels as a store would. */
function buildWithNodes(leaves: readonly Buffer[], levels: number[]) {
  const nodes = new Map<number, Buffer[]>(levels.map((l) => [l, []]));
  const b = createTreeBuilder({
    nodeLevels: levels,
    onNode: (level, index, hash) => {
      const arr = nodes.get(level)!;
      expect(arr.length).toBe(index); // reported in order, no gaps
      arr.push(hash);
    },
  });
  for (const l of leaves) b.append(l);
  return { builder: b, nodes };
}

describe('createTreeBuilder', () => {
  it('empty tree has the empty root', () => {
    const b = createTreeBuilder();
    expect(b.size).toBe(0);
    expect(b.root().equals(emptyRoot())).toBe(true);
    expect(b.state()).toEqual({ size: 0, frontier: [] });
  });

  it('root after each append equals the recursive MTH', () => {
    const b = createTreeBuilder();
    for (let n = 1; n <= 300; n++) {
      expect(b.append(all[n - 1]!)).toBe(n - 1);
      expect(b.size).toBe(n);
      expect(b.root().toString('hex')).toBe(rootFromLeafHashes(all.slice(0, n)).toString('hex'));
    }
  });

  it('frontier holds one hash per set bit, and a restored builder continues identically', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 1, max: 200 }), (cut, more) => {
        const a = createTreeBuilder();
        for (let i = 0; i < cut; i++) a.append(all[i]!);
        const st = a.state();
        expect(st.frontier.length).toBe(cut.toString(2).split('').filter((c) => c === '1').length);
        const b = createTreeBuilder({ state: st });
        expect(b.root().equals(a.root())).toBe(true);
        for (let i = cut; i < cut + more; i++) b.append(all[i]!);
        expect(b.root().equals(rootFromLeafHashes(all.slice(0, cut + more)))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('rejects a malformed saved state and bad leaf hashes', () => {
    expect(() => createTreeBuilder({ state: { size: 3, frontier: [all[0]!] } })).toThrow(RangeError);
    expect(() => createTreeBuilder({ state: { size: -1, frontier: [] } })).toThrow(RangeError);
    expect(() => createTreeBuilder({ state: { size: 1, frontier: [Buffer.alloc(31)] } })).toThrow(RangeError);
    expect(() => createTreeBuilder().append(Buffer.alloc(33))).toThrow(RangeError);
    expect(() => createTreeBuilder({ nodeLevels: [0] })).toThrow(RangeError);
  });

  it('reports completed perfect subtrees at the chosen levels with the right hashes', () => {
    const { nodes } = buildWithNodes(all.slice(0, 300), [2, 5]);
    expect(nodes.get(2)!.length).toBe(75);
    expect(nodes.get(5)!.length).toBe(9);
    nodes.get(5)!.forEach((h, k) => expect(h.equals(rootFromLeafHashes(all.slice(k * 32, (k + 1) * 32)))).toBe(true));
    nodes.get(2)!.forEach((h, k) => expect(h.equals(rootFromLeafHashes(all.slice(k * 4, (k + 1) * 4)))).toBe(true));
  });
});

describe('proofs from stored hashes', () => {
  const { nodes } = buildWithNodes(all, [1, 3, 6]);
  const plain = arrayHashReader(all);
  const withNodes = arrayHashReader(all, nodes);

  it('subtree hashes and past roots match the recursive MTH', async () => {
    for (const n of [0, 1, 2, 3, 7, 8, 9, 64, 65, 100, 511, 512, 513, 700]) {
      expect((await rootAt(plain, n)).equals(rootFromLeafHashes(all.slice(0, n)))).toBe(true);
      expect((await rootAt(withNodes, n)).equals(rootFromLeafHashes(all.slice(0, n)))).toBe(true);
    }
    expect((await subtreeHash(withNodes, 512, 700)).equals(rootFromLeafHashes(all.slice(512, 700)))).toBe(true);
  });

  it('rejects ranges that are not nodes of the tree', async () => {
    await expect(subtreeHash(plain, 3, 7)).rejects.toThrow(RangeError);
    await expect(subtreeHash(plain, 5, 4)).rejects.toThrow(RangeError);
  });

  it('inclusion proofs equal the RFC reference proofs, with and without stored levels', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 700 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))),
        async ([n, i]) => {
          const want = hex(inclusionProof(i, all.slice(0, n)));
          expect(hex(await proveInclusion(plain, i, n))).toEqual(want);
          expect(hex(await proveInclusion(withNodes, i, n))).toEqual(want);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('consistency proofs equal the RFC reference proofs, with and without stored levels', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 700 }).chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n))),
        async ([m, n]) => {
          const want = hex(consistencyProof(m, all.slice(0, n)));
          expect(hex(await proveConsistency(plain, m, n))).toEqual(want);
          expect(hex(await proveConsistency(withNodes, m, n))).toEqual(want);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('uses stored levels instead of reading every leaf', async () => {
    let leafReads = 0;
    const counting: TreeHashReader = {
      leafHashes: (s, e) => {
        leafReads += e - s;
        return all.slice(s, e);
      },
      storedLevels: withNodes.storedLevels!,
      nodeHashes: withNodes.nodeHashes!,
    };
    await proveInclusion(counting, 5, 700);
    expect(leafReads).toBeLessThan(10);
  });

  it('fails loudly when the reader returns the wrong number of hashes', async () => {
    const short: TreeHashReader = { leafHashes: (s, e) => all.slice(s, e - 1) };
    await expect(proveInclusion(short, 0, 8)).rejects.toThrow(/expected/);
    await expect(async () => proveInclusion(plain, 8, 8)).rejects.toThrow(RangeError);
  });
});
