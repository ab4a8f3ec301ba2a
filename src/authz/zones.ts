import net from 'node:net';

// Network zones: the configured CIDR lists (`--network-zones office=10.0.0.0/8;vpn=100.64.0.0/10`) and the one
// rule that names the zone of a source address for `context.provenance.zone`. Policies write
// `context.provenance.zone == "office"`, so a wrong answer here is a wrong decision: the rules are few and exact.
//
// Rules:
// - A zone is a name (lowercase letters, digits, `-`, `_`, `.`; 1-63 characters, starting with a letter or digit) and
//   one or more CIDRs, IPv4 or IPv6. A bare address is a /32 (IPv4) or /128 (IPv6). Host bits are ignored
//   (10.1.2.3/8 is 10.0.0.0/8), as node:net's BlockList does.
// - The most specific CIDR wins (longest prefix), whatever the order zones are listed in: `office=10.0.0.0/8` and
//   `lab=10.20.0.0/16` give 10.20.1.1 to `lab` and 10.30.1.1 to `office`. The same network in two zones would
//   make the answer depend on order, so it is refused when the matcher is built (as are duplicate zone names).
// - An IPv4-mapped IPv6 address (::ffff:10.0.0.1, what a dual-stack listener reports) is its IPv4 address. An IPv6
//   scope suffix (%eth0) is dropped. Nothing else is rewritten: IPv4 CIDRs never match IPv6 addresses.
// - An address that is missing, not an IP address, or in no zone has the zone "" (policies see a string, never a
//   missing attribute).
// - Matching is a scan over the CIDRs from the longest prefix down (node:net BlockList per CIDR); the list is
//   bounded by MAX_ZONE_CIDRS so a lookup stays cheap.

export interface NetworkZone {
  name: string;
  cidrs: string[];
}

export const ZONE_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
export const MAX_ZONES = 64;
export const MAX_ZONE_CIDRS = 1024;

export interface Cidr {
  family: 'ipv4' | 'ipv6';
  address: string;
  prefix: number;
}

/** The address with an IPv4-mapped IPv6 form turned into IPv4 and a scope suffix dropped; undefined if not an IP. */
export function normaliseAddress(value: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  let address = value.trim();
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  const percent = address.indexOf('%');
  if (percent > 0) address = address.slice(0, percent);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped && net.isIPv4(mapped[1]!)) return { address: mapped[1]!, family: 'ipv4' };
  if (net.isIPv4(address)) return { address, family: 'ipv4' };
  if (net.isIPv6(address)) return { address, family: 'ipv6' };
  return undefined;
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a bare address; undefined when it is none of those. */
export function parseCidr(text: string): Cidr | undefined {
  const parts = text.trim().split('/');
  if (parts.length > 2) return undefined;
  const [addr, bits] = parts as [string, string | undefined];
  const family = net.isIPv4(addr) ? 'ipv4' : net.isIPv6(addr) ? 'ipv6' : undefined;
  if (!family || addr.includes('%')) return undefined;
  const max = family === 'ipv4' ? 32 : 128;
  if (bits === undefined) return { family, address: addr, prefix: max };
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return undefined;
  return { family, address: addr, prefix: Number(bits) };
}

/** Why this zone list cannot be used (each problem one line), or [] when it can. */
export function zoneProblems(zones: readonly NetworkZone[]): string[] {
  const problems: string[] = [];
  if (zones.length > MAX_ZONES) problems.push(`at most ${MAX_ZONES} zones`);
  const total = zones.reduce((n, z) => n + z.cidrs.length, 0);
  if (total > MAX_ZONE_CIDRS) problems.push(`at most ${MAX_ZONE_CIDRS} CIDRs in all`);
  const seen = new Set<string>();
  const entries: Array<{ zone: string; cidr: Cidr; text: string; list: net.BlockList }> = [];
  for (const zone of zones) {
    if (!ZONE_NAME.test(zone.name)) problems.push(`zone name '${zone.name}' must be lowercase letters, digits, - _ . (1-63 characters)`);
    if (seen.has(zone.name)) problems.push(`zone '${zone.name}' is given twice`);
    seen.add(zone.name);
    if (zone.cidrs.length === 0) problems.push(`zone '${zone.name}' has no CIDR`);
    for (const text of zone.cidrs) {
      const cidr = parseCidr(text);
      if (!cidr) {
        problems.push(`zone '${zone.name}': '${text}' is not an IP address or CIDR (10.0.0.0/8, 2001:db8::/32)`);
        continue;
      }
      const list = new net.BlockList();
      list.addSubnet(cidr.address, cidr.prefix, cidr.family);
      const same = entries.find((e) => e.cidr.family === cidr.family && e.cidr.prefix === cidr.prefix && e.list.check(cidr.address, cidr.family));
      if (same) {
        problems.push(same.zone === zone.name
          ? `zone '${zone.name}' lists the network ${text} twice`
          : `the network ${text} is in both '${same.zone}' (${same.text}) and '${zone.name}': the zone of an address in it would depend on order`);
      }
      entries.push({ zone: zone.name, cidr, text, list });
    }
  }
  return problems;
}

export type ZoneMatcher = (address: string | null | undefined) => string;

/** Builds the lookup; throws (naming every problem) when the list is invalid. */
export function createZoneMatcher(zones: readonly NetworkZone[]): ZoneMatcher {
  const problems = zoneProblems(zones);
  if (problems.length > 0) throw new Error(`invalid network zones: ${problems.join('; ')}`);
  const entries = zones.flatMap((zone) => zone.cidrs.map((text) => {
    const cidr = parseCidr(text)!;
    const list = new net.BlockList();
    list.addSubnet(cidr.address, cidr.prefix, cidr.family);
    return { zone: zone.name, family: cidr.family, prefix: cidr.prefix, list };
  }));
  // Longest prefix first; Array.prototype.sort is stable, but equal prefixes of one family never overlap here.
  entries.sort((a, b) => b.prefix - a.prefix);
  if (entries.length === 0) return () => '';
  return (value) => {
    if (!value) return '';
    const address = normaliseAddress(value);
    if (!address) return '';
    for (const e of entries) {
      if (e.family === address.family && e.list.check(address.address, address.family)) return e.zone;
    }
    return '';
  };
}
