import crypto from 'node:crypto';

// RFC 7636 PKCE, S256 only (RFC 9700 §2.1.1: `plain` is not accepted, and a request without a challenge is refused).
// Rules:
// - code_challenge: 43 base64url characters (the SHA-256 of a verifier), code_challenge_method exactly S256.
// - code_verifier: 43-128 characters of [A-Z a-z 0-9 - . _ ~] (§4.1); BASE64URL(SHA256(verifier)) must equal the
//   challenge, compared in constant time.

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** Why a challenge is unacceptable, or null when it is fine. */
export function challengeProblem(challenge: string | undefined, method: string | undefined): string | null {
  if (challenge === undefined) return 'PKCE is required: send code_challenge with code_challenge_method=S256';
  if (method !== 'S256') return method === undefined ? 'code_challenge_method is required and must be S256' : `code_challenge_method ${method.slice(0, 20)} is not supported; use S256`;
  if (!CHALLENGE.test(challenge)) return 'code_challenge must be 43 base64url characters (the SHA-256 of the verifier)';
  return null;
}

export function verifierMatches(verifier: string | undefined, challenge: string): boolean {
  if (verifier === undefined || !VERIFIER.test(verifier)) return false;
  const computed = Buffer.from(crypto.createHash('sha256').update(verifier).digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && crypto.timingSafeEqual(computed, expected);
}
