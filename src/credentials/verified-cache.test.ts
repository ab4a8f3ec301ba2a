import { describe, expect, it } from 'vitest';
import type { AccessTokenClaims } from './contracts.js';
import { createVerifiedCache, DEFAULT_MAX_ENTRIES } from './verified-cache.js';

// The verified-token cache is bounded and evicts the oldest entry first.

const entry = (jti: string) => ({ kid: 'k', claims: { jti } as AccessTokenClaims, actChain: [] });

describe('verified-token cache', () => {
  it('holds at most maxEntries, evicting the oldest; setting a token again makes it the newest', () => {
    const cache = createVerifiedCache({ maxEntries: 3 });
    for (const t of ['a', 'b', 'c']) cache.set(t, entry(t));
    cache.set('a', entry('a2'));
    cache.set('d', entry('d'));
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((t) => cache.get(t)?.claims.jti)).toEqual(['a2', 'c', 'd']);
    cache.set('e', entry('e'));
    expect(cache.get('c')).toBeUndefined();
    cache.delete('a');
    expect(cache.size).toBe(2);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('defaults to 10,000 entries and refuses a bound that is not a positive integer', () => {
    const cache = createVerifiedCache();
    for (let i = 0; i <= DEFAULT_MAX_ENTRIES; i++) cache.set(`t${i}`, entry(String(i)));
    expect(DEFAULT_MAX_ENTRIES).toBe(10_000);
    expect(cache.size).toBe(10_000);
    expect(cache.get('t0')).toBeUndefined();
    expect(cache.get('t1')).toBeDefined();
    expect(() => createVerifiedCache({ maxEntries: 0 })).toThrow(RangeError);
    expect(() => createVerifiedCache({ maxEntries: 1.5 })).toThrow(RangeError);
  });
});
