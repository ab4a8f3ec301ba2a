// The URL a request was addressed to, as the client addressed it: the configured public base URL and the request
// path, without the query or fragment. Never the Host header or an absolute-form target's authority (a client
// could name any host there). A DPoP proof's `htu` is compared with it.

export function requestUrlFor(publicBaseUrl: string, rawUrl: string): string {
  const base = publicBaseUrl.replace(/\/+$/, '');
  // An absolute-form request target (RFC 9112 §3.2.2) gives only its path; the authority is ours, not the client's.
  const target = rawUrl.startsWith('/') ? rawUrl : rawUrl.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
  const path = target.split(/[?#]/, 1)[0] ?? '';
  return `${base}${path.startsWith('/') ? path : `/${path}`}`;
}
