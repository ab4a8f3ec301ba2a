import { lookup as dnsLookup } from 'node:dns/promises';
import net from 'node:net';

// The guard in front of every request Custos makes to a URL someone else chose (a Client ID Metadata Document
// today). Such a URL is an SSRF vector: without this, `client_id=http://169.254.169.254/latest/meta-data/` would
// make the authorization server read its own cloud credentials, or probe the admin ports of its neighbours.
//
// Rules (draft-ietf-oauth-client-id-metadata-document, "Server Side Request Forgery (SSRF) Attacks": never fetch
// a URL that resolves to a special-use address, RFC 6890 and the IANA special-purpose registries):
// - The scheme is https. Plain http only to an allowed host: the URL's host name (with its port, when the entry
//   names one) is in the allow list, or the host is an IP literal inside an allowed address or CIDR.
// - No user name or password in the URL; a host is required.
// - The host is resolved (node:dns/promises lookup, all addresses, in the resolver's order) and the URL is
//   refused when ANY address is special-use (SPECIAL_USE_RANGES: private, loopback, link-local, unique-local,
//   CGNAT, multicast, unspecified, "this network", broadcast and reserved, documentation, benchmarking, 6to4,
//   Teredo and the other IETF assignments; IPv4-mapped and NAT64 forms of the IPv4 ones; any address with a zone
//   id; anything the resolver returns that is not an IP address) — unless the host name is allowed by name
//   (then every address it resolves to is accepted) or that address is inside an allowed address or CIDR.
//   One bad address among good ones is enough: the connection could be made to any of them.
// - The result names the vetted addresses, and `pinnedLookup` hands exactly those to the HTTP client: the request
//   connects to what was checked (no second DNS answer, so no rebinding between check and connect) while the
//   Host header and TLS SNI/certificate check still use the original host name.
// - Ranges are matched with node:net BlockList (which also matches IPv4-mapped IPv6 against the IPv4 rules); no
//   address is parsed by hand.
//
// The allow list (`--cimd-allow-private`) is for development: host names (optionally `name:port`), IP addresses
// and CIDRs, e.g. `localhost`, `127.0.0.1`, `10.0.0.0/8`, `::1`.

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (the default is node:dns/promises `lookup` with `all: true`). */
export type HostLookup = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemLookup: HostLookup = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** The URL may not be fetched: `not_allowed` by these rules, or `unresolvable` (DNS gave no usable answer). */
export class OutboundRefused extends Error {
  constructor(readonly reason: 'not_allowed' | 'unresolvable', message: string) {
    super(message);
    this.name = 'OutboundRefused';
  }
}

/** A URL that passed the guard: connect to `addresses` (first one first), speak to `hostname`. */
export interface VettedTarget {
  url: URL;
  /** The host as the URL names it, without IPv6 brackets: Host header, SNI and certificate check. */
  hostname: string;
  port: number;
  /** The first vetted address (where the connection goes unless the HTTP client tries the others). */
  address: string;
  family: 4 | 6;
  addresses: ResolvedAddress[];
}

