import { GatewayRefusal } from '../call.js';
import { bearerChallenge } from '../protected-resource.js';
import type { Step } from '../pipeline.js';
import { authenticateCaller } from './credential.js';

// Step: who is calling. The credentials module's one verifier, with the gateway's public base URL as the audience
// its tokens and API keys must carry (RFC 8707; published in /.well-known/oauth-protected-resource, RFC 9728).
// Rules:
// - A Custos access token (DPoP-bound ones with their proof, checked against the gateway's URL) or a Custos API key,
//   in `Authorization` or `x-api-key`. Operator tokens are for the management API: refused here.
// - No credential: 401 missing_credential; any refusal: 401 invalid_token (invalid_dpop_proof, use_dpop_nonce with a
//   DPoP-Nonce header), each with `WWW-Authenticate: Bearer resource_metadata="…"` so a client can find where to get
//   a token. The verifier records refused credentials (auth.failed); a store failure is 503, never a pass.

const OPERATOR = 'operator tokens are for the management API; call the gateway with an access token or API key addressed to it';

export const verify: Step = async (call, deps) => {
  const resource = deps.gatewayUrl();
  const challenge = (error?: 'invalid_token', description?: string) => ({ 'www-authenticate': bearerChallenge({ resource, error, description }) });
  const result = await authenticateCaller(call.req, { gatewayUrl: resource, verifier: deps.verifier });
  if ('actor' in result) {
    call.actor = result.actor;
    return;
  }
  const r = result.refused;
  switch (r.kind) {
    case 'malformed': throw new GatewayRefusal(401, 'invalid_token', r.message, challenge('invalid_token', r.message));
    case 'missing': throw new GatewayRefusal(401, 'missing_credential', 'send a Custos access token or API key addressed to this gateway', challenge());
    case 'rejected': {
      const code = r.code === 'invalid_dpop_proof' || r.code === 'use_dpop_nonce' ? r.code : 'invalid_token';
      throw new GatewayRefusal(401, code, r.message, { ...challenge('invalid_token', r.message), ...r.headers });
    }
    case 'operator': throw new GatewayRefusal(401, 'invalid_token', OPERATOR, challenge('invalid_token', OPERATOR));
  }
};
