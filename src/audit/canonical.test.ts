import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CanonicalError, canonicalBytes, canonicalString, eventLeafHash, isCanonical, parseCanonical } from './canonical.js';

describe('canonicalString (RFC 8785)', () => {
  it('matches the RFC 8785 §3.2.2 example', () => {
    // Input and output of the specification's worked example.
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    );
    expect(canonicalString(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts keys by UTF-16 code units (RFC 8785 §3.2.3)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    // Read the member order from the text (JS objects would list "1" first on parsing).
    const text = canonicalString(input);
    const order = Object.values(input).sort((a, b) => text.indexOf(a) - text.indexOf(b));
    // 0x000d < 0x0031 < 0x0080 < 0x00f6 < 0x20ac < 0xd83d < 0xfb33 (UTF-16, not code point order)
    expect(order).toEqual(['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((k) => input[k as keyof typeof input]));
    expect(text.startsWith('{"\\r":"Carriage Return","1":"One","\u0080":"Control"')).toBe(true);
  });

  it('serializes numbers as ECMAScript does (RFC 8785 §3.2.2.3)', () => {
    expect(canonicalString([0, -0, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 9007199254740992, 1e20, 0.1])).toBe(
      '[0,0,1e+21,1e-7,5e-324,1.7976931348623157e+308,9007199254740992,100000000000000000000,0.1]',
    );
  });

  it('omits undefined properties and is independent of key insertion order', () => {
    expect(canonicalString({ b: 1, a: undefined, c: { y: [1, 'x'], x: null } })).toBe('{"b":1,"c":{"x":null,"y":[1,"x"]}}');
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalString(reversed)).toBe(canonicalString(obj));
      }),
    );
  });

  it('refuses values JSON would silently change', () => {
    const bad: unknown[] = [
      Number.NaN,
      Infinity,
      10n,
      () => 1,
      Symbol('x'),
      undefined,
      new Date(0),
      new Map(),
      Buffer.from('x'),
      [1, undefined],
      // eslint-disable-next-line no-sparse-arrays
      [1, , 2],
      { toJSON: () => 'x' },
      { s: 'lone \ud800 surrogate' },
      { ['\udc00']: 1 },
      { nested: { fn: () => 1 } },
    ];
    for (const v of bad) expect(() => canonicalString(v), String(v)).toThrow(CanonicalError);
  });

  it('refuses nesting deeper than the limit', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = [deep];
    expect(() => canonicalString(deep)).toThrow(/deeper/);
  });
});

describe('canonicalBytes, eventLeafHash', () => {
  it('encodes as UTF-8 and hashes with the 0x00 leaf prefix', () => {
    const ev = { type: 'é', seq: 1 };
    const bytes = canonicalBytes(ev);
    expect(bytes.equals(Buffer.from('{"seq":1,"type":"é"}', 'utf8'))).toBe(true);
    const want = createHash('sha256').update(Buffer.concat([Buffer.from([0]), bytes])).digest();
    expect(eventLeafHash(ev).equals(want)).toBe(true);
  });
});

describe('parseCanonical', () => {
  it('round-trips any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const bytes = canonicalBytes(v);
        expect(canonicalBytes(parseCanonical(bytes)).equals(bytes)).toBe(true);
        expect(isCanonical(bytes)).toBe(true);
      }),
    );
  });

  it('rejects bytes that are not exactly canonical', () => {
    for (const s of ['{"b":1,"a":2}', '{"a": 1}', '{"a":1,"a":1}', '[1.0]', '"\\u0041"', '{"a":1}\n', 'nope']) {
      expect(isCanonical(Buffer.from(s)), s).toBe(false);
    }
    expect(isCanonical(Buffer.from([0x22, 0xff, 0x22]))).toBe(false); // invalid UTF-8
    expect(() => parseCanonical(Buffer.from('{"a": 1}'))).toThrow(CanonicalError);
    expect(parseCanonical(Buffer.from('{"a":[1,"x",null]}'))).toEqual({ a: [1, 'x', null] });
  });
});
