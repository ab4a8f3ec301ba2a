import type { IncomingHttpHeaders } from 'node:http';
import { errors } from '../errors.js';
import type { PresentedCredential } from './verify-credential.js';

// Step: read the credential the caller presents.
// - Only `Authorization: Bearer <token>`; the scheme name is case-insensitive (RFC 9110 §11.1).
// - The token is 1-512 visible ASCII characters; anything else is 401 before any lookup.
// - No header at all is a missing credential (401 with a WWW-Authenticate challenge), never an anonymous call.

const BEARER = /^bearer ([\x21-\x7e]{1,512})$/i;

export function readBearerCredential(headers: IncomingHttpHeaders): PresentedCredential | undefined {
  const header = headers.authorization;
  if (!header) return undefined;
  const match = BEARER.exec(header);
  if (!match) throw errors.unauthenticated('Authorization header must be "Bearer <token>"');
  return { scheme: 'bearer', token: match[1]! };
}
