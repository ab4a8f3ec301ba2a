import type { FastifyRequest } from 'fastify';
import type { Provenance } from '../../actor.js';

// Step: where the request came from.
// - The source address is the socket's peer, or the nearest untrusted hop of X-Forwarded-For when the server
//   is configured to trust its proxies (Fastify's `trustProxy`); a client cannot set it by sending a header.
// - A W3C `traceparent` contributes its trace id only when well-formed; the user agent is cut to 256 chars.
// - `via` is 'direct' on the management API; the gateway marks the calls it forwards.

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-/;

export function requestProvenance(req: FastifyRequest): Provenance {
  const traceparent = req.headers.traceparent;
  const trace = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent)?.[1] ?? null : null;
  const ua = req.headers['user-agent'];
  return {
    sourceIp: req.ip ?? null,
    requestId: String(req.id),
    traceId: trace,
    userAgent: typeof ua === 'string' ? ua.slice(0, 256) : null,
    via: 'direct',
  };
}
