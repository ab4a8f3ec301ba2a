import crypto from 'node:crypto';
import http from 'node:http';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Actor } from '../actor.js';
import { AppError, errors, type ErrorCode } from './errors.js';
import { findBadText } from './input-text.js';
import { documentErrors, recordRouteErrors } from './openapi-errors.js';
import type { ManagementPipeline } from './pipeline/index.js';
import type { Logger } from '../logger.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
  }
  interface FastifyContextConfig {
    /** The permission a route needs; every authenticated route must name one. */
    permission?: string;
    /** Open routes (health, docs, OpenAPI, well-known). */
    public?: boolean;
    /** Error codes this route's own rules can answer with, beside the ones every route shares (OpenAPI lists both). */
    errors?: ErrorCode[];
    /** The body carries foreign text on purpose (a scan report names files as found): control characters are
     * allowed and neutralised when printed. Lone surrogates are refused everywhere regardless. */
    foreignText?: boolean;
  }
}

export type HttpApp = FastifyInstance<any, any, any, Logger, ZodTypeProvider>;

export interface HttpDeps {
  logger: Logger;
  version: string;
  /** The management API's request pipeline (pipeline/index.ts): verify the credential, check the permission. */
  pipeline: ManagementPipeline;
  bodyLimit?: number;
  /** Proxies whose X-Forwarded-For is believed (addresses/CIDRs); none by default, so the socket peer is the source. */
  trustProxy?: string[];
}

export const BODY_LIMIT = 1024 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function createHttpApp(deps: HttpDeps): Promise<HttpApp> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.bodyLimit ?? BODY_LIMIT,
    requestIdHeader: false,
    // One log line per request (on response, below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false } },
    trustProxy: deps.trustProxy && deps.trustProxy.length > 0 ? deps.trustProxy : false,
    // Errors Node's HTTP parser raises before any route (headers too large, garbage) get problem+json too.
    clientErrorHandler: clientError,
    routerOptions: { maxParamLength: 200 },
    // Errors the router raises itself (bad URL encoding, over-long path parameters) get problem+json too.
    frameworkErrors: (error, req, reply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      const problem = status === 414 ? new AppError('uri_too_long', 'a path parameter is too long') : new AppError('bad_url', 'the URL is malformed');
      void (reply as unknown as FastifyReply).code(problem.status).type('application/problem+json')
        .send(problem.toProblem(req.url.split('?')[0]));
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    // Nothing Custos serves is meant to be framed or content-sniffed.
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({
      method: req.method,
      url: req.url.split('?')[0],
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      principal: req.actor?.principal?.id ?? null,
    }, 'request');
  });

  const routeErrors = new Map<string, ErrorCode[]>();
  app.addHook('onRoute', recordRouteErrors(routeErrors));
  await app.register(fastifySwagger, {
    transformObject: documentErrors(routeErrors) as never,
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Custos API',
        version: deps.version,
        description: 'AI access governance control plane. Errors are RFC 9457 problem+json with a stable `code`.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Custos operator token (custos_op_...)' } },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  // staticCSP: the UI's pages carry a Content-Security-Policy that allows only its own scripts and styles.
  // No upgrade-insecure-requests: the embedded default serves plain HTTP on loopback, and upgraded asset URLs
  // would break the page. No third-party validator badge either (validatorUrl: null).
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', validatorUrl: null },
    staticCSP: true,
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, '').replace(' validator.swagger.io', '').replace("frame-ancestors 'self'", "frame-ancestors 'none'"),
  });

  // Only JSON bodies are accepted: anything else is 415 before any handler runs.
  app.removeContentTypeParser(['text/plain']);

  // Authentication and the role check run first, before the body is parsed or validated, so an
  // unauthenticated caller learns nothing about the route's input. A route without a permission and not
  // marked public is refused, so forgetting to declare one fails closed. Unknown routes fall through to 404.
  app.addHook('onRequest', async (req) => {
    const config = req.routeOptions.config;
    if (req.routeOptions.url === undefined || config.public || req.url.startsWith('/docs')) return;
    req.actor = await deps.pipeline(req, { permission: config.permission, route: `${req.method} ${req.routeOptions.url}` });
  });

  app.setNotFoundHandler((req, reply) => {
    const err = new AppError('route_not_found', `no route for ${req.method} ${req.url.split('?')[0]}`);
    void reply.code(404).type('application/problem+json').send(err.toProblem(req.url));
  });

  // Text no store or audit event may hold is refused before validation, naming the field (input-text.ts).
  app.addHook('preValidation', async (req) => {
    const allowControls = Boolean(req.routeOptions.config.foreignText);
    for (const [location, value] of [['params', req.params], ['querystring', req.query], ['body', req.body]] as const) {
      const problem = findBadText(value, location, allowControls);
      if (problem) {
        throw errors.validation(`${problem.path}: ${problem.message}`, [{ location, path: problem.path.slice(location.length) || '/', message: problem.message }]);
      }
    }
  });

  app.setErrorHandler((error, req, reply) => {
    const problem = toAppError(error, req);
    if (problem.status >= 500) req.log.error({ err: error }, 'request failed');
    // RFC 6750 §3 / RFC 9449 §7.1: a 401 names the scheme it wants; a presented but refused token is
    // `invalid_token`, a bad or missing DPoP proof `invalid_dpop_proof`, a missing nonce `use_dpop_nonce`.
    const challenge = wwwAuthenticate(problem, req.headers.authorization);
    if (challenge) reply.header('www-authenticate', challenge);
    reply.headers(problem.headers);
    void reply.code(problem.status).type('application/problem+json').send(problem.toProblem(req.url.split('?')[0]));
  });

  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  return app;
}

