import { describe, expect, it } from 'vitest';
import {
  OutboundRefused, SPECIAL_USE_RANGES, createOutboundGuard, isSpecialUseAddress, parseAllowList, pinnedLookup,
  type HostLookup, type ResolvedAddress, type VettedTarget,
} from './outbound-guard.js';

// The SSRF guard's exact rules, with DNS replaced by a table (the real-server tests are in
// test/signin/client-metadata.test.ts).

function table(entries: Record<string, string[]>): HostLookup & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname);
    const found = entries[hostname];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(fn, { calls });
}

async function refusal(promise: Promise<unknown>): Promise<OutboundRefused> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OutboundRefused);
    return error as OutboundRefused;
  }
  throw new Error('expected the guard to refuse');
}

describe('isSpecialUseAddress', () => {
  it('refuses the network address of every listed range', () => {
    for (const [cidr] of SPECIAL_USE_RANGES) expect(isSpecialUseAddress(cidr.split('/')[0]!), cidr).toBe(true);
  });

  it('refuses addresses inside each IPv4 range, at both edges', () => {
    const refused = [
      '0.0.0.0', '0.255.255.255', // this network, unspecified
      '10.0.0.1', '10.255.255.255', // private
      '100.64.0.1', '100.127.255.254', // CGNAT
      '127.0.0.1', '127.255.255.254', // loopback
      '169.254.169.254', '169.254.0.1', // link-local, cloud metadata
      '172.16.0.1', '172.31.255.255', // private
      '192.0.0.8', '192.0.2.1', '192.88.99.1', // IETF, TEST-NET-1, 6to4 relay
      '192.168.0.1', '192.168.255.255', // private
      '198.18.0.1', '198.19.255.255', // benchmarking
      '198.51.100.7', '203.0.113.9', // TEST-NET-2, TEST-NET-3
      '224.0.0.1', '239.255.255.250', // multicast
      '240.0.0.1', '255.255.255.255', // reserved, broadcast
    ];
    for (const a of refused) expect(isSpecialUseAddress(a), a).toBe(true);
  });

  it('accepts public IPv4 addresses, including those right beside a range', () => {
    const accepted = [
      '1.1.1.1', '8.8.8.8', '93.184.216.34', '9.255.255.255', '11.0.0.0', '100.63.255.255', '100.128.0.0',
      '126.255.255.255', '128.0.0.0', '169.253.255.255', '169.255.0.0', '172.15.255.255', '172.32.0.0',
      '192.0.1.0', '192.167.255.255', '192.169.0.0', '198.17.255.255', '198.20.0.0', '223.255.255.255',
    ];
    for (const a of accepted) expect(isSpecialUseAddress(a), a).toBe(false);
  });

  it('refuses special-use IPv6, and IPv4-mapped and NAT64 forms of special-use IPv4', () => {
    const refused = [
      '::', '::1', '::127.0.0.1', // unspecified, loopback, IPv4-compatible
      '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '::ffff:0.0.0.0', // IPv4-mapped
      '::ffff:0:a00:1', // IPv4-translated
      '64:ff9b::10.0.0.1', '64:ff9b::7f00:1', '64:ff9b::a9fe:a9fe', '64:ff9b:1::1', // NAT64
      '100::1', '2001::1', '2001:db8::1', '2002:7f00:1::1', '3fff::1', '5f00::1', // discard, Teredo, docs, 6to4, SRv6
      'fc00::1', 'fd12:3456:789a::1', // unique-local
      'fe80::1', 'febf:ffff::1', 'fec0::1', // link-local, site-local
      'ff02::1', 'ff0e::1', // multicast
    ];
    for (const a of refused) expect(isSpecialUseAddress(a), a).toBe(true);
  });

  it('accepts public IPv6, and IPv4-mapped and NAT64 forms of public IPv4', () => {
    for (const a of ['2606:4700:4700::1111', '2a00:1450:4001::1', '2001:200::1', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8', '64:ff9b::5db8:d822']) {
      expect(isSpecialUseAddress(a), a).toBe(false);
    }
  });

  it('refuses what is not a plain IP address: zone ids, names, garbage', () => {
    for (const a of ['fe80::1%eth0', '2606:4700::1%1', 'localhost', 'example.com', '', '1.2.3', '01.2.3.4x']) {
      expect(isSpecialUseAddress(a), a).toBe(true);
    }
  });
});

describe('parseAllowList', () => {
  it('reads host names, name:port, addresses and CIDRs (case-insensitive names)', () => {
    const allow = parseAllowList(['LocalHost', 'dev.test:8443', 'dev.test:9443', '127.0.0.1', '10.0.0.0/8', 'fd00::/8', '::1', ' ']);
    expect([...allow.names.keys()]).toEqual(['localhost', 'dev.test']);
    expect(allow.names.get('localhost')).toBeNull();
    expect([...allow.names.get('dev.test')!]).toEqual([8443, 9443]);
    expect(allow.hasAddresses).toBe(true);
    expect(allow.addresses.check('127.0.0.1', 'ipv4')).toBe(true);
    expect(allow.addresses.check('127.0.0.2', 'ipv4')).toBe(false);
    expect(allow.addresses.check('10.200.1.1', 'ipv4')).toBe(true);
    expect(allow.addresses.check('fd99::1', 'ipv6')).toBe(true);
    expect(allow.addresses.check('::1', 'ipv6')).toBe(true);
  });

  it('a name without a port allows every port, whatever else is listed for it', () => {
    expect(parseAllowList(['dev.test:1', 'dev.test']).names.get('dev.test')).toBeNull();
    expect(parseAllowList(['dev.test', 'dev.test:1']).names.get('dev.test')).toBeNull();
  });

  it('throws on entries it cannot read', () => {
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/8/1', '10.0.0.0/x', 'exa mple', 'host:99999', 'http://x', 'a_b.test', '[::1]']) {
      expect(() => parseAllowList([bad]), bad).toThrow(/allow-list entry/);
    }
  });
});

