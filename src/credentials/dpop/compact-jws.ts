import { decodeProtectedHeader } from 'jose';
import { invalidProof } from './reject.js';

// Check 2 of the DPoP table: the proof is a compact JWS whose protected header says it is a DPoP proof signed
// with an allowed asymmetric algorithm (RFC 9449 §4.2, §4.3 steps 2, 4 and 5; RFC 8725 §3.1, §3.11).
//
// Rules:
// - Exactly three dot-separated parts, each non-empty base64url: no JWE (five parts), no detached or unsigned
//   JWS (an empty payload or signature), no extra segments.
// - The protected header decodes (jose) to a JSON object.
// - `typ` is exactly `dpop+jwt` (no `application/` prefix, no other case): an access token, ID token or client
//   assertion is never taken for a proof.
// - `alg` is one of the configured algorithms, compared exactly: `none` in any case, `HS256` and anything unknown
//   are refused here, before any key is looked at.
// - The key travels by value in `jwk` (check 3); a header pointing at a key elsewhere (`jku`, `x5u`) is refused,
//   and nothing is ever fetched.

export interface DpopHeader {
  alg: string;
  /** Unchecked yet: public-jwk.ts decides what it is. */
  jwk: unknown;
}

const PART = /^[A-Za-z0-9_-]+$/;

export function checkCompactJws(proof: string, algorithms: readonly string[]): DpopHeader {
  const parts = proof.split('.');
  if (parts.length !== 3) throw invalidProof('DPoP proof is not a compact JWS (three parts)');
  if (!parts.every((part) => PART.test(part))) throw invalidProof('DPoP proof has an empty or non-base64url part');
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(proof) as Record<string, unknown>;
  } catch {
    throw invalidProof('DPoP proof header is not a JSON object');
  }
  if (header.typ !== 'dpop+jwt') throw invalidProof('DPoP proof typ is not dpop+jwt');
  const alg = header.alg;
  if (typeof alg !== 'string' || !algorithms.includes(alg)) throw invalidProof('DPoP proof alg is not an allowed asymmetric algorithm');
  if ('jku' in header || 'x5u' in header) throw invalidProof('DPoP proof must carry its key in jwk, not by reference');
  return { alg, jwk: header.jwk };
}
