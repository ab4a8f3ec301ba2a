import { errors, importJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { invalidProof } from './reject.js';

// Check 4 of the DPoP table: the proof is signed by the key it carries (RFC 9449 §4.3 step 6).
//
// Rules:
// - The key is the header's `jwk` (already checked public and of the right type), imported by jose for the
//   header's `alg` only; jose is told to accept that one algorithm and nothing else.
// - jose verifies the signature and that the payload is a JWT claims set (a JSON object; `iat`, `exp` and `nbf`
//   numbers where present). An `exp` or `nbf` a proof chose to carry is honoured at the injected clock's time.
// - Any failure is one refusal, `dpop_invalid`, with a detail naming what failed (never the key or the proof).

export async function verifySignature(proof: string, jwk: JWK, alg: string, now: Date): Promise<JWTPayload> {
  let key: Awaited<ReturnType<typeof importJWK>>;
  try {
    key = await importJWK(jwk, alg);
  } catch {
    throw invalidProof('DPoP proof jwk is not a usable public key');
  }
  if (key instanceof Uint8Array || key.type !== 'public') throw invalidProof('DPoP proof jwk is not a public key');
  try {
    const { payload } = await jwtVerify(proof, key, { algorithms: [alg], currentDate: now });
    return payload;
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) throw invalidProof('DPoP proof signature does not verify');
    if (error instanceof errors.JWTExpired) throw invalidProof('DPoP proof has expired');
    if (error instanceof errors.JWTClaimValidationFailed) throw invalidProof(`DPoP proof claim ${error.claim} is invalid`);
    if (error instanceof errors.JWTInvalid) throw invalidProof('DPoP proof payload is not a JWT claims set');
    throw invalidProof('DPoP proof is malformed');
  }
}
