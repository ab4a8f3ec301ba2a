import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestProvenance } from '../platform/http/pipeline/provenance.js';
import { AppError } from '../platform/http/errors.js';
import type { HttpApp } from '../platform/http/app.js';
import { OAuthError } from './oauth-errors.js';
import type { Introspection } from './introspection.js';
import { authorizationServerMetadata } from './metadata.js';
import type { TokenEndpoint } from './token-endpoint/index.js';

// The OAuth endpoints. They speak OAuth, not the management API: form-encoded bodies (RFC 6749 §3.2), errors in
// the RFC 6749 §5.2 JSON shape, `Cache-Control: no-store` on every token response. They authenticate their own
// callers (client authentication), so the management pipeline does not run on them (`public`).

const FORM = 'application/x-www-form-urlencoded';
const FORM_LIMIT = 64 * 1024;
const tags = ['oauth'];

export interface OAuthRoutesDeps {
  token: TokenEndpoint;
  introspection: Introspection;
  issuer: () => string;
  /** Records a refused token request (auth.failed), best effort. */
  recordRefusal: (req: FastifyRequest, error: OAuthError) => Promise<void>;
  /** What other modules add to the metadata document (the sign-in module's endpoints), read at request time. */
  metadataExtra?: () => Record<string, unknown>;
  /** Revokes tokens of kinds other modules issue (a person's refresh token, which a public client revokes with
   * its client_id alone, RFC 7009 §2.1); returns false when the token is not of its kind. */
  revokeOther?: (params: URLSearchParams, provenance: ReturnType<typeof requestProvenance>) => Promise<boolean>;
}

function sendOAuthError(reply: FastifyReply, error: OAuthError): FastifyReply {
  return reply.code(error.status).headers({ ...error.headers, 'cache-control': 'no-store' }).type('application/json').send(error.toJSON());
}

/** Anything thrown on an OAuth route becomes an OAuth error: the client reads `error`, never problem+json. */
function asOAuthError(error: unknown): OAuthError {
  if (error instanceof OAuthError) return error;
  if (error instanceof AppError) {
    if (error.status === 503) return new OAuthError('temporarily_unavailable', error.message);
    if (error.status >= 500) return new OAuthError('server_error', 'internal error');
    return new OAuthError('invalid_request', error.message);
  }
  const code = (error as { code?: string }).code;
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new OAuthError('invalid_request', `send the parameters as ${FORM}`);
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new OAuthError('invalid_request', 'request body is too large');
  const status = (error as { statusCode?: number }).statusCode;
  if (status !== undefined && status >= 400 && status < 500) return new OAuthError('invalid_request', 'the request could not be read');
  return new OAuthError('server_error', 'internal error');
}

const REFUSALS_RECORDED = new Set(['invalid_client', 'invalid_grant', 'unauthorized_client', 'invalid_dpop_proof']);

export function registerOAuthRoutes(app: HttpApp, deps: OAuthRoutesDeps): void {
  app.get('/.well-known/oauth-authorization-server', {
    config: { public: true },
    schema: { tags, summary: 'Authorization server metadata (RFC 8414)' },
  }, async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(authorizationServerMetadata(deps.issuer(), deps.token.grantTypes(), deps.metadataExtra?.())));

  void app.register(async (scope) => {
    scope.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_req, body, done) => {
      done(null, new URLSearchParams(body as string));
    });
    scope.setErrorHandler(async (error, req, reply) => {
      const oauth = asOAuthError(error);
      if (oauth.code === 'server_error') req.log.error({ err: error }, 'oauth request failed');
      if (REFUSALS_RECORDED.has(oauth.code)) await deps.recordRefusal(req, oauth);
      return sendOAuthError(reply, oauth);
    });

    scope.post('/oauth/token', {
      config: { public: true },
      schema: {
        tags, summary: 'Issue an access token: client_credentials, jwt-bearer (workload federation), token-exchange (delegation)',
        description: `Form-encoded (${FORM}). Client authentication: private_key_jwt, client_secret_basic or client_secret_post. Extra parameters: purpose, expires_in. A DPoP header binds the token to its key.`,
      },
    }, async (req, reply) => {
      const issued = await deps.token.token({ headers: req.headers, body: req.body, provenance: requestProvenance(req) });
      const { jti: _jti, ...body } = issued;
      return reply.headers({ 'cache-control': 'no-store', pragma: 'no-cache' }).send(body);
    });

    scope.post('/oauth/introspect', {
      config: { public: true },
      schema: { tags, summary: 'Token introspection (RFC 7662)', description: `Form-encoded (${FORM}); client authentication or an admin/security operator token.` },
    }, async (req, reply) => reply.header('cache-control', 'no-store').send(await deps.introspection.introspect(req.headers, req.body, requestProvenance(req))));

    scope.post('/oauth/revoke', {
      config: { public: true },
      schema: { tags, summary: 'Token revocation (RFC 7009): the token and every token derived from it', description: `Form-encoded (${FORM}); client authentication or an admin/security operator token.` },
    }, async (req, reply) => {
      const handled = req.body instanceof URLSearchParams && deps.revokeOther ? await deps.revokeOther(req.body, requestProvenance(req)) : false;
      if (!handled) await deps.introspection.revoke(req.headers, req.body, requestProvenance(req));
      return reply.header('cache-control', 'no-store').code(200).send();
    });
  });
}
