import crypto from 'node:crypto';
import { invalidProof } from './reject.js';

// Check 7 of the DPoP table: a proof sent with an access token is bound to that token (RFC 9449 §4.2 `ath`,
// §4.3 step 12, §7.1).
//
// Rules:
// - With an access token (a resource request): `ath` is required and equals base64url(SHA-256(the token's ASCII
//   octets)). A token that is not printable ASCII cannot be hashed as the RFC says and is refused.
// - Without one (the token endpoint): `ath` must be absent. A proof carrying `ath` was made to accompany a
//   token at a resource; refusing it there costs an honest client nothing (no client sends `ath` to the token
//   endpoint) and keeps a proof to the one use it was made for.

const ASCII_TOKEN = /^[\x21-\x7e]+$/;

export function accessTokenHash(accessToken: string): string {
  return crypto.createHash('sha256').update(accessToken, 'latin1').digest('base64url');
}

export function checkAth(ath: unknown, accessToken: string | undefined): void {
  if (accessToken === undefined) {
    if (ath !== undefined) throw invalidProof('DPoP proof carries ath but no access token accompanies it');
    return;
  }
  if (ath === undefined) throw invalidProof('DPoP proof has no ath for the access token');
  if (!ASCII_TOKEN.test(accessToken)) throw invalidProof('access token is not ASCII');
  if (ath !== accessTokenHash(accessToken)) throw invalidProof('DPoP proof ath does not match the access token');
}
