import { describe, expect, it } from 'vitest';
import { CredentialRejected } from '../contracts.js';
import { accessTokenHash, checkAth } from './ath.js';

const detailOf = (ath: unknown, token: string | undefined) => {
  try {
    checkAth(ath, token);
  } catch (error) {
    expect(error).toBeInstanceOf(CredentialRejected);
    expect((error as CredentialRejected).reason).toBe('dpop_invalid');
    return (error as Error).message;
  }
  return 'accepted';
};

describe('accessTokenHash', () => {
  it('is base64url(SHA-256(ASCII)) — the RFC 9449 §7.1 example', () => {
    // RFC 9449 §7.1: the access token Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU and its ath.
    expect(accessTokenHash('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU')).toBe('fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
  });
});

describe('checkAth', () => {
  const token = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln'; // custos:allow (a made-up token for the hash test)
  it('with a token: requires ath, equal to the token hash', () => {
    expect(detailOf(accessTokenHash(token), token)).toBe('accepted');
    expect(detailOf(undefined, token)).toBe('DPoP proof has no ath for the access token');
    expect(detailOf(accessTokenHash(`${token}x`), token)).toBe('DPoP proof ath does not match the access token');
    expect(detailOf(accessTokenHash(token).toUpperCase(), token)).toBe('DPoP proof ath does not match the access token');
    expect(detailOf(42, token)).toBe('DPoP proof ath does not match the access token');
    expect(detailOf(accessTokenHash('tökén'), 'tökén')).toBe('access token is not ASCII');
  });

  it('without a token: ath must be absent', () => {
    expect(detailOf(undefined, undefined)).toBe('accepted');
    expect(detailOf(accessTokenHash(token), undefined)).toBe('DPoP proof carries ath but no access token accompanies it');
  });
});
