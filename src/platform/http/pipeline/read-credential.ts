import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { requestUrlFor } from '../request-url.js';
import { errors } from '../errors.js';
import type { PresentedCredential } from './verify-credential.js';

// Step: read the credential the caller presents.
// - `Authorization: Bearer <token>` or `Authorization: DPoP <token>` (RFC 9449 §7.1); the scheme name is
//   case-insensitive (RFC 9110 §11.1). Every `DPoP` header value goes along for the verifier to check (two
//   proofs are refused there, not silently reduced to one).
// - The token is 1-4096 visible ASCII characters (a JWT access token is longer than an operator token);
//   anything else is 401 before any lookup.
// - No header at all is a missing credential (401 with a WWW-Authenticate challenge), never an anonymous call.
// - The request's method and the URL the client addressed (the public base URL and the path) go along too:
//   a DPoP proof is bound to them (`htm`, `htu`).

const AUTHORIZATION = /^(bearer|dpop) ([\x21-\x7e]{1,4096})$/i;

export function readCredential(req: Pick<FastifyRequest, 'headers' | 'method' | 'url'>, publicUrl: string): PresentedCredential | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = AUTHORIZATION.exec(header);
  if (!match) throw errors.unauthenticated('Authorization header must be "Bearer <token>" or "DPoP <token>"');
  return {
    scheme: match[1]!.toLowerCase() as 'bearer' | 'dpop',
    token: match[2]!,
    dpopProofs: dpopHeaderValues(req.headers),
    method: req.method,
    url: requestUrlFor(publicUrl, req.url),
  };
}

/** Every `DPoP` header value, as sent (more than one is the verifier's to refuse, never reduced to one here). */
export function dpopHeaderValues(headers: IncomingHttpHeaders): string[] {
  const dpop = headers.dpop;
  return dpop === undefined ? [] : Array.isArray(dpop) ? dpop : [dpop];
}
