import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { base62, BASE62, custosTokenMatches, formatCustosToken, generateCustosToken, hashCustosToken, parseCustosToken } from './credential-format.js';

const b32 = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz234567'), minLength: 16, maxLength: 16 });
const b62 = fc.string({ unit: fc.constantFrom(...BASE62), minLength: 32, maxLength: 32 });

describe('Custos token format', () => {
  it('matches the documented layout with a known checksum', () => {
    const id = 'abcdefghijklmnop';
    const secret = 'A'.repeat(32);
    const t = formatCustosToken('op', id, secret);
    const body = `custos_op_${id}_${secret}`;
    expect(t).toBe(`${body}_${base62(crc32(body) >>> 0, 6)}`);
    expect(t).toMatch(/^custos_op_[a-z2-7]{16}_[A-Za-z0-9]{32}_[A-Za-z0-9]{6}$/);
  });
  it('base62 uses 0-9A-Za-z order and left-pads', () => {
    expect(base62(0, 6)).toBe('000000');
    expect(base62(61, 6)).toBe('00000z');
    expect(base62(62, 6)).toBe('000010');
    expect(base62(0xffffffff, 6)).toBe('4gfFC3');
  });
  it('round-trips and rejects any single-character change', () => {
    fc.assert(fc.property(fc.constantFrom('op' as const, 'ak' as const), b32, b62, fc.nat(), (kind, id, secret, pos) => {
      const t = formatCustosToken(kind, id, secret);
      expect(parseCustosToken(t)).toEqual({ kind, id });
      const i = 10 + (pos % (t.length - 10));
      const ch = t[i]!;
      if (ch === '_') return;
      const repl = ch === 'a' ? 'b' : 'a';
      expect(parseCustosToken(t.slice(0, i) + repl + t.slice(i + 1))).toBeNull();
    }));
  });
  it('rejects malformed input', () => {
    expect(parseCustosToken('custos_xx_abcdefghijklmnop_' + 'A'.repeat(32) + '_000000')).toBeNull();
    expect(parseCustosToken('')).toBeNull();
    expect(() => formatCustosToken('op', 'ABC', 'x')).toThrow();
  });
});

describe('token secrets', () => {
  it('generates well-formed, checksummed, distinct tokens whose id is recoverable', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { id, token } = generateCustosToken('op');
      expect(token).toMatch(/^custos_op_[a-z2-7]{16}_[A-Za-z0-9]{32}_[A-Za-z0-9]{6}$/);
      expect(parseCustosToken(token)).toEqual({ kind: 'op', id });
      seen.add(token);
    }
    expect(seen.size).toBe(200);
  });
  it('stores a SHA-256 hex digest that matches only the exact token', () => {
    const { token } = generateCustosToken('op');
    const hash = hashCustosToken(token);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(token.split('_')[3]!);
    expect(custosTokenMatches(token, hash)).toBe(true);
    expect(custosTokenMatches(token + 'x', hash)).toBe(false);
    expect(custosTokenMatches(generateCustosToken('op').token, hash)).toBe(false);
    expect(custosTokenMatches(token, 'not-hex')).toBe(false);
    expect(custosTokenMatches(token, '')).toBe(false);
  });
});
