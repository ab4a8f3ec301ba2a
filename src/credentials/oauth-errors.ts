// OAuth endpoints answer errors in the RFC 6749 §5.2 JSON shape ({ error, error_description }), not
// problem+json: OAuth clients (oauth4webapi, openid-client, the MCP SDKs) read `error`. The codes are the
// RFCs' own; each maps to its status. `invalid_client` is 401 with a WWW-Authenticate challenge when the
// client tried HTTP Basic (RFC 6749 §5.2).

export const OAUTH_ERROR_STATUS = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400, // RFC 8707 §2
  invalid_dpop_proof: 400, // RFC 9449 §5
  use_dpop_nonce: 400, // RFC 9449 §8
  unsupported_token_type: 400, // RFC 7009 §2.2.1
  authorization_pending: 400, // RFC 8628 §3.5 (device grant)
  slow_down: 400,
  access_denied: 400,
  expired_token: 400,
  server_error: 500,
  temporarily_unavailable: 503,
} as const;

export type OAuthErrorCode = keyof typeof OAUTH_ERROR_STATUS;

export class OAuthError extends Error {
  readonly status: number;
  /** Response headers the error needs (WWW-Authenticate for Basic clients, DPoP-Nonce). */
  readonly headers: Record<string, string>;
  constructor(readonly code: OAuthErrorCode, description: string, headers: Record<string, string> = {}) {
    super(description);
    this.name = 'OAuthError';
    this.status = OAUTH_ERROR_STATUS[code];
    this.headers = headers;
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.message };
  }
}
