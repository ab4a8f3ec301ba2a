// The one rule for a URL the server calls out to or trusts (remote JWKS and issuers, webhooks): absolute, no user
// information, no fragment, https — or plain http only to hosts the caller's rule names (loopback, for development).
// Each caller passes its own loopback rule and the words of its refusal; the checks and their order are shared.

export function outboundUrlProblem(value: string, http: { allows(hostname: string): boolean; refusal: string }): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.username || url.password) return 'must not carry a user name or password';
  if (url.hash || value.includes('#')) return 'must not have a fragment';
  if (url.protocol === 'https:') return url.hostname ? undefined : 'has no host';
  if (url.protocol === 'http:') return http.allows(url.hostname) ? undefined : http.refusal;
  return 'must use https';
}