describe('createOutboundGuard', () => {
  const dns = table({
    'public.example': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    'mixed.example': ['93.184.216.34', '10.0.0.1'],
    'mixed6.example': ['2606:4700::1', 'fd00::1'],
    'mapped.example': ['::ffff:10.0.0.1'],
    'loopback.example': ['127.0.0.1'],
    'internal.example': ['10.1.2.3'],
    'internal2.example': ['10.1.2.3', '192.168.0.1'],
    'zoned.example': ['fe80::1%eth0'],
    'dev.test': ['10.0.0.5'],
    'empty.example': [],
  });

  it('accepts https to a host whose every address is public, and returns them for pinning', async () => {
    const guard = createOutboundGuard({ allowPrivate: [], lookup: dns });
    const target = await guard.vet(new URL('https://public.example/client.json'));
    expect(target).toMatchObject({ hostname: 'public.example', port: 443, address: '93.184.216.34', family: 4 });
    expect(target.addresses.map((a) => a.address)).toEqual(['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946']);
    expect((await guard.vet(new URL('https://public.example:8443/c'))).port).toBe(8443);
    expect((await guard.vet(new URL('https://93.184.216.34/c'))).address).toBe('93.184.216.34');
  });

  it('refuses plain http, other schemes and user info before resolving anything', async () => {
    const lookup = table({ 'public.example': ['93.184.216.34'] });
    const guard = createOutboundGuard({ allowPrivate: [], lookup });
    for (const url of ['http://public.example/c', 'ftp://public.example/c', 'file:///etc/passwd', 'https://user:pw@public.example/c', 'https://user@public.example/c']) {
      const e = await refusal(guard.vet(new URL(url)));
      expect(e.reason, url).toBe('not_allowed');
    }
    expect((await refusal(guard.vet(new URL('http://public.example/c')))).message).toMatch(/https/);
    expect((await refusal(guard.vet(new URL('https://u:p@public.example/c')))).message).toMatch(/user name/);
    expect(lookup.calls).toEqual([]);
  });

  it('refuses when ANY resolved address is special-use (IPv4, IPv6, IPv4-mapped, zone ids)', async () => {
    const guard = createOutboundGuard({ allowPrivate: [], lookup: dns });
    for (const host of ['mixed.example', 'mixed6.example', 'mapped.example', 'loopback.example', 'internal.example', 'zoned.example']) {
      const e = await refusal(guard.vet(new URL(`https://${host}/c`)));
      expect(e.reason, host).toBe('not_allowed');
      expect(e.message).toMatch(/special-use/);
    }
  });

  it('refuses special-use IP literals however the URL spells them, without a lookup', async () => {
    const lookup = table({});
    const guard = createOutboundGuard({ allowPrivate: [], lookup });
    for (const url of ['https://127.0.0.1/c', 'https://2130706433/c', 'https://0x7f.1/c', 'https://[::1]/c', 'https://[::ffff:127.0.0.1]/c',
      'https://169.254.169.254/latest/meta-data/', 'https://[fe80::1]/c', 'https://0.0.0.0/c', 'https://100.100.100.200/c']) {
      expect((await refusal(guard.vet(new URL(url)))).reason, url).toBe('not_allowed');
    }
    expect(lookup.calls).toEqual([]);
  });

  it('a host that does not resolve, or resolves to nothing, is unresolvable', async () => {
    const guard = createOutboundGuard({ allowPrivate: [], lookup: dns });
    expect((await refusal(guard.vet(new URL('https://nowhere.example/c')))).reason).toBe('unresolvable');
    expect((await refusal(guard.vet(new URL('https://empty.example/c')))).reason).toBe('unresolvable');
  });

  it('allows a host by name (every address it resolves to, and plain http), on the listed port only', async () => {
    const any = createOutboundGuard({ allowPrivate: ['dev.test'], lookup: dns });
    expect((await any.vet(new URL('https://dev.test/c'))).address).toBe('10.0.0.5');
    expect((await any.vet(new URL('http://dev.test:9000/c'))).port).toBe(9000);
    expect(any.hostAllowed(new URL('http://dev.test/c'))).toBe(true);
    expect(any.hostAllowed(new URL('http://other.test/c'))).toBe(false);

    const port = createOutboundGuard({ allowPrivate: ['dev.test:8443'], lookup: dns });
    expect((await port.vet(new URL('https://dev.test:8443/c'))).address).toBe('10.0.0.5');
    expect((await refusal(port.vet(new URL('https://dev.test/c')))).message).toMatch(/special-use/);
    expect((await refusal(port.vet(new URL('http://dev.test:9000/c')))).message).toMatch(/https/);
    const https443 = createOutboundGuard({ allowPrivate: ['dev.test:443'], lookup: dns });
    expect((await https443.vet(new URL('https://dev.test/c'))).port).toBe(443);
  });

  it('allows an address: the IP literal (http too) and any name resolving only to allowed addresses (https only)', async () => {
    const guard = createOutboundGuard({ allowPrivate: ['127.0.0.1'], lookup: dns });
    expect((await guard.vet(new URL('http://127.0.0.1:8080/c'))).address).toBe('127.0.0.1');
    expect((await refusal(guard.vet(new URL('http://127.0.0.2/c')))).message).toMatch(/https/);
    expect((await refusal(guard.vet(new URL('https://127.0.0.2/c')))).message).toMatch(/special-use/);
    expect((await guard.vet(new URL('https://loopback.example/c'))).address).toBe('127.0.0.1');
    expect((await refusal(guard.vet(new URL('http://loopback.example/c')))).message).toMatch(/https/);
    // The allowed address does not excuse another private one beside it.
    expect((await refusal(guard.vet(new URL('https://mixed.example/c')))).message).toMatch(/special-use/);
  });

  it('allows CIDRs, IPv4 and IPv6, and matches IPv4-mapped answers against IPv4 entries', async () => {
    const v4 = createOutboundGuard({ allowPrivate: ['10.0.0.0/8'], lookup: dns });
    expect((await v4.vet(new URL('https://internal.example/c'))).address).toBe('10.1.2.3');
    expect((await v4.vet(new URL('https://mapped.example/c'))).address).toBe('::ffff:10.0.0.1');
    expect((await v4.vet(new URL('http://10.9.9.9/c'))).address).toBe('10.9.9.9');
    expect((await refusal(v4.vet(new URL('https://internal2.example/c')))).message).toMatch(/special-use/);

    const v6 = createOutboundGuard({ allowPrivate: ['fd00::/8', '::1'], lookup: dns });
    expect((await v6.vet(new URL('http://[fd00::1]/c'))).address).toBe('fd00::1');
    expect((await v6.vet(new URL('http://[::1]:3000/c'))).family).toBe(6);
    expect((await v6.vet(new URL('https://mixed6.example/c'))).addresses).toHaveLength(2);
    expect((await refusal(v6.vet(new URL('http://[fc00::1]/c')))).message).toMatch(/https/);
  });

  it('a zone id is never excused by an address entry', async () => {
    const guard = createOutboundGuard({ allowPrivate: ['fe80::/10'], lookup: dns });
    expect((await refusal(guard.vet(new URL('https://zoned.example/c')))).message).toMatch(/special-use/);
  });

  it('refuses to build with an unreadable allow list', () => {
    expect(() => createOutboundGuard({ allowPrivate: ['10.0.0.0/40'] })).toThrow(/allow-list entry/);
  });
});

describe('pinnedLookup', () => {
  const target: VettedTarget = {
    url: new URL('https://public.example/c'), hostname: 'public.example', port: 443, address: '93.184.216.34', family: 4,
    addresses: [{ address: '93.184.216.34', family: 4 }, { address: '2606:2800::1', family: 6 }],
  };
  const call = (hostname: string, options: Record<string, unknown>) => new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }>((resolve) => {
    pinnedLookup(target)(hostname, options, (err, address, family) => resolve({ err, address, family }));
  });

  it('answers with the vetted addresses only, in both of the shapes Node asks for', async () => {
    expect(await call('public.example', {})).toEqual({ err: null, address: '93.184.216.34', family: 4 });
    expect(await call('public.example', { family: 6 })).toEqual({ err: null, address: '2606:2800::1', family: 6 });
    expect((await call('public.example', { all: true })).address).toEqual([{ address: '93.184.216.34', family: 4 }, { address: '2606:2800::1', family: 6 }]);
    expect((await call('public.example', { all: true, family: 4 })).address).toEqual([{ address: '93.184.216.34', family: 4 }]);
  });

  it('refuses any other host name', async () => {
    const { err } = await call('attacker.example', {});
    expect(err?.code).toBe('ENOTFOUND');
  });
});
