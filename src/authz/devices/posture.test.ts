import { describe, expect, it } from 'vitest';
import { choosePosture, postureFromClaims, postureFromRecord } from './posture.js';

describe('posture rules', () => {
  it('reads posture or compliant from claims, and anything unclear is unknown', () => {
    expect(postureFromClaims({ posture: 'compliant' })).toBe('compliant');
    expect(postureFromClaims({ posture: 'noncompliant' })).toBe('noncompliant');
    expect(postureFromClaims({ compliant: true })).toBe('compliant');
    expect(postureFromClaims({ compliant: false })).toBe('noncompliant');
    expect(postureFromClaims({ posture: 'compliant', compliant: true })).toBe('compliant');
    expect(postureFromClaims({ posture: 'compliant', compliant: false })).toBe('unknown');
    expect(postureFromClaims({})).toBe('unknown');
    expect(postureFromClaims({ posture: 'COMPLIANT' })).toBe('unknown');
    expect(postureFromClaims({ posture: true })).toBe('unknown');
    expect(postureFromClaims({ compliant: 'true' })).toBe('unknown');
    expect(postureFromClaims({ posture: 'unknown', compliant: true })).toBe('unknown');
  });

  const now = new Date('2026-06-01T12:00:00Z');
  const record = { deviceId: 'mac-1', principalId: 'p1', posture: 'compliant' as const, validUntil: '2026-06-01T13:00:00.000Z' };

  it('counts a record only for its own principal and only until valid_until', () => {
    expect(postureFromRecord(record, 'mac-1', 'p1', now)).toEqual({ posture: 'compliant', id: 'mac-1', source: 'record' });
    expect(postureFromRecord(record, 'mac-1', 'p2', now)).toMatchObject({ posture: 'unknown', id: '', source: 'none' });
    expect(postureFromRecord(record, 'mac-1', 'p1', new Date('2026-06-01T13:00:00Z'))).toMatchObject({ posture: 'unknown', source: 'none', detail: /expired/ });
    expect(postureFromRecord(undefined, 'mac-9', 'p1', now)).toMatchObject({ posture: 'unknown', source: 'none', detail: /no record/ });
    expect(postureFromRecord({ ...record, principalId: null }, 'mac-1', 'p1', now).posture).toBe('unknown');
  });

  it('prefers a verified assertion, then a record, else unknown', () => {
    const rec = postureFromRecord({ ...record, posture: 'noncompliant' }, 'mac-1', 'p1', now);
    expect(choosePosture({ ok: true, posture: 'compliant', deviceId: 'mac-1', issuer: 'mdm' }, rec)).toMatchObject({ posture: 'compliant', source: 'assertion' });
    expect(choosePosture({ ok: false, why: 'bad signature' }, rec)).toMatchObject({ posture: 'noncompliant', source: 'record', detail: /assertion ignored: bad signature/ });
    expect(choosePosture({ ok: false, why: 'stale' }, undefined)).toMatchObject({ posture: 'unknown', id: '', source: 'none', detail: /stale/ });
    expect(choosePosture(undefined, undefined)).toEqual({ posture: 'unknown', id: '', source: 'none' });
  });
});
