import crypto from 'node:crypto';
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
import type { Actor, Provenance } from '../actor.js';
import { AppError, errors } from './errors.js';
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
  }
}

export type HttpApp = FastifyInstance<any, any, any, Logger, ZodTypeProvider>;

export interface HttpDeps {
  logger: Logger;
  version: string;
  /** Resolves the bearer token to an actor or throws AppError(401). */
  authenticate(token: string | undefined, provenance: Provenance): Promise<Actor>;
  /** Role check shared by every route (and therefore by the CLI, which only talks to the API). */
  authorize(actor: Actor, permission: string): boolean;
  /** Records a refused call (a deny decision) before the 403 is sent. */
  onDenied?(actor: Actor, permission: string, route: string): Promise<void>;
  bodyLimit?: number;
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
    routerOptions: { maxParamLength: 200 },
    // Errors the router raises itself (bad URL encoding, over-long path parameters) get problem+json too.
    frameworkErrors: (error, req, reply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      const code = status === 414 ? 'uri_too_long' : 'bad_url';
      void (reply as unknown as FastifyReply).code(status).type('application/problem+json')
        .send(new AppError(status, code, status === 414 ? 'a path parameter is too long' : 'the URL is malformed').toProblem(req.url.split('?')[0]));
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({
      method: req.method,
      url: req.url.split('?')[0],
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      principal: req.actor?.principalId ?? null,
    }, 'request');
  });

  await app.register(fastifySwagger, {
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
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });

  // Only JSON bodies are accepted: anything else is 415 before any handler runs.
  app.removeContentTypeParser(['text/plain']);

  // Authentication and the role check run first, before the body is parsed or validated, so an
  // unauthenticated caller learns nothing about the route's input. A route without a permission and not
  // marked public is refused, so forgetting to declare one fails closed. Unknown routes fall through to 404.
  app.addHook('onRequest', async (req) => {
    const config = req.routeOptions.config;
    if (req.routeOptions.url === undefined || config.public || req.url.startsWith('/docs')) return;
    req.actor = await deps.authenticate(bearerToken(req), provenanceOf(req));
    if (!config.permission) throw errors.forbidden('route has no declared permission');
    if (!deps.authorize(req.actor, config.permission)) {
      await deps.onDenied?.(req.actor, config.permission, `${req.method} ${req.routeOptions.url}`);
      throw errors.forbidden(`role '${req.actor.role}' lacks permission '${config.permission}'`);
    }
  });

  app.setNotFoundHandler((req, reply) => {
    const err = new AppError(404, 'route_not_found', `no route for ${req.method} ${req.url.split('?')[0]}`);
    void reply.code(404).type('application/problem+json').send(err.toProblem(req.url));
  });

  app.setErrorHandler((error, req, reply) => {
    const problem = toAppError(error, req);
    if (problem.status >= 500) req.log.error({ err: error }, 'request failed');
    void reply.code(problem.status).type('application/problem+json').send(problem.toProblem(req.url.split('?')[0]));
  });

  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  return app;
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
    return new AppError(500, 'internal_error', 'the server produced an invalid response');
  }
  const fastifyCode = (error as { code?: string }).code;
  switch (fastifyCode) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError(413, 'body_too_large', 'request body exceeds the size limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(415, 'unsupported_media_type', 'send application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.validation('request body is empty; send a JSON object');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError(400, 'malformed_json', 'request body is not valid JSON');
    default:
      break;
  }
  if (isStoreFailure(error)) {
    req.log.error({ err: error }, 'store failure');
    return new AppError(503, 'store_unavailable', 'the store is unavailable; nothing was changed');
  }
  if (error instanceof SyntaxError) return new AppError(400, 'malformed_json', 'request body is not valid JSON');
  const status = (error as { statusCode?: number }).statusCode;
  if (status && status >= 400 && status < 500) return new AppError(status, 'bad_request', (error as Error).message);
  return new AppError(500, 'internal_error', 'internal error; see the server log for the request id');
}

/** Errors raised by SQLite or PostgreSQL (or the connection to it) mean the store, not the request, failed. */
function isStoreFailure(error: unknown): boolean {
  const e = error as { code?: unknown; severity?: unknown; name?: string };
  if (typeof e?.code !== 'string') return e?.name === 'SqliteError';
  return e.code.startsWith('SQLITE_') || (typeof e.severity === 'string' && /^[0-9A-Z]{5}$/.test(e.code))
    || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01'].includes(e.code);
}

function bearerToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  // The scheme name is case-insensitive (RFC 9110 §11.1).
  const match = /^bearer ([\x21-\x7e]{1,512})$/i.exec(header);
  if (!match) throw errors.unauthenticated('Authorization header must be "Bearer <token>"');
  return match[1];
}

function provenanceOf(req: FastifyRequest): Provenance {
  const traceparent = req.headers.traceparent;
  const trace = typeof traceparent === 'string' ? /^[0-9a-f]{2}-([0-9a-f]{32})-/.exec(traceparent)?.[1] ?? null : null;
  const ua = req.headers['user-agent'];
  return {
    sourceIp: req.ip ?? null,
    requestId: String(req.id),
    traceId: trace,
    userAgent: typeof ua === 'string' ? ua.slice(0, 256) : null,
  };
}
