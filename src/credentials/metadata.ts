import { DEFAULT_DPOP_ALGORITHMS } from './dpop/index.js';
import { tokenEndpointUrl } from './token-endpoint/index.js';

// RFC 8414 authorization server metadata at /.well-known/oauth-authorization-server: every endpoint and
// capability the token service has. `response_types_supported` is REQUIRED by RFC 8414 and the MCP SDKs;
// it is empty unless the sign-in module adds the authorization endpoint (with `code`); other modules add what
// they serve (`extra`), so the document never advertises an endpoint that is not there.

const CLIENT_AUTH = ['private_key_jwt', 'client_secret_basic', 'client_secret_post'];
const ASSERTION_ALGS = ['EdDSA', 'Ed25519', 'ES256', 'ES384', 'RS256', 'PS256'];

export function authorizationServerMetadata(issuer: string, grantTypes: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    issuer,
    token_endpoint: tokenEndpointUrl(issuer),
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    introspection_endpoint: `${issuer}/oauth/introspect`,
    grant_types_supported: grantTypes,
    response_types_supported: [],
    token_endpoint_auth_methods_supported: CLIENT_AUTH,
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    revocation_endpoint_auth_methods_supported: CLIENT_AUTH,
    revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    introspection_endpoint_auth_methods_supported: [...CLIENT_AUTH, 'bearer'],
    introspection_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    dpop_signing_alg_values_supported: [...DEFAULT_DPOP_ALGORITHMS],
    service_documentation: `${issuer}/docs`,
  };
  return { ...base, ...extra };
}
