import type { FastifyRequest } from 'fastify';
import { dpopHeaderValues } from '../../platform/http/pipeline/read-credential.js';
import type { Actor } from '../../platform/actor.js';
import { AppError } from '../../platform/http/errors.js';
import type { CredentialVerifier, PresentedCredential } from '../../platform/http/pipeline/index.js';
import { requestProvenance } from '../../platform/http/pipeline/provenance.js';
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

/** Why a caller was not authenticated at the gateway; each enforcement point answers it in its own shape. */
export type CallerRefusal =
  | { kind: 'malformed'; message: string }
  | { kind: 'missing' }
  /** The verifier refused the credential: its code (unauthenticated, invalid_dpop_proof, use_dpop_nonce) and headers. */
  | { kind: 'rejected'; code: string; message: string; headers: Record<string, string> }
  /** A credential of the management plane (an operator token): not a caller of the gateway. */
  | { kind: 'operator' };

/**
 * The caller of a gateway endpoint (model API or MCP endpoint): its credential read as above and verified by the
 * endpoint's own verifier (its audience), the call marked as reaching us through the gateway. Only access tokens and
 * API keys of a principal are callers. A store failure throws (503), never a pass.
 */
export async function authenticateCaller(
  req: FastifyRequest, deps: { gatewayUrl: string; verifier: CredentialVerifier },
): Promise<{ actor: Actor } | { refused: CallerRefusal }> {
  let presented;
  try {
    presented = readGatewayCredential(req, deps.gatewayUrl);
  } catch (error) {
    if (error instanceof MalformedCredential) return { refused: { kind: 'malformed', message: error.message } };
    throw error;
  }
  if (!presented) return { refused: { kind: 'missing' } };
  let actor: Actor;
  try {
    actor = await deps.verifier(presented, { ...requestProvenance(req), via: 'gateway' });
  } catch (error) {
    if (!(error instanceof AppError) || error.status !== 401) throw error;
    return { refused: { kind: 'rejected', code: error.code, message: error.message, headers: error.headers ?? {} } };
  }
  const kind = actor.credential?.kind;
  if (!actor.principal || (kind !== 'access_token' && kind !== 'api_key')) return { refused: { kind: 'operator' } };
  return { actor };
}
