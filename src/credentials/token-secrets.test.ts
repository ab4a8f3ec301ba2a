import { describe, expect, it } from 'vitest';
import { generateToken, hashToken, parseCustosToken, tokenMatches } from './token-secrets.js';

describe('token secrets', () => {
  it('generates well-formed, checksummed, distinct tokens whose id is recoverable', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { id, token } = generateToken('op');
      expect(token).toMatch(/^custos_op_[a-z2-7]{16}_[A-Za-z0-9]{32}_[A-Za-z0-9]{6}$/);
      expect(parseCustosToken(token)).toEqual({ kind: 'op', id });
      seen.add(token);
    }
    expect(seen.size).toBe(200);
  });
  it('stores a SHA-256 hex digest that matches only the exact token', () => {
    const { token } = generateToken('op');
    const hash = hashToken(token);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(token.split('_')[3]!);
    expect(tokenMatches(token, hash)).toBe(true);
    expect(tokenMatches(token + 'x', hash)).toBe(false);
    expect(tokenMatches(generateToken('op').token, hash)).toBe(false);
    expect(tokenMatches(token, 'not-hex')).toBe(false);
    expect(tokenMatches(token, '')).toBe(false);
  });
});
