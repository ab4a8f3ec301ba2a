import { describe, expect, it } from 'vitest';
import { createRevocationMemory } from './revocation.service.js';
import type { RevocationRow } from './revocations.repo.js';

// The in-memory rules every verification consults, exactly: a jti, a credential, a principal (as sub or anywhere
// in the act chain) with not_before at or after the token's iat; forgotten entries are skipped.

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
let version = 0;
const row = (kind: RevocationRow['kind'], target: string, extra: Partial<RevocationRow> = {}): RevocationRow => ({
  version: ++version, kind, target, revoked_at: iso(T0), not_before: kind === 'principal' ? iso(T0) : null, forget_after: iso(T0 + 3600_000), ...extra,
});
const ref = (over: Partial<{ jti: string; principalId: string; actChain: string[]; issuedAt: number; credentialId: string | null }> = {}) => ({
  jti: 'j', principalId: 'p', actChain: [], issuedAt: T0 / 1000 - 60, credentialId: null, ...over,
});

describe('revocation memory', () => {
  it('a revoked jti or credential refuses the token; others pass', () => {
    const m = createRevocationMemory();
    expect(m.apply([row('token', 'j1'), row('credential', 'c1')], T0)).toBe(true);
    expect(m.isRevoked(ref({ jti: 'j1' }))).toBe(true);
    expect(m.isRevoked(ref({ credentialId: 'c1' }))).toBe(true);
    expect(m.isRevoked(ref({ jti: 'j2', credentialId: 'c2' }))).toBe(false);
    expect(m.apply([row('token', 'j1')], T0)).toBe(false); // nothing new
  });

  it('a principal entry covers tokens issued up to its not_before second, as sub or anywhere in the chain', () => {
    const m = createRevocationMemory();
    m.apply([row('principal', 'a', { not_before: iso(T0 + 500) })], T0);
    const second = Math.floor(T0 / 1000);
    expect(m.isRevoked(ref({ principalId: 'a', issuedAt: second }))).toBe(true);
    expect(m.isRevoked(ref({ principalId: 'a', issuedAt: second - 3600 }))).toBe(true);
    expect(m.isRevoked(ref({ actChain: ['x', 'a'], issuedAt: second }))).toBe(true);
    expect(m.isRevoked(ref({ principalId: 'a', issuedAt: second + 1 }))).toBe(false);
    expect(m.isRevoked(ref({ actChain: ['a'], issuedAt: second + 1 }))).toBe(false);
    // A later revocation of the same principal moves not_before forward, never back.
    expect(m.apply([row('principal', 'a', { not_before: iso(T0 + 10_000) })], T0)).toBe(true);
    expect(m.isRevoked(ref({ principalId: 'a', issuedAt: second + 5 }))).toBe(true);
    m.apply([row('principal', 'a', { not_before: iso(T0 - 10_000) })], T0);
    expect(m.isRevoked(ref({ principalId: 'a', issuedAt: second + 5 }))).toBe(true);
  });

  it('skips entries already forgotten and forgets entries past forget_after', () => {
    const m = createRevocationMemory();
    expect(m.apply([row('token', 'old', { forget_after: iso(T0 - 1) })], T0)).toBe(false);
    expect(m.isRevoked(ref({ jti: 'old' }))).toBe(false);
    m.apply([row('token', 'j1', { forget_after: iso(T0 + 1000) }), row('principal', 'p', { forget_after: iso(T0 + 5000) })], T0);
    m.forgetUpTo(T0 + 1000);
    expect(m.isRevoked(ref({ jti: 'j1', principalId: 'q' }))).toBe(false);
    expect(m.size()).toBe(1);
    m.forgetUpTo(T0 + 5000);
    expect(m.size()).toBe(0);
  });
});
