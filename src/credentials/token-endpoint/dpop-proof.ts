import type { IncomingHttpHeaders } from 'node:http';
import { dpopHeaderValues } from '../../platform/http/pipeline/read-credential.js';
import { CredentialRejected, type DpopVerifier } from '../contracts.js';
import { OAuthError } from '../oauth-errors.js';

// Step: a DPoP proof on the token request binds the new token to the proof's key (RFC 9449 §5).
// Rules:
// - No DPoP header: a Bearer token. One header: verified (typ, asymmetric alg, public jwk, signature, htm POST,
//   htu = the token endpoint, iat window, single-use jti) and its key thumbprint becomes `cnf.jkt`.
// - Two DPoP headers, or a bad proof: invalid_dpop_proof. A missing or stale server nonce, when nonces are
//   required: use_dpop_nonce with a fresh `DPoP-Nonce` header (RFC 9449 §8).

export async function bindingFromProof(dpop: DpopVerifier, headers: IncomingHttpHeaders, tokenEndpointUrl: string): Promise<string | null> {
  const proofs = dpopHeaderValues(headers);
  if (proofs.length === 0) return null;
  try {
    const { jkt } = await dpop.verify({ proofs, method: 'POST', url: tokenEndpointUrl });
    return jkt;
  } catch (error) {
    if (error instanceof CredentialRejected) {
      if (error.reason === 'dpop_nonce_required') throw new OAuthError('use_dpop_nonce', error.message, { 'dpop-nonce': dpop.nonce() });
      throw new OAuthError('invalid_dpop_proof', error.message);
    }
    throw error;
  }
}
