import { describe, expect, it } from 'vitest';
import { judgeLeak } from './leaked-credential.js';

const hash = 'ab'.repeat(32);
const row = (over: Partial<{ revoked_at: string | null; expires_at: string }> = {}) => ({
  secret_hash: hash, principal_id: 'p1', revoked_at: null, expires_at: '2027-01-01T00:00:00.000Z', ...over,
});
const now = new Date('2026-12-01T00:00:00.000Z');

describe('judgeLeak', () => {
  it('is ours only when a 16+ hex prefix of the stored hash matches (case-insensitive)', () => {
    expect(judgeLeak(row(), { sha256Prefix: hash.slice(0, 16).toUpperCase() }, now)).toEqual({ liveness: 'live', ownerId: 'p1' });
    expect(judgeLeak(row(), { sha256Prefix: hash.slice(0, 15) }, now)).toEqual({ liveness: 'unknown', ownerId: null });
    expect(judgeLeak(row(), { sha256Prefix: 'cd'.repeat(8) }, now)).toEqual({ liveness: 'unknown', ownerId: null });
    expect(judgeLeak(undefined, { sha256Prefix: hash }, now)).toEqual({ liveness: 'unknown', ownerId: null });
  });
  it('says revoked or expired (at the exact expiry instant) instead of live', () => {
    expect(judgeLeak(row({ revoked_at: '2026-11-01T00:00:00.000Z' }), { sha256Prefix: hash }, now).liveness).toBe('revoked');
    expect(judgeLeak(row({ expires_at: now.toISOString() }), { sha256Prefix: hash }, now).liveness).toBe('expired');
    expect(judgeLeak(row({ expires_at: new Date(now.getTime() + 1).toISOString() }), { sha256Prefix: hash }, now).liveness).toBe('live');
  });
});
