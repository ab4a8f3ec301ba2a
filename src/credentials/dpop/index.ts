import type { Clock } from '../../platform/clock.js';
import type { DpopCheckInput, DpopVerifier, ReplayStore } from '../contracts.js';
import { checkAlgorithmList, DEFAULT_DPOP_ALGORITHMS } from './algorithms.js';
import { checkAth } from './ath.js';
import { checkBinding } from './binding.js';
import { checkClaims, DEFAULT_WINDOW_SECONDS } from './claims.js';
import { checkCompactJws } from './compact-jws.js';
import { checkNonce, createDpopNonces } from './nonce.js';
import { oneProof } from './one-proof.js';
import { claimProof } from './replay.js';
import { checkPublicJwk } from './public-jwk.js';
import { verifySignature } from './signature.js';

// The DPoP proof verifier (RFC 9449), called by the token endpoint (to bind a token to the proof's key) and by
// every enforcement point that receives a DPoP-bound token. It is the ordered table of checks below, each a small
// file whose header lists its rules; the first that fails refuses the proof with CredentialRejected
// ('dpop_invalid', or 'dpop_nonce_required' when the client should retry with a fresh nonce).
//
//   1. one-proof     exactly one DPoP header value, no comma lists
//   2. compact-jws   three base64url parts; typ dpop+jwt; alg in the (asymmetric) allowlist; no jku/x5u
//   3. public-jwk    jwk present, public only, kty and curve fit alg
//   4. signature     verifies with that key, for that alg only (jose)
//   5. claims        jti 1-256 chars; htm = method; htu = request URL (normalised); iat within -window/+5 s
//   6. nonce         a server nonce of this or the last step; required when requireNonce
//   7. ath           with an access token: required and its hash; without one: absent
//   8. binding       RFC 7638 thumbprint; equals expectedJkt (cnf.jkt) when given
//   9. replay        jkt:jti claimed once in the shared replay store, until iat + window (last: refusals burn nothing)
//
// Time comes from the injected clock; nothing is fetched; the returned jkt is what a token's cnf.jkt holds.

export { DEFAULT_DPOP_ALGORITHMS } from './algorithms.js';
export { accessTokenHash } from './ath.js';
export { DEFAULT_WINDOW_SECONDS, FUTURE_SKEW_SECONDS } from './claims.js';
export { normaliseHtu, requestUrlFor } from './htu.js';
export { NONCE_STEP_SECONDS } from './nonce.js';

export interface DpopVerifierDeps {
  replay: ReplayStore;
  clock: Clock;
  /** 32 bytes; the HMAC key of the stateless nonces (shared by nodes that accept each other's nonces). */
  nonceKey: Buffer;
  /** How far in the past a proof's iat may be (default 60 s); the future side is FUTURE_SKEW_SECONDS. */
  windowSeconds?: number;
  /** Refuse proofs without a current server nonce (default false). */
  requireNonce?: boolean;
  /** Allowed proof algorithms (default DEFAULT_DPOP_ALGORITHMS); asymmetric only, checked at construction. */
  algorithms?: string[];
}

export function createDpopVerifier(deps: DpopVerifierDeps): DpopVerifier {
  const { replay, clock } = deps;
  const windowSeconds = deps.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  if (!Number.isFinite(windowSeconds) || windowSeconds <= 0) throw new Error('the DPoP iat window must be a positive number of seconds');
  const requireNonce = deps.requireNonce ?? false;
  const algorithms = checkAlgorithmList(deps.algorithms ?? DEFAULT_DPOP_ALGORITHMS);
  const nonces = createDpopNonces({ key: deps.nonceKey, clock });

  return {
    async verify(input: DpopCheckInput) {
      const now = clock.now();
      const proof = oneProof(input.proofs);
      const header = checkCompactJws(proof, algorithms);
      const jwk = checkPublicJwk(header.jwk, header.alg);
      const payload = await verifySignature(proof, jwk, header.alg, now);
      const { jti, iat } = checkClaims(payload, { method: input.method, url: input.url, nowSeconds: now.getTime() / 1000, windowSeconds });
      checkNonce(payload.nonce, nonces, requireNonce);
      checkAth(payload.ath, input.accessToken);
      const jkt = await checkBinding(jwk, input.expectedJkt);
      await claimProof(replay, { jkt, jti, iat, windowSeconds });
      return { jkt };
    },
    nonce: () => nonces.issue(),
  };
}
