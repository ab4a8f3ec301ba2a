import { describe, expect, it } from 'vitest';
import { createZoneMatcher, normaliseAddress, parseCidr, zoneProblems, type NetworkZone } from './zones.js';

const ZONES: NetworkZone[] = [
  { name: 'office', cidrs: ['10.0.0.0/8', '192.168.1.0/24'] },
  { name: 'lab', cidrs: ['10.20.0.0/16'] },
  { name: 'bastion', cidrs: ['10.20.0.7'] },
  { name: 'v6-corp', cidrs: ['2001:db8::/32'] },
  { name: 'v6-lab', cidrs: ['2001:db8:ab::/48'] },
];

describe('network zones', () => {
  const zoneOf = createZoneMatcher(ZONES);

  it('names the zone of IPv4 addresses, the most specific CIDR winning whatever the order', () => {
    expect(zoneOf('10.30.1.1')).toBe('office');
    expect(zoneOf('10.20.1.1')).toBe('lab');
    expect(zoneOf('10.20.0.7')).toBe('bastion');
    expect(zoneOf('192.168.1.200')).toBe('office');
    expect(zoneOf('192.168.2.1')).toBe('');
    expect(zoneOf('11.0.0.1')).toBe('');
    const reversed = createZoneMatcher([...ZONES].reverse());
    for (const a of ['10.30.1.1', '10.20.1.1', '10.20.0.7', '2001:db8:ab::1', '2001:db8:1::1']) expect(reversed(a)).toBe(zoneOf(a));
  });

  it('names the zone of IPv6 addresses, and never matches IPv4 CIDRs against IPv6 addresses', () => {
    expect(zoneOf('2001:db8:1::1')).toBe('v6-corp');
    expect(zoneOf('2001:db8:ab:cd::1')).toBe('v6-lab');
    expect(zoneOf('2001:db9::1')).toBe('');
    expect(zoneOf('::a00:1')).toBe(''); // ::10.0.0.1 (IPv4-compatible, not mapped) is an IPv6 address
    expect(zoneOf('fe80::1%eth0')).toBe('');
    expect(createZoneMatcher([{ name: 'll', cidrs: ['fe80::/10'] }])('fe80::1%eth0')).toBe('ll');
  });

  it('treats an IPv4-mapped IPv6 address (a dual-stack listener) as its IPv4 address', () => {
    expect(zoneOf('::ffff:10.20.1.1')).toBe('lab');
    expect(zoneOf('::FFFF:192.168.1.9')).toBe('office');
    expect(normaliseAddress('[2001:db8::1]')).toEqual({ address: '2001:db8::1', family: 'ipv6' });
  });

  it('gives "" for no address, a non-address, or no zones at all', () => {
    expect(zoneOf(null)).toBe('');
    expect(zoneOf(undefined)).toBe('');
    expect(zoneOf('')).toBe('');
    expect(zoneOf('not-an-ip')).toBe('');
    expect(zoneOf('10.0.0.1/8')).toBe('');
    expect(createZoneMatcher([])('10.0.0.1')).toBe('');
  });

  it('ignores host bits in a CIDR, as a router does', () => {
    expect(createZoneMatcher([{ name: 'a', cidrs: ['10.1.2.3/8'] }])('10.200.0.1')).toBe('a');
    expect(createZoneMatcher([{ name: 'all', cidrs: ['0.0.0.0/0', '::/0'] }])('8.8.8.8')).toBe('all');
    expect(createZoneMatcher([{ name: 'all', cidrs: ['0.0.0.0/0', '::/0'] }])('2606:4700::1')).toBe('all');
  });

  it('parses CIDRs and bare addresses exactly', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ family: 'ipv4', address: '10.0.0.0', prefix: 8 });
    expect(parseCidr('10.0.0.1')).toEqual({ family: 'ipv4', address: '10.0.0.1', prefix: 32 });
    expect(parseCidr('2001:db8::/32')).toEqual({ family: 'ipv6', address: '2001:db8::', prefix: 32 });
    expect(parseCidr('::1')).toEqual({ family: 'ipv6', address: '::1', prefix: 128 });
    for (const bad of ['10.0.0.0/33', '2001:db8::/129', '10.0.0/8', '10.0.0.0/8/1', '10.0.0.0/-1', '10.0.0.0/ 8', 'host.example', '', 'fe80::1%eth0/64']) {
      expect(parseCidr(bad), bad).toBeUndefined();
    }
  });

  it('refuses lists whose answer would depend on order, and bad names or CIDRs', () => {
    expect(zoneProblems(ZONES)).toEqual([]);
    expect(zoneProblems([{ name: 'a', cidrs: ['10.0.0.0/8'] }, { name: 'b', cidrs: ['10.9.9.9/8'] }])[0]).toMatch(/in both 'a'.*and 'b'/);
    expect(zoneProblems([{ name: 'a', cidrs: ['10.0.0.0/8', '10.0.0.0/8'] }])[0]).toMatch(/twice/);
    expect(zoneProblems([{ name: 'a', cidrs: ['10.0.0.0/8'] }, { name: 'a', cidrs: ['11.0.0.0/8'] }])[0]).toMatch(/given twice/);
    expect(zoneProblems([{ name: 'Office', cidrs: ['10.0.0.0/8'] }])[0]).toMatch(/lowercase/);
    expect(zoneProblems([{ name: 'a', cidrs: [] }])[0]).toMatch(/no CIDR/);
    expect(zoneProblems([{ name: 'a', cidrs: ['10.0.0.0/40'] }])[0]).toMatch(/not an IP address or CIDR/);
    expect(() => createZoneMatcher([{ name: 'a', cidrs: ['nope'] }])).toThrow(/invalid network zones/);
    // The same prefix length in different families is not a clash.
    expect(zoneProblems([{ name: 'a', cidrs: ['0.0.0.0/0'] }, { name: 'b', cidrs: ['::/0'] }])).toEqual([]);
  });
});
