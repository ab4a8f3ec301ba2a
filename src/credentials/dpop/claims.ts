import type { JWTPayload } from 'jose';
import { checkHtu } from './htu.js';
import { invalidProof } from './reject.js';

// Check 5 of the DPoP table: the proof's claims describe this request, now (RFC 9449 §4.2, §4.3 steps 3, 8, 9
// and 11; §11.1 leaves the iat window to the server).
//
// Rules, in order:
// - `jti` is a string of 1 to 256 characters (it is the replay key; 256 bounds what we store a hash of).
// - `htm` equals the request method exactly (RFC 9110 methods are case-sensitive).
// - `htu` names this request's URL (htu.ts).
// - `iat` is a number, at most `windowSeconds` in the past and at most FUTURE_SKEW_SECONDS in the future at the
//   injected clock's time. The window is one-sided on purpose: a proof is made just before it is sent, so the past
//   side covers transit, retries and clock drift (60 s by default), while a proof dated ahead of us gets only the
//   few seconds clock skew explains. A proof may therefore be accepted for at most window + skew seconds, and the
//   replay store keeps its jti until iat + window (replay.ts).

export const DEFAULT_WINDOW_SECONDS = 60;
export const FUTURE_SKEW_SECONDS = 5;
export const MAX_JTI_LENGTH = 256;

export interface ProofClaims {
  jti: string;
  iat: number;
}

export function checkClaims(
  payload: JWTPayload,
  request: { method: string; url: string; nowSeconds: number; windowSeconds: number },
): ProofClaims {
  const { jti, htm, htu, iat } = payload;
  if (typeof jti !== 'string' || jti.length < 1 || jti.length > MAX_JTI_LENGTH) throw invalidProof('DPoP proof jti must be a string of 1 to 256 characters');
  if (typeof htm !== 'string') throw invalidProof('DPoP proof htm is missing');
  if (htm !== request.method) throw invalidProof('DPoP proof htm does not match the request method');
  checkHtu(htu, request.url);
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalidProof('DPoP proof iat is missing');
  if (request.nowSeconds - iat > request.windowSeconds) throw invalidProof('DPoP proof iat is too old');
  if (iat - request.nowSeconds > FUTURE_SKEW_SECONDS) throw invalidProof('DPoP proof iat is in the future');
  return { jti, iat };
}
