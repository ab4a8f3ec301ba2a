import type { FastifyRequest } from 'fastify';
import { dpopHeaderValues } from '../../platform/http/pipeline/read-credential.js';
import type { PresentedCredential } from '../../platform/http/pipeline/index.js';
import { requestUrlFor } from '../../platform/http/request-url.js';

// Reading the caller's credential at the gateway (model API and MCP endpoints alike).
// Rules:
// - `Authorization: Bearer <token>` or `Authorization: DPoP <token>` (scheme case-insensitive), or `x-api-key:
//   <token>` (what the Anthropic SDK sends). Both at once must name the same token, else the call is malformed: a
//   client must not be able to show one credential to us and mean another.
// - 1-4096 visible ASCII characters; anything else is malformed (401 before any lookup).
// - None at all: undefined (the caller answers 401 with a challenge, never an anonymous call).
// - The URL a DPoP proof is bound to is the gateway's public base URL and the request path.

const AUTHORIZATION = /^(bearer|dpop) ([\x21-\x7e]{1,4096})$/i;
const API_KEY = /^[\x21-\x7e]{1,4096}$/;

export class MalformedCredential extends Error {}

export function readGatewayCredential(req: Pick<FastifyRequest, 'headers' | 'method' | 'url'>, gatewayUrl: string): PresentedCredential | undefined {
  const authorization = req.headers.authorization;
  const apiKeyHeader = req.headers['x-api-key'];
  const apiKey = Array.isArray(apiKeyHeader) ? undefined : apiKeyHeader;
  if (Array.isArray(apiKeyHeader)) throw new MalformedCredential('x-api-key must be sent once');
  let scheme: 'bearer' | 'dpop' = 'bearer';
  let token: string | undefined;
  if (authorization !== undefined) {
    const match = AUTHORIZATION.exec(authorization);
    if (!match) throw new MalformedCredential('Authorization must be "Bearer <token>" or "DPoP <token>"');
    scheme = match[1]!.toLowerCase() as 'bearer' | 'dpop';
    token = match[2]!;
  }
  if (apiKey !== undefined) {
    if (!API_KEY.test(apiKey)) throw new MalformedCredential('x-api-key must be 1-4096 visible ASCII characters');
    if (token !== undefined && token !== apiKey) throw new MalformedCredential('Authorization and x-api-key name different credentials');
    token = apiKey;
  }
  if (token === undefined) return undefined;
  return { scheme, token, dpopProofs: dpopHeaderValues(req.headers), method: req.method, url: requestUrlFor(gatewayUrl, req.url) };
}
