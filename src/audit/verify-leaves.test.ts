import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalBytes } from './canonical.js';
import { hashLeaf, hashLeafText } from './merkle.js';
import { hashRows, leafHex, leafMismatch, type StoredRow } from './verify-leaves.js';

describe('leafHex', () => {
  it('equals the reference leaf hash for bytes, text (any UTF-16, incl. lone surrogates) and objects', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 3000 }), (text) => {
        expect(leafHex(text)).toBe(hashLeafText(text).toString('hex'));
        const bytes = Buffer.from(text, 'utf8');
        expect(leafHex(bytes)).toBe(hashLeaf(bytes).toString('hex'));
      }),
      { numRuns: 200 },
    );
    const obj = { seq: 3, type: 'x', actor: { principal: 'p' } };
    expect(leafHex(obj)).toBe(hashLeaf(canonicalBytes(obj)).toString('hex'));
  });

  it('grows its scratch space for large events', () => {
    expect(leafHex('a\uD800b\uDFFF')).toBe(hashLeafText('a\uD800b\uDFFF').toString('hex'));
    const big = 'é'.repeat(100_000);
    expect(leafHex(big)).toBe(hashLeafText(big).toString('hex'));
  });
});

describe('leafMismatch', () => {
  const computed = hashLeafText('{"a":1}');
  const hex = computed.toString('hex');
  const other = hashLeafText('{"a":2}');

  it('accepts the same hash as lower or upper case hex, or as bytes', () => {
    expect(leafMismatch(hex, hex)).toBeUndefined();
    expect(leafMismatch(hex, hex.toUpperCase())).toBeUndefined();
    expect(leafMismatch(hex, computed)).toBeUndefined();
    expect(leafMismatch(hex, new Uint8Array(computed))).toBeUndefined();
  });

  it('a different well-formed stored hash is integrated; a malformed one is replaced by the recomputed hash', () => {
    expect(leafMismatch(hex, other.toString('hex'))!.use.equals(other)).toBe(true);
    expect(leafMismatch(hex, other)!.use.equals(other)).toBe(true);
    for (const bad of ['zz', hex.slice(2), hex.slice(0, 62) + 'zz', `${hex}00`, Buffer.alloc(31)]) {
      expect(leafMismatch(hex, bad)!.use.equals(computed)).toBe(true);
    }
  });
});

describe('hashRows', () => {
  const text = (seq: number) => JSON.stringify({ seq, type: 't' });
  const row = (seq: number, hash = hashLeafText(text(seq)).toString('hex')): StoredRow => [seq, text(seq), hash];

  it('writes the leaf of each row in order and lists the rows whose stored hash differs', () => {
    const rows = [row(10), row(11, 'zz'), row(12), row(13, hashLeafText('x').toString('hex'))];
    const out = Buffer.alloc(4 * 32);
    const r = hashRows(rows, 10, out, 100);
    expect(r).toEqual({ count: 4, edited: [11, 13], columns: [], delegation: 0 });
    expect(out.subarray(0, 32).equals(hashLeafText(text(10)))).toBe(true);
    expect(out.subarray(32, 64).equals(hashLeafText(text(11)))).toBe(true); // malformed stored hash: recomputed one
    expect(out.subarray(96, 128).equals(hashLeafText('x'))).toBe(true); // well-formed stored hash: integrated
  });

  it('stops at the first row out of place and reports what it found there', () => {
    const out = Buffer.alloc(4 * 32);
    expect(hashRows([row(0), row(1), row(3)], 0, out, 100)).toEqual({ count: 2, edited: [], got: 3, columns: [], delegation: 0 });
    expect(hashRows([row(5)], 6, out, 100)).toEqual({ count: 0, edited: [], got: 5, columns: [], delegation: 0 });
    expect(hashRows([row(0), row(1)], 0, out, 100)).toEqual({ count: 2, edited: [], columns: [], delegation: 0 });
  });

  it('caps the edited list', () => {
    const rows = Array.from({ length: 5 }, (_, i) => row(i, 'zz'));
    expect(hashRows(rows, 0, Buffer.alloc(5 * 32), 2).edited).toEqual([0, 1]);
  });
});
