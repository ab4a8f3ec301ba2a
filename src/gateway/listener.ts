import crypto from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../platform/logger.js';
import type { Dialect } from './dialects/index.js';
import { anthropic } from './dialects/anthropic.js';
import { openai } from './dialects/openai.js';

// The gateway's own listener (default 127.0.0.1:8081): what agents and their SDKs talk to. A plain Fastify instance
// apart from the control plane's — no management routes, no OpenAPI, no problem+json: errors here are in the shape
// of the provider API the client speaks, so unmodified SDKs understand them.
// Rules:
// - Bodies arrive unparsed (a Buffer) whatever their content type: each route reads its own format and answers bad
//   input in its own error shape. At most 16 MiB.
// - Every answer carries x-request-id (the client's X-Request-ID when well-formed, else a UUID), nosniff, and
//   Server-Timing (`custos;dur=`).
// - An unknown route is 404 route_not_found in the OpenAI shape (Anthropic's under /v1/messages): nothing is ever
//   forwarded outside the governed routes.

export const GATEWAY_BODY_LIMIT = 16 * 1024 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Which dialect's error shape a path's errors use (before a route has been matched). */
export function dialectForPath(url: string): Dialect {
  return url.startsWith('/v1/messages') ? anthropic : openai;
}

export function createGatewayApp(deps: { logger: Logger; trustProxy?: string[] }): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: GATEWAY_BODY_LIMIT,
    requestIdHeader: false,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    },
    trustProxy: deps.trustProxy && deps.trustProxy.length > 0 ? deps.trustProxy : false,
    routerOptions: { maxParamLength: 200 },
  }) as unknown as FastifyInstance;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    reply.header('x-content-type-options', 'nosniff');
  });
  // Every answer shows the gateway's own time; the call pipeline sets a finer one (without the upstream's wait).
  app.addHook('onSend', async (_req, reply, payload) => {
    if (!reply.hasHeader('server-timing')) reply.header('server-timing', `custos;dur=${reply.elapsedTime.toFixed(3)}`);
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, url: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'gateway request');
  });

  const answer = (req: FastifyRequest, reply: FastifyReply, status: number, code: string, message: string) => {
    void reply.code(status).header('x-custos-reason', code).send(dialectForPath(req.url).errorBody(status, code, message));
  };
  app.setNotFoundHandler((req, reply) => answer(req, reply, 404, 'route_not_found', `no route for ${req.method} ${req.url.split('?')[0]}`));
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = error.statusCode ?? 500;
    if (status === 413) return answer(req, reply, 413, 'body_too_large', `the body exceeds ${GATEWAY_BODY_LIMIT} bytes`);
    if (status >= 400 && status < 500) return answer(req, reply, status, 'invalid_request', 'the request is malformed');
    req.log.error({ err: error }, 'gateway error');
    return answer(req, reply, 503, 'gateway_unavailable', 'the gateway could not complete the call');
  });
  return app;
}
