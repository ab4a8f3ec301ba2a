import { describe, expect, it } from 'vitest';
import { requesterOf } from './admission.js';

describe('requesterOf', () => {
  it('counts IPv4 by address, IPv6 by /64, mapped IPv4 as IPv4', () => {
    expect(requesterOf('203.0.113.7')).toBe('203.0.113.7');
    expect(requesterOf('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(requesterOf('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(requesterOf('2001:db8:1:2::9')).toBe('2001:db8:1:2::/64');
    expect(requesterOf('2001:0db8:0001:0002:ffff::1')).toBe('2001:db8:1:2::/64');
    expect(requesterOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(requesterOf('::1')).toBe('0:0:0:0::/64');
    expect(requesterOf(null)).toBe('unknown');
    expect(requesterOf('not an address')).toBe('unknown');
  });
});
