import { describe, expect, it } from 'vitest';
import { listInventoryQuery, parseDurationSeconds, revokeCredentialsBody } from './inventory.schemas.js';
import { actChainPattern } from './tokens.repo.js';

describe('inventory request shapes', () => {
  it('durations: seconds or s/m/h/d', () => {
    expect(['90', '90s', '15m', '1h', '7d'].map(parseDurationSeconds)).toEqual([90, 90, 900, 3600, 604_800]);
    for (const bad of ['1w', '-1', '1.5h', 'h', '', '1 h x']) expect(parseDurationSeconds(bad), bad).toBeUndefined();
    expect(listInventoryQuery.parse({ expiring_within: '1h' }).expiring_within).toBe(3600);
    expect(listInventoryQuery.safeParse({ expiring_within: '0' }).success).toBe(false);
    expect(listInventoryQuery.safeParse({ expiring_within: '400d' }).success).toBe(false);
  });

  it('revocation names exactly one target', () => {
    expect(revokeCredentialsBody.safeParse({ jti: 'a' }).success).toBe(true);
    expect(revokeCredentialsBody.safeParse({ principal: 'a', reason: 'r' }).success).toBe(true);
    expect(revokeCredentialsBody.safeParse({ jti: 'a', family: 'b' }).success).toBe(false);
    expect(revokeCredentialsBody.safeParse({ reason: 'r' }).success).toBe(false);
    expect(revokeCredentialsBody.safeParse({ jti: 'a', extra: 1 }).success).toBe(false);
  });

  it('the act-chain pattern matches one quoted element and escapes LIKE wildcards', () => {
    expect(actChainPattern('0195-a')).toBe('%"0195-a"%');
    expect(actChainPattern('a_b%c\\d')).toBe('%"a\\_b\\%c\\\\\\\\d"%');
  });
});
