import { describe, expect, it } from 'vitest';
import { challengeProblem, verifierMatches } from './pkce.js';

// RFC 7636 Appendix B's example verifier and challenge.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

describe('PKCE (RFC 7636, S256 only)', () => {
  it('accepts the RFC example', () => {
    expect(challengeProblem(CHALLENGE, 'S256')).toBeNull();
    expect(verifierMatches(VERIFIER, CHALLENGE)).toBe(true);
  });
  it('refuses a missing challenge, plain, a missing method and a malformed challenge', () => {
    expect(challengeProblem(undefined, undefined)).toMatch(/PKCE is required/);
    expect(challengeProblem(VERIFIER, 'plain')).toMatch(/not supported/);
    expect(challengeProblem(CHALLENGE, undefined)).toMatch(/required/);
    expect(challengeProblem(CHALLENGE.slice(1), 'S256')).toMatch(/43/);
  });
  it('refuses a wrong, short, long or missing verifier', () => {
    expect(verifierMatches(VERIFIER.replace('d', 'e'), CHALLENGE)).toBe(false);
    expect(verifierMatches(VERIFIER.slice(0, 42), CHALLENGE)).toBe(false);
    expect(verifierMatches('a'.repeat(129), CHALLENGE)).toBe(false);
    expect(verifierMatches(undefined, CHALLENGE)).toBe(false);
    // A plain challenge (the verifier itself) never passes as S256.
    expect(verifierMatches(VERIFIER, VERIFIER.slice(0, 43))).toBe(false);
  });
});
