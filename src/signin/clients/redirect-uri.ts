// Redirect URIs of OAuth clients for people: which ones a client may register, and whether the one an
// authorization request presents is one of them. Pure functions; the exact tests are beside this file.
//
// Matching (redirectUriMatches), RFC 9700 §4.1.3 and RFC 6749 §3.1.2.3:
// - Exact string comparison with a registered URI: no prefix, pattern, wildcard, case folding or URL
//   normalisation (`/cb` ≠ `/cb/` ≠ `/CB`, `?a=1` ≠ `?a=2`, `:8443` ≠ `:443`), because every normalisation rule
//   is a place where the matcher and the browser can disagree about where the code goes.
// - One exception, RFC 8252 §7.3: a registered plain-http loopback IP literal (`http://127.0.0.1/…` or
//   `http://[::1]/…`) matches the same URI with any port, or none, since a native app listens on whatever
//   port the system gives it. Only the port may differ: the host (127.0.0.1 and [::1] are not interchangeable),
//   path and query must be exactly the registered ones. A port in the registration is ignored the same way.
// - `localhost` gets no any-port allowance: RFC 8252 §8.3 says loopback redirects SHOULD use an IP literal,
//   since a name may resolve elsewhere (a hosts file, a firewall's DNS) and listening on it may bind a
//   non-loopback interface. A `http://localhost…` registration is accepted (some tools insist on it) but is
//   matched exactly, port included, like any other URI; register 127.0.0.1 or [::1] to get any port.
//
// What may be registered (validateRedirectUri; null = acceptable, else a one-line reason):
// - A string of at most 2000 characters made only of the characters RFC 3986 allows (percent-encode anything
//   else: spaces, quotes, backslashes, non-ASCII), every `%` followed by two hex digits.
// - Absolute, with a lowercase scheme; no fragment (RFC 6749 §3.1.2); no user information (`user@host`,
//   which makes a URI read as one host and go to another).
// - https with a host; or plain http only to 127.0.0.1, [::1] or localhost, written exactly so (`127.1` or
//   `0x7f.0.0.1` reach the same address through a URL parser but not through an exact match); or a private-use
//   scheme in reverse-domain form, i.e. containing a dot (`com.example.app:/callback`, RFC 8252 §7.1).
//   Anything else (`javascript:`, `data:`, `file:`, a dotless `myapp:`) is refused.
// - A port, when written, is 1-65535 without leading zeros.

export const MAX_REDIRECT_URI_LENGTH = 2000;
export const LOOPBACK_IP_HOSTS = ['127.0.0.1', '[::1]'] as const;
const HTTP_HOSTS = new Set<string>([...LOOPBACK_IP_HOSTS, 'localhost']);

/** RFC 3986 characters: unreserved, reserved and '%'. */
const URI_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const HOST_PORT = /^(\[[^\]]*\]|[^:[\]]*)(?::([^:]*))?$/;
/** A plain-http loopback IP literal: host, optional port, then the path and query (never a fragment). */
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::([0-9]+))?([/?][^#]*)?$/;

function validPort(port: string): boolean {
  return /^[1-9][0-9]{0,4}$/.test(port) && Number(port) <= 65535;
}

/** Host, port and the rest of a loopback IP redirect URI; undefined for any other URI. */
function loopbackParts(uri: string): { host: string; rest: string } | undefined {
  const m = LOOPBACK.exec(uri);
  if (!m) return undefined;
  if (m[2] !== undefined && !validPort(m[2])) return undefined;
  return { host: m[1]!, rest: m[3] ?? '' };
}

/** True when `uri` is a plain-http loopback IP literal redirect (the kind that matches with any port). */
export function isLoopbackIpRedirect(uri: string): boolean {
  return loopbackParts(uri) !== undefined;
}

/** Whether an authorization request's redirect_uri is one of the client's registered ones (rules above). */
export function redirectUriMatches(registered: readonly string[], presented: string): boolean {
  if (typeof presented !== 'string' || presented.length === 0 || presented.length > MAX_REDIRECT_URI_LENGTH) return false;
  const asLoopback = loopbackParts(presented);
  for (const r of registered) {
    if (r === presented) return true;
    if (!asLoopback) continue;
    const reg = loopbackParts(r);
    if (reg && reg.host === asLoopback.host && reg.rest === asLoopback.rest) return true;
  }
  return false;
}

/** null when `uri` may be registered as a redirect URI, else why not (one line, for a person). */
export function validateRedirectUri(uri: string): string | null {
  if (typeof uri !== 'string' || uri.length === 0) return 'is empty';
  if (uri.length > MAX_REDIRECT_URI_LENGTH) return `is longer than ${MAX_REDIRECT_URI_LENGTH} characters`;
  if (!URI_CHARS.test(uri)) return 'holds characters a URI may not (spaces, quotes, backslashes, non-ASCII…); percent-encode them';
  if (BAD_PERCENT.test(uri)) return 'has a \'%\' that is not followed by two hexadecimal digits';
  if (uri.includes('#')) return 'must not have a fragment (RFC 6749 §3.1.2)';
  const m = SCHEME.exec(uri);
  if (!m) return 'is not an absolute URI (it needs a scheme, such as https:)';
  const scheme = m[1]!;
  if (scheme !== scheme.toLowerCase()) return `has the scheme '${scheme}'; write it in lowercase`;
  const rest = uri.slice(scheme.length + 1);
  if (rest.length === 0) return 'has nothing after its scheme';
  let host: string | undefined;
  if (rest.startsWith('//')) {
    const end = rest.slice(2).search(/[/?]/);
    const authority = end === -1 ? rest.slice(2) : rest.slice(2, 2 + end);
    if (authority.includes('@')) return 'must not carry user information (user@host)';
    const hp = HOST_PORT.exec(authority);
    if (!hp) return 'has a malformed host';
    host = hp[1]!;
    const port = hp[2];
    if (port !== undefined && !validPort(port)) return `has the port '${port}'; a port is 1-65535 without leading zeros`;
  }

  // Last, whatever the rules above let through must also be a URL a browser can follow.
  try {
    new URL(uri);
  } catch {
    return 'is not a valid URI';
  }

  if (scheme === 'https') return host ? null : 'has no host';
  if (scheme === 'http') {
    if (host !== undefined && HTTP_HOSTS.has(host)) return null;
    return 'must use https (plain http only to 127.0.0.1, [::1] or localhost, written exactly so; RFC 8252 §7.3)';
  }
  if (!scheme.includes('.')) {
    return `uses the scheme '${scheme}:', which is not https, loopback http, or a private-use scheme in reverse-domain form such as com.example.app (RFC 8252 §7.1)`;
  }
  return null;
}
