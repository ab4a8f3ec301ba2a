import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileKeywords } from './keyword-automaton.js';

function naive(keywords: string[], text: string): Set<number> {
  const t = text.toLowerCase();
  return new Set(keywords.map((k, i) => (t.includes(k) ? i : -1)).filter((i) => i >= 0));
}

describe('keyword automaton', () => {
  it('finds overlapping and nested keywords case-insensitively', () => {
    const m = compileKeywords(['sk-', 'sk-proj-', 'proj', 'token', 'ken']);
    const hits = new Set<number>();
    m.scan('x SK-PROJ-abc ToKeN', (k) => { hits.add(k); });
    expect([...hits].sort()).toEqual([0, 1, 2, 3, 4]);
  });
  it('agrees with a naive search on random text', () => {
    const alphabet = fc.constantFrom(...'abcAB_-kK\u00e9\u4e2d');
    fc.assert(fc.property(fc.array(fc.string({ unit: fc.constantFrom(...'abAB_-k'), minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
      fc.string({ unit: alphabet, maxLength: 200 }), (kws, text) => {
        const lower = kws.map((k) => k.toLowerCase());
        const hits = new Set<number>();
        compileKeywords(lower).scan(text, (k) => { hits.add(k); });
        expect(hits).toEqual(naive(lower, text));
      }));
  });
  it('hits() lists every occurrence that scan() reports, in the same order', () => {
    fc.assert(fc.property(fc.array(fc.string({ unit: fc.constantFrom(...'abAB_-k'), minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
      fc.string({ unit: fc.constantFrom(...'abcAB_-kK\u00e9'), maxLength: 3000 }), (kws, text) => {
        const m = compileKeywords(kws.map((k) => k.toLowerCase()));
        const viaScan: number[] = [];
        m.scan(text, (k, end) => { viaScan.push(k, end); });
        expect([...m.hits(text)]).toEqual(viaScan);
      }));
  });
  it('hits() over ASCII bytes equals hits() over the string', () => {
    fc.assert(fc.property(fc.array(fc.string({ unit: fc.constantFrom(...'abAB_-k'), minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
      fc.string({ unit: fc.constantFrom(...'abcAB_-kK\n '), maxLength: 3000 }), (kws, text) => {
        const m = compileKeywords(kws.map((k) => k.toLowerCase()));
        const fromText = [...m.hits(text)];
        expect([...m.hits(Buffer.from(text, 'latin1'))]).toEqual(fromText);
      }));
  });
  it('stops when the callback says so', () => {
    let n = 0;
    compileKeywords(['a']).scan('aaaa', () => ++n === 2);
    expect(n).toBe(2);
  });
});
