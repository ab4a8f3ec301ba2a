import { describe, expect, it } from 'vitest';
import { CredentialRejected } from '../contracts.js';
import { checkBinding } from './binding.js';

// RFC 7638 §3.1: the example RSA key and its SHA-256 thumbprint.
const rfc7638Key = {
  kty: 'RSA',
  n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
};
const rfc7638Thumbprint = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';

describe('checkBinding', () => {
  it('returns the RFC 7638 SHA-256 thumbprint (the RFC example)', async () => {
    expect(await checkBinding(rfc7638Key, undefined)).toBe(rfc7638Thumbprint);
  });

  it('accepts the expected thumbprint and refuses any other', async () => {
    expect(await checkBinding(rfc7638Key, rfc7638Thumbprint)).toBe(rfc7638Thumbprint);
    const error = await checkBinding(rfc7638Key, 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xt').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialRejected);
    expect((error as CredentialRejected).reason).toBe('dpop_invalid');
    expect((error as Error).message).toBe('DPoP proof key is not the key the token is bound to');
    await expect(checkBinding(rfc7638Key, '')).rejects.toThrow('not the key the token is bound to');
  });
});
