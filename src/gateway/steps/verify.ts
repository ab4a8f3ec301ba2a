import { AppError } from '../../platform/http/errors.js';
import { requestProvenance } from '../../platform/http/pipeline/provenance.js';
import { GatewayRefusal } from '../call.js';
import { bearerChallenge } from '../protected-resource.js';
import type { Step } from '../pipeline.js';
import { MalformedCredential, readGatewayCredential } from './credential.js';

// Step: who is calling. The credentials module's one verifier, with the gateway's public base URL as the audience
// its tokens and API keys must carry (RFC 8707; published in /.well-known/oauth-protected-resource, RFC 9728).
// Rules:
// - A Custos access token (DPoP-bound ones with their proof, checked against the gateway's URL) or a Custos API key,
//   in `Authorization` or `x-api-key`. Operator tokens are for the management API: refused here.
// - No credential: 401 missing_credential; any refusal: 401 invalid_token (invalid_dpop_proof, use_dpop_nonce with a
//   DPoP-Nonce header), each with `WWW-Authenticate: Bearer resource_metadata="…"` so a client can find where to get
//   a token. The verifier records refused credentials (auth.failed); a store failure is 503, never a pass.

export const verify: Step = async (call, deps) => {
  const resource = deps.gatewayUrl();
  const challenge = (error?: 'invalid_token', description?: string) => ({ 'www-authenticate': bearerChallenge({ resource, error, description }) });
  let presented;
  try {
    presented = readGatewayCredential(call.req, resource);
  } catch (error) {
    if (error instanceof MalformedCredential) throw new GatewayRefusal(401, 'invalid_token', error.message, challenge('invalid_token', error.message));
    throw error;
  }
  if (!presented) throw new GatewayRefusal(401, 'missing_credential', 'send a Custos access token or API key addressed to this gateway', challenge());
  const provenance = { ...requestProvenance(call.req), via: 'gateway' as const };
  let actor;
  try {
    actor = await deps.verifier(presented, provenance);
  } catch (error) {
    if (!(error instanceof AppError) || error.status !== 401) throw error;
    const code = error.code === 'invalid_dpop_proof' || error.code === 'use_dpop_nonce' ? error.code : 'invalid_token';
    throw new GatewayRefusal(401, code, error.message, { ...challenge('invalid_token', error.message), ...(error.headers ?? {}) });
  }
  const kind = actor.credential?.kind;
  if (!actor.principal || (kind !== 'access_token' && kind !== 'api_key')) {
    const message = 'operator tokens are for the management API; call the gateway with an access token or API key addressed to it';
    throw new GatewayRefusal(401, 'invalid_token', message, challenge('invalid_token', message));
  }
  call.actor = actor;
};
