import { SignJWT, type JWTPayload } from 'jose';
import type { AccessTokenClaims, SigningKey } from './contracts.js';

// Signs a JWT access token (RFC 9068). The caller decides every claim (the token endpoint builds them from the
// narrowing rules); this only fixes the protected header: the key's own algorithm and kid, and typ 'at+jwt' so
// an access token can never be mistaken for an ID token or a DPoP proof (RFC 9068 §2.1, RFC 8725 §3.11).
// verify/ checks tokens made here.

export const ACCESS_TOKEN_TYP = 'at+jwt';

export async function signAccessToken(key: SigningKey, claims: AccessTokenClaims): Promise<string> {
  return new SignJWT({ ...claims } as JWTPayload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYP })
    .sign(key.privateKey);
}