/** Every range an outbound request may not reach unless allowed. CIDR, what it is. */
export const SPECIAL_USE_RANGES: ReadonlyArray<readonly [cidr: string, what: string]> = [
  ['0.0.0.0/8', '"this network" (RFC 791), including the unspecified 0.0.0.0'],
  ['10.0.0.0/8', 'private (RFC 1918)'],
  ['100.64.0.0/10', 'shared address space, carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local, cloud metadata services (RFC 3927)'],
  ['172.16.0.0/12', 'private (RFC 1918)'],
  ['192.0.0.0/24', 'IETF protocol assignments (RFC 6890)'],
  ['192.0.2.0/24', 'documentation TEST-NET-1 (RFC 5737)'],
  ['192.88.99.0/24', '6to4 relay anycast (RFC 7526)'],
  ['192.168.0.0/16', 'private (RFC 1918)'],
  ['198.18.0.0/15', 'benchmarking (RFC 2544)'],
  ['198.51.100.0/24', 'documentation TEST-NET-2 (RFC 5737)'],
  ['203.0.113.0/24', 'documentation TEST-NET-3 (RFC 5737)'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved, including the limited broadcast 255.255.255.255'],
  ['::/96', 'unspecified ::, loopback ::1 and the deprecated IPv4-compatible addresses (RFC 4291)'],
  ['::ffff:0:0:0/96', 'IPv4-translated (RFC 2765)'],
  ['64:ff9b:1::/48', 'local-use IPv4/IPv6 translation (RFC 8215)'],
  ['100::/64', 'discard-only (RFC 6666)'],
  ['2001::/23', 'IETF protocol assignments: Teredo, ORCHID, benchmarking (RFC 2928)'],
  ['2001:db8::/32', 'documentation (RFC 3849)'],
  ['2002::/16', '6to4 (RFC 3056)'],
  ['3fff::/20', 'documentation (RFC 9637)'],
  ['5f00::/16', 'SRv6 SIDs (RFC 9602)'],
  ['fc00::/7', 'unique-local (RFC 4193)'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local, deprecated (RFC 3879)'],
  ['ff00::/8', 'multicast'],
];

const SPECIAL_USE: net.BlockList = (() => {
  const list = new net.BlockList();
  for (const [cidr] of SPECIAL_USE_RANGES) {
    const [address, bits] = cidr.split('/') as [string, string];
    const family = net.isIPv4(address) ? 'ipv4' : 'ipv6';
    list.addSubnet(address, Number(bits), family);
    if (family === 'ipv4') {
      // The same IPv4 range written as IPv4-mapped (::ffff:a.b.c.d, RFC 4291) and as NAT64 (64:ff9b::a.b.c.d,
      // RFC 6052): a NAT64 gateway would carry the connection to the private IPv4 address. BlockList already
      // matches IPv4-mapped addresses against IPv4 rules; the explicit rule keeps that true whatever it does.
      list.addSubnet(`::ffff:${address}`, 96 + Number(bits), 'ipv6');
      list.addSubnet(`64:ff9b::${address}`, 96 + Number(bits), 'ipv6');
    }
  }
  return list;
})();

function familyOf(address: string): 'ipv4' | 'ipv6' | null {
  const f = net.isIP(address);
  return f === 4 ? 'ipv4' : f === 6 ? 'ipv6' : null;
}

/**
 * True when `address` is one an outbound request may not reach (SPECIAL_USE_RANGES), and for anything that is not
 * a plain IP address (a zone id such as fe80::1%eth0, a name, garbage): what cannot be classified is refused.
 */
export function isSpecialUseAddress(address: string): boolean {
  if (address.includes('%')) return true;
  const family = familyOf(address);
  if (!family) return true;
  return SPECIAL_USE.check(address, family);
}

/** The parsed `--cimd-allow-private` entries. */
export interface AllowList {
  /** host name → the ports it is allowed on (null: any port). */
  names: Map<string, Set<number> | null>;
  /** Allowed addresses and CIDRs. */
  addresses: net.BlockList;
  /** Whether any address or CIDR was given (BlockList cannot say). */
  hasAddresses: boolean;
}

const HOST_NAME = /^[a-z0-9.-]+$/;

/** Parses allow-list entries (host names, `name:port`, IP addresses, CIDRs); throws on one it cannot read. */
export function parseAllowList(entries: readonly string[]): AllowList {
  const names = new Map<string, Set<number> | null>();
  const addresses = new net.BlockList();
  let hasAddresses = false;
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    const [address, bits, extra] = entry.split('/');
    const family = familyOf(address ?? '');
    if (family) {
      const max = family === 'ipv4' ? 32 : 128;
      const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
      if (extra !== undefined || !(prefix >= 0 && prefix <= max)) throw new Error(`allow-list entry "${raw}" is not a valid CIDR`);
      addresses.addSubnet(address!, prefix, family);
      hasAddresses = true;
      continue;
    }
    const m = /^([^:/]+)(?::(\d{1,5}))?$/.exec(entry);
    if (!m || !HOST_NAME.test(m[1]!) || (m[2] !== undefined && Number(m[2]) > 65535)) {
      throw new Error(`allow-list entry "${raw}" is not a host name, IP address or CIDR`);
    }
    const host = m[1]!;
    if (m[2] === undefined) {
      names.set(host, null);
    } else if (names.get(host) !== null) {
      const ports = names.get(host) ?? new Set<number>();
      ports.add(Number(m[2]));
      names.set(host, ports);
    }
  }
  return { names, addresses, hasAddresses };
}

function bare(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

function effectivePort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'http:' ? 80 : 443;
}

function inAddresses(allow: AllowList, address: string): boolean {
  if (!allow.hasAddresses || address.includes('%')) return false;
  const family = familyOf(address);
  return family !== null && allow.addresses.check(address, family);
}

function nameAllowed(allow: AllowList, url: URL): boolean {
  const ports = allow.names.get(url.hostname);
  if (ports === undefined) return false;
  return ports === null || ports.has(effectivePort(url));
}

export interface OutboundGuardDeps {
  /** `--cimd-allow-private`: host names, `name:port`, IP addresses or CIDRs. */
  allowPrivate: readonly string[];
  lookup?: HostLookup;
}

export function createOutboundGuard(deps: OutboundGuardDeps) {
  const allow = parseAllowList(deps.allowPrivate);
  const lookup = deps.lookup ?? systemLookup;

  /** The URL's host is in the allow list: by name (and port), or as an IP literal inside an allowed range. */
  function hostAllowed(url: URL): boolean {
    if (nameAllowed(allow, url)) return true;
    const host = bare(url.hostname);
    return net.isIP(host) !== 0 && inAddresses(allow, host);
  }

  /** Why `url` may not be fetched whatever its host resolves to (scheme, user info, host); undefined when it may. */
  function urlProblem(url: URL): string | undefined {
    if (url.username || url.password) return 'must not carry a user name or password';
    if (!url.hostname) return 'has no host';
    if (url.protocol === 'https:') return undefined;
    if (url.protocol === 'http:') return hostAllowed(url) ? undefined : 'must use https';
    return 'must use https';
  }

  /** Checks `url` and resolves its host; every address must pass. Throws OutboundRefused. */
  async function vet(url: URL): Promise<VettedTarget> {
    const problem = urlProblem(url);
    if (problem) throw new OutboundRefused('not_allowed', `the URL ${problem}`);
    const hostname = bare(url.hostname);
    const literal = net.isIP(hostname);
    let addresses: ResolvedAddress[];
    if (literal) {
      addresses = [{ address: hostname, family: literal === 6 ? 6 : 4 }];
    } else {
      try {
        addresses = await lookup(hostname);
      } catch {
        throw new OutboundRefused('unresolvable', `the host ${hostname} could not be resolved`);
      }
      if (addresses.length === 0) throw new OutboundRefused('unresolvable', `the host ${hostname} has no address`);
    }
    const byName = nameAllowed(allow, url);
    for (const { address } of addresses) {
      if (byName || inAddresses(allow, address)) continue;
      if (isSpecialUseAddress(address)) {
        throw new OutboundRefused('not_allowed', literal
          ? `the address ${hostname} is private, loopback or otherwise special-use`
          : `the host ${hostname} resolves to a private, loopback or other special-use address`);
      }
    }
    const first = addresses[0]!;
    return { url, hostname, port: effectivePort(url), address: first.address, family: first.family, addresses };
  }

  return { hostAllowed, urlProblem, vet };
}
export type OutboundGuard = ReturnType<typeof createOutboundGuard>;

/**
 * A `lookup` for node:http / node:https / node:net that answers only with the vetted addresses of `target` (and
 * refuses any other host name), so the connection goes where the guard looked. Handles both call shapes Node
 * uses: one address, or `all: true` (happy eyeballs, `autoSelectFamily`).
 */
export function pinnedLookup(target: VettedTarget): net.LookupFunction {
  return (hostname, options, callback) => {
    const wanted = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
    const usable = target.addresses.filter((a) => wanted === 0 || a.family === wanted);
    if (bare(hostname) !== target.hostname || usable.length === 0) {
      const error: NodeJS.ErrnoException = new Error(`lookup refused for ${hostname}: not the vetted host or family`);
      error.code = 'ENOTFOUND';
      callback(error, '', 0);
      return;
    }
    if (options.all) callback(null, usable.map((a) => ({ address: a.address, family: a.family })));
    else callback(null, usable[0]!.address, usable[0]!.family);
  };
}
