import type { RouteOptions } from 'fastify';
import { ERROR_CODES, type ErrorCode } from './errors.js';

// The OpenAPI document lists, for every operation, the error codes it can answer with: the ones every route
// of its shape shares (authentication, validation, store) and the ones its own rules add (`config.errors`).
// Codes are grouped by HTTP status into problem+json responses whose `code` is an enum of exactly those codes.

type RouteErrors = Map<string, ErrorCode[]>;

const key = (method: string, url: string) => `${method.toLowerCase()} ${url}`;

/** The codes a route can answer with by its shape alone. */
export function sharedErrorCodes(route: Pick<RouteOptions, 'method' | 'schema' | 'config'>): ErrorCode[] {
  const config = (route.config ?? {}) as { public?: boolean };
  const schema = (route.schema ?? {}) as { params?: unknown; querystring?: { shape?: Record<string, unknown> }; body?: unknown };
  const codes: ErrorCode[] = [];
  if (!config.public) codes.push('unauthenticated', 'invalid_dpop_proof', 'use_dpop_nonce', 'forbidden', 'insufficient_scope', 'headers_too_large');
  if (schema.params || schema.querystring || schema.body) codes.push('validation_failed');
  if (schema.querystring?.shape && 'cursor' in schema.querystring.shape) codes.push('invalid_cursor');
  if (schema.body) codes.push('malformed_json', 'body_too_large', 'unsupported_media_type');
  if (!config.public) codes.push('store_unavailable');
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  // Every governed change is recorded first: it fails when the log cannot be written or failed its integrity check.
  if (!config.public && methods.some((m) => m !== 'GET' && m !== 'HEAD')) codes.push('audit_unavailable', 'audit_integrity_failed');
  codes.push('internal_error');
  return codes;
}

/** onRoute hook: remembers each route's codes for the document. */
export function recordRouteErrors(table: RouteErrors) {
  return (route: RouteOptions) => {
    const own = ((route.config ?? {}) as { errors?: ErrorCode[] }).errors ?? [];
    const codes = [...new Set([...sharedErrorCodes(route), ...own])];
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) table.set(key(method, route.url), codes);
  };
}

/** transformObject for @fastify/swagger: adds the problem responses to every operation. */
export function documentErrors(table: RouteErrors) {
  return ({ openapiObject }: { openapiObject: Record<string, any> }) => {
    const components = (openapiObject.components ??= {});
    const schemas = (components.schemas ??= {});
    schemas.Problem = {
      type: 'object',
      description: 'RFC 9457 problem details; `code` is stable and listed in docs/errors.md',
      required: ['type', 'title', 'status', 'code'],
      properties: {
        type: { type: 'string', format: 'uri' }, title: { type: 'string' }, status: { type: 'integer' },
        code: { type: 'string', enum: Object.keys(ERROR_CODES) }, detail: { type: 'string' }, instance: { type: 'string' },
      },
      additionalProperties: true,
    };
    for (const [path, item] of Object.entries(openapiObject.paths ?? {}) as [string, Record<string, any>][]) {
      const url = path.replace(/\{([^}]+)\}/g, ':$1');
      for (const [method, operation] of Object.entries(item)) {
        const codes = table.get(key(method, url));
        if (!codes || typeof operation !== 'object') continue;
        const byStatus = new Map<number, ErrorCode[]>();
        for (const code of codes) {
          const status = ERROR_CODES[code].status;
          byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
        }
        operation.responses ??= {};
        for (const [status, group] of [...byStatus].sort((a, b) => a[0] - b[0])) {
          if (operation.responses[String(status)]) continue; // a route's own response schema wins
          operation.responses[String(status)] = {
            description: group.map((c) => `\`${c}\`: ${ERROR_CODES[c].title}`).join('; '),
            content: {
              'application/problem+json': {
                schema: {
                  allOf: [{ $ref: '#/components/schemas/Problem' }, { type: 'object', properties: { code: { type: 'string', enum: group } } }],
                },
              },
            },
          };
        }
        operation['x-error-codes'] = codes;
      }
    }
    return openapiObject;
  };
}
