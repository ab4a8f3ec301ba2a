// The gateway as an OAuth protected resource (RFC 9728, RFC 6750 §3): the metadata document each of its resources
// publishes, and the challenge a refused call carries, for the model API and for every MCP endpoint alike.
//
// Rules:
// - The `resource` of a document is the identifier tokens for it must carry as `aud` (RFC 8707): the gateway's public
//   base URL for the model API, `<gateway>/mcp/<server>` for an MCP endpoint. The authorization server is Custos's
//   issuer. Bearer tokens go in the Authorization header only; DPoP-bound ones are accepted too.
// - The document of a resource whose identifier has a path lives at `/.well-known/oauth-protected-resource<path>`
//   (RFC 9728 §3.1), so `<gateway>/mcp/db` publishes at `<gateway>/.well-known/oauth-protected-resource/mcp/db`.
// - A challenge names the metadata URL (`resource_metadata`), the scopes that would do (`scope`), and, when a
//   credential was presented, `error` and a short description. Its quoted values never contain a quote or a
//   backslash (they are URLs, scope tokens and our own fixed texts, stripped of both).

export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: string[];
  scopes_supported?: string[];
  resource_name?: string;
  dpop_signing_alg_values_supported: string[];
  resource_documentation?: string;
}

export function protectedResourceMetadata(input: { resource: string; issuer: string; name: string; scopes?: string[] }): ProtectedResourceMetadata {
  return {
    resource: input.resource,
    authorization_servers: [input.issuer],
    bearer_methods_supported: ['header'],
    ...(input.scopes?.length ? { scopes_supported: input.scopes } : {}),
    resource_name: input.name,
    dpop_signing_alg_values_supported: ['EdDSA', 'ES256', 'RS256', 'PS256'],
  };
}

/** Where the metadata of `resource` (an absolute URL) is published on its own origin. */
export function metadataUrlFor(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

const quoted = (v: string) => `"${v.replace(/["\\\r\n]/g, '')}"`;

/** `Bearer resource_metadata="…", scope="…", error="…", error_description="…"` (RFC 6750 §3, RFC 9728 §5.1). */
export function bearerChallenge(input: { resource: string; scopes?: string[]; error?: 'invalid_token' | 'insufficient_scope' | 'invalid_request'; description?: string }): string {
  const parts = [`resource_metadata=${quoted(metadataUrlFor(input.resource))}`];
  if (input.scopes?.length) parts.push(`scope=${quoted(input.scopes.join(' '))}`);
  if (input.error) parts.push(`error=${quoted(input.error)}`);
  if (input.description) parts.push(`error_description=${quoted(input.description.slice(0, 200))}`);
  return `Bearer ${parts.join(', ')}`;
}
