import { describe, expect, it } from 'vitest';
import { ASSET_ACTIONS } from '../contracts.js';
import { grantExpiry, grantStatus, MAX_GRANT_SECONDS, MIN_GRANT_SECONDS, normaliseActions, purposeProblem } from './grant-rules.js';

const now = new Date('2026-03-01T12:00:00.500Z');

describe('grantExpiry', () => {
  it('takes exactly one of expires_at and duration_seconds', () => {
    expect(grantExpiry(now, {})).toEqual({ problem: { kind: 'both_or_neither' } });
    expect(grantExpiry(now, { expiresAt: '2026-03-02T00:00:00Z', durationSeconds: 3600 })).toEqual({ problem: { kind: 'both_or_neither' } });
  });

  it('a duration counts from now, kept to whole seconds rounded down', () => {
    expect(grantExpiry(now, { durationSeconds: 3600 })).toEqual({ expiresAt: new Date('2026-03-01T13:00:00.000Z') });
    expect(grantExpiry(now, { expiresAt: '2026-03-01T14:00:00.999+01:00' })).toEqual({ expiresAt: new Date('2026-03-01T13:00:00.000Z') });
  });

  it('is bounded: at least a minute, at most 90 days from now, never in the past', () => {
    expect(grantExpiry(now, { durationSeconds: MIN_GRANT_SECONDS - 1 })).toEqual({ problem: { kind: 'too_soon', minSeconds: MIN_GRANT_SECONDS } });
    expect(grantExpiry(now, { expiresAt: '2026-02-01T00:00:00Z' })).toMatchObject({ problem: { kind: 'too_soon' } });
    expect(grantExpiry(now, { durationSeconds: MAX_GRANT_SECONDS + 1 })).toEqual({ problem: { kind: 'too_long', maxSeconds: MAX_GRANT_SECONDS } });
    expect(grantExpiry(now, { durationSeconds: MAX_GRANT_SECONDS })).toHaveProperty('expiresAt');
    // The shortest duration holds at a fractional instant too (it once compared the rounded-down end with it).
    const fractional = new Date('2026-03-01T12:00:00.400Z');
    expect(grantExpiry(fractional, { durationSeconds: MIN_GRANT_SECONDS })).toEqual({ expiresAt: new Date('2026-03-01T12:01:00.000Z') });
    expect(grantExpiry(now, { durationSeconds: MIN_GRANT_SECONDS + 1 })).toHaveProperty('expiresAt');
    expect(grantExpiry(now, { expiresAt: 'not a date' })).toEqual({ problem: { kind: 'unparseable' } });
  });
});

describe('purposeProblem', () => {
  it('no purpose is always acceptable; a purpose must be the principal\'s and the resource\'s', () => {
    expect(purposeProblem(null, [], [])).toBeNull();
    expect(purposeProblem('support', ['support', 'billing'], ['support'])).toBeNull();
    expect(purposeProblem('billing', ['support', 'billing'], ['support'])).toMatch(/resource's purposes \(support\)/);
    expect(purposeProblem('support', [], ['support'])).toMatch(/principal's purposes \(it has none\)/);
  });
});

describe('grantStatus', () => {
  it('revoked wins; expired at the expiry instant exactly', () => {
    expect(grantStatus({ expires_at: '2026-03-01T12:00:00.500Z', revoked_at: null }, now)).toBe('expired');
    expect(grantStatus({ expires_at: '2026-03-01T12:00:01.000Z', revoked_at: null }, now)).toBe('active');
    expect(grantStatus({ expires_at: '2026-03-01T12:00:01.000Z', revoked_at: '2026-03-01T11:00:00Z' }, now)).toBe('revoked');
  });
});

describe('normaliseActions', () => {
  it('drops repeats and sorts by the catalogue', () => {
    expect(normaliseActions(['export', 'read', 'read', 'invoke'], ASSET_ACTIONS)).toEqual(['invoke', 'read', 'export']);
  });
});
