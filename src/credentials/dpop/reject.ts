import { CredentialRejected } from '../contracts.js';

// The two ways a DPoP check refuses a proof (RFC 9449 §7.1: the resource server answers `invalid_dpop_proof`
// or `use_dpop_nonce`; §5 the token endpoint the same). Details name the rule broken, never key material or tokens.

/** The proof is refused: malformed, wrongly signed, for another request, stale, replayed or for another key. */
export function invalidProof(detail: string): CredentialRejected {
  return new CredentialRejected('dpop_invalid', detail);
}

/** The proof lacks a valid server nonce: the client retries with the one in the DPoP-Nonce header. */
export function nonceRequired(detail: string): CredentialRejected {
  return new CredentialRejected('dpop_nonce_required', detail);
}
