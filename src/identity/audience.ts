// Resource audience identifiers (RFC 8707 resource indicators): which URIs a resource may carry as its `uri`,
// the `aud` value tokens for it carry, and how a requested indicator is read. Pure functions.
//
// Rules:
//   - A resource's `uri` is an absolute URI: `http(s)://host…` (parsable, a host, no user info) or
//     `urn:<nid>:<nss>` (RFC 8141 NID shape); printable ASCII only, at most 2048 characters, no fragment
//     (RFC 8707 §2: MUST NOT; a query is allowed, the RFC only advises against it).
//   - The scheme is written in lower case, and URIs are compared exactly as written (no normalisation), so
//     the value a client sends as `resource` is the value tokens carry in `aud`.
//   - `urn:custos:` is reserved: `urn:custos:resource:<name>` is every resource's built-in indicator, so no
//     resource may claim a URI in that namespace (it could shadow another resource's name).
//   - A resource without a `uri` has the audience `urn:custos:resource:<name>`.

export const MAX_URI_LENGTH = 2048;
export const CUSTOS_RESOURCE_URN = 'urn:custos:resource:';

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
const URN = /^urn:[A-Za-z0-9][A-Za-z0-9-]{0,30}[A-Za-z0-9]:.+$/;

/** Why `value` cannot be a resource's `uri`; undefined when it can. */
export function resourceUriProblem(value: string): string | undefined {
  if (value.length > MAX_URI_LENGTH) return `at most ${MAX_URI_LENGTH} characters`;
  if (!PRINTABLE_ASCII.test(value)) return 'printable ASCII without spaces only (percent-encode anything else)';
  if (value.includes('#')) return 'a resource indicator must not contain a fragment (#)';
  if (value.startsWith('urn:')) {
    if (!URN.test(value)) return 'a URN is urn:<namespace>:<name>, the namespace 2-32 letters, digits or hyphens';
    if (/^urn:custos:/i.test(value)) return 'the urn:custos: namespace is reserved (every resource already answers to urn:custos:resource:<name>)';
    return undefined;
  }
  if (!value.startsWith('https://') && !value.startsWith('http://')) return 'must be an absolute http(s) URI or a urn: (scheme in lower case)';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not a valid URI';
  }
  if (!url.hostname) return 'an http(s) URI needs a host';
  if (url.username || url.password) return 'must not carry user information';
  return undefined;
}

/** The `aud` value tokens for a resource carry. */
export function audienceOf(resource: { name: string; uri: string | null }): string {
  return resource.uri ?? `${CUSTOS_RESOURCE_URN}${resource.name}`;
}

export type Indicator = { by: 'uri'; uri: string } | { by: 'name'; name: string };

/**
 * How a requested resource indicator is looked up: `urn:custos:resource:<name>` and a bare name (no colon: names
 * are DNS labels) by name; any other absolute URI by exact `uri`. Undefined for what can match nothing (empty,
 * too long, `urn:custos:resource:` with nothing after it).
 */
export function parseIndicator(indicator: string): Indicator | undefined {
  if (indicator.length === 0 || indicator.length > MAX_URI_LENGTH) return undefined;
  if (indicator.startsWith(CUSTOS_RESOURCE_URN)) {
    const name = indicator.slice(CUSTOS_RESOURCE_URN.length);
    return name && !name.includes(':') ? { by: 'name', name } : undefined;
  }
  return indicator.includes(':') ? { by: 'uri', uri: indicator } : { by: 'name', name: indicator };
}
