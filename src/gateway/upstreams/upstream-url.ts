import net from 'node:net';

// Where an upstream may point. The gateway sends the provider key and every prompt to the base URL, so the rule
// keeps both off plain-text links to the internet while still allowing the local model servers (vLLM, Ollama, a
// llama.cpp server) that commonly listen on plain http on this machine or a private network.
//
// Rules (pure; the service answers a problem with 422 invalid_upstream naming the rule, never echoing the URL —
// a URL given by mistake with a key in it must not come back in an error):
// - An absolute URL of at most MAX_BASE_URL_LENGTH characters, without spaces or control characters.
// - https with a host; or http only to a host that is a loopback or private address written as such: IPv4
//   127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16; IPv6 ::1 and fc00::/7 (unique local), IPv4-mapped
//   forms of those; or the name `localhost` itself. A name that merely resolves to such an address does not count
//   (DNS decides that later, and can change its mind): use https, or the address. Link-local addresses
//   (169.254.0.0/16 — cloud metadata services — and fe80::/10), 0.0.0.0 and carrier-grade NAT space are refused.
// - No user name or password (credentials in a URL end up in logs, lists and audit events: the key has its own
//   write-only field), no query (Azure OpenAI's `api-version` is the `api_version` setting) and no fragment.
// - Any other scheme is refused.
// The accepted URL is normalised (WHATWG parsing: lower-case scheme and host, default port dropped, numeric IPv4
// forms as dotted quads, dot segments resolved) and loses its trailing slashes: the forwarding step appends the
// provider's own paths (`/chat/completions`, `/messages`, …) to it.

export const MAX_BASE_URL_LENGTH = 2000;

const PRIVATE = new net.BlockList();
for (const [address, prefix] of [['127.0.0.0', 8], ['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) {
  PRIVATE.addSubnet(address, prefix, 'ipv4');
}
PRIVATE.addAddress('::1', 'ipv6');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');

/** Whether a URL's hostname (as `URL.hostname` gives it: IPv6 in brackets) is a loopback or private address. */
export function isPrivateHost(hostname: string): boolean {
  if (hostname === 'localhost') return true;
  if (net.isIPv4(hostname)) return PRIVATE.check(hostname, 'ipv4');
  if (hostname.startsWith('[') && hostname.endsWith(']')) {
    const inner = hostname.slice(1, -1);
    // IPv4-mapped addresses (::ffff:10.0.0.1) are checked against the IPv4 ranges by BlockList itself.
    return net.isIPv6(inner) && PRIVATE.check(inner, 'ipv6');
  }
  return false;
}

export type BaseUrlResult = { ok: true; url: string } | { ok: false; problem: string };

/** The normalised base URL, or what is wrong with `value` (phrased to follow "base_url …"). */
export function normaliseBaseUrl(value: string): BaseUrlResult {
  const fail = (problem: string): BaseUrlResult => ({ ok: false, problem });
  if (value.length > MAX_BASE_URL_LENGTH) return fail(`is longer than ${MAX_BASE_URL_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(value)) return fail('must not contain spaces or control characters');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail('is not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return fail('must use https (plain http only to a loopback or private address)');
  if (url.username || url.password || value.includes('@')) return fail('must not carry a user name or password (give the key in `key`)');
  if (url.hash || value.includes('#')) return fail('must not have a fragment');
  if (url.search || value.includes('?')) return fail('must not have a query (Azure OpenAI\'s api-version is `api_version`)');
  if (!url.hostname) return fail('has no host');
  if (url.protocol === 'http:' && !isPrivateHost(url.hostname)) {
    return fail('must use https; plain http only to a loopback or private address (127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, [::1], fc00::/7, localhost)');
  }
  return { ok: true, url: `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}` };
}