const DPOP_ALGS = 'EdDSA Ed25519 ES256 ES384 PS256 RS256';

function wwwAuthenticate(problem: AppError, authorization: string | undefined): string | undefined {
  const usedDpop = /^dpop /i.test(authorization ?? '');
  switch (problem.code) {
    case 'unauthenticated':
      if (!authorization) return `Bearer realm="custos", DPoP algs="${DPOP_ALGS}"`;
      return usedDpop ? `DPoP error="invalid_token", algs="${DPOP_ALGS}"` : 'Bearer realm="custos", error="invalid_token"';
    case 'invalid_dpop_proof':
      return `DPoP error="invalid_dpop_proof", algs="${DPOP_ALGS}"`;
    case 'use_dpop_nonce':
      return `DPoP error="use_dpop_nonce", algs="${DPOP_ALGS}"`;
    case 'insufficient_scope':
      return `${usedDpop ? 'DPoP' : 'Bearer'} error="insufficient_scope"`;
    default:
      return undefined;
  }
}

function toAppError(error: unknown, req: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => ({
      location: error.validationContext ?? 'body',
      path: v.instancePath || '/',
      message: v.message,
    }));
    const first = issues[0];
    return errors.validation(
      first ? `${first.location}${first.path === '/' ? '' : first.path}: ${first.message}` : 'request is invalid',
      issues,
    );
  }
  if (isResponseSerializationError(error)) {
    req.log.error({ issues: error.cause.issues }, 'response failed its schema');
    return new AppError('internal_error', 'the server produced an invalid response');
  }
  const fastifyCode = (error as { code?: string }).code;
  switch (fastifyCode) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('body_too_large', 'request body exceeds the size limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'send application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.validation('request body is empty; send a JSON object');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('malformed_json', 'request body is not valid JSON');
    default:
      break;
  }
  if (isStoreFailure(error)) {
    req.log.error({ err: error }, 'store failure');
    return new AppError('store_unavailable', 'the store is unavailable; nothing was changed');
  }
  if (error instanceof SyntaxError) return new AppError('malformed_json', 'request body is not valid JSON');
  const status = (error as { statusCode?: number }).statusCode;
  if (status && status >= 400 && status < 500) return new AppError('bad_request', (error as Error).message);
  return new AppError('internal_error', 'internal error; see the server log for the request id');
}

/** Errors raised by SQLite or PostgreSQL (or the connection to it) mean the store, not the request, failed. */
function isStoreFailure(error: unknown): boolean {
  const e = error as { code?: unknown; severity?: unknown; name?: string; message?: unknown };
  // Kysely's own refusal once the store was closed under us (shutting down, or a lost SQLite handle).
  if (typeof e?.message === 'string' && e.message.includes('driver has already been destroyed')) return true;
  if (typeof e?.code !== 'string') return e?.name === 'SqliteError';
  return e.code.startsWith('SQLITE_') || (typeof e.severity === 'string' && /^[0-9A-Z]{5}$/.test(e.code))
    || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01'].includes(e.code);
}

/** Problem+json for what Node's HTTP parser refuses before Fastify sees a request (RFC 9457 shape, then close). */
function clientError(this: FastifyInstance, err: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const problem = err.code === 'HPE_HEADER_OVERFLOW' ? new AppError('headers_too_large', 'request headers exceed the size limit')
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? new AppError('request_timeout', 'the request was not received in time')
      : new AppError('bad_request', 'the request could not be parsed');
  const body = JSON.stringify(problem.toProblem());
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${problem.status} ${http.STATUS_CODES[problem.status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/problem+json\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}
