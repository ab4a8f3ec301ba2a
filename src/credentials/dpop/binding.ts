import { calculateJwkThumbprint, type JWK } from 'jose';
import { invalidProof } from './reject.js';

// Check 8 of the DPoP table: the proof's key is the key the token is bound to (RFC 9449 §4.3 step 13, §6.1:
// `cnf.jkt` is the RFC 7638 SHA-256 thumbprint of the public key).
//
// Rules:
// - The thumbprint is jose's RFC 7638 computation (required members only, base64url SHA-256); it is what the
//   verifier returns and what the token endpoint puts in `cnf.jkt`.
// - When the caller names an expected thumbprint (a bound token's `cnf.jkt`), the proof's must equal it exactly.

export async function checkBinding(jwk: JWK, expectedJkt: string | undefined): Promise<string> {
  const jkt = await calculateJwkThumbprint(jwk, 'sha256');
  if (expectedJkt !== undefined && jkt !== expectedJkt) throw invalidProof('DPoP proof key is not the key the token is bound to');
  return jkt;
}
