import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { CredentialRejected } from '../contracts.js';
import { checkAlgorithmList } from './algorithms.js';
import { checkPublicJwk } from './public-jwk.js';

const detailOf = (jwk: unknown, alg: string) => {
  try {
    checkPublicJwk(jwk, alg);
  } catch (error) {
    expect(error).toBeInstanceOf(CredentialRejected);
    expect((error as CredentialRejected).reason).toBe('dpop_invalid');
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('checkPublicJwk', async () => {
  const ed = await generateKeyPair('EdDSA', { extractable: true });
  const es256 = await generateKeyPair('ES256', { extractable: true });
  const es384 = await generateKeyPair('ES384', { extractable: true });
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const edPublic = await exportJWK(ed.publicKey);
  const es256Public = await exportJWK(es256.publicKey);
  const es384Public = await exportJWK(es384.publicKey);
  const rsaPublic = await exportJWK(rsa.publicKey);

  it('accepts public keys that fit the algorithm', () => {
    expect(checkPublicJwk(edPublic, 'EdDSA')).toBe(edPublic);
    expect(checkPublicJwk(edPublic, 'Ed25519')).toBe(edPublic);
    expect(checkPublicJwk(es256Public, 'ES256')).toBe(es256Public);
    expect(checkPublicJwk(es384Public, 'ES384')).toBe(es384Public);
    expect(checkPublicJwk(rsaPublic, 'RS256')).toBe(rsaPublic);
    expect(checkPublicJwk(rsaPublic, 'PS256')).toBe(rsaPublic);
    expect(checkPublicJwk({ ...es256Public, alg: 'ES256', use: 'sig', key_ops: ['verify'] }, 'ES256')).toBeDefined();
  });

  it('refuses a missing or non-object jwk', () => {
    expect(detailOf(undefined, 'EdDSA')).toBe('DPoP proof has no jwk header');
    for (const jwk of [null, 'key', 7, [edPublic]]) expect(detailOf(jwk, 'EdDSA')).toBe('DPoP proof jwk is not a JSON object');
  });

  it('refuses private key material of every key type', async () => {
    expect(detailOf(await exportJWK(ed.privateKey), 'EdDSA')).toBe('DPoP proof jwk contains private key material');
    expect(detailOf(await exportJWK(es256.privateKey), 'ES256')).toBe('DPoP proof jwk contains private key material');
    const rsaPrivate = await exportJWK(rsa.privateKey);
    expect(detailOf(rsaPrivate, 'RS256')).toBe('DPoP proof jwk contains private key material');
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth']) {
      expect(detailOf({ ...rsaPublic, [member]: rsaPrivate.d ?? 'x' }, 'RS256')).toBe('DPoP proof jwk contains private key material');
    }
  });

  it('refuses a symmetric key', () => {
    expect(detailOf({ kty: 'oct', k: 'c2VjcmV0' }, 'EdDSA')).toBe('DPoP proof jwk is a symmetric key');
    expect(detailOf({ kty: 'oct' }, 'ES256')).toBe('DPoP proof jwk is a symmetric key');
    expect(detailOf({ ...edPublic, k: 'c2VjcmV0' }, 'EdDSA')).toBe('DPoP proof jwk is a symmetric key');
  });

  it('refuses a key type or curve that does not fit alg', () => {
    expect(detailOf(es256Public, 'EdDSA')).toBe('DPoP proof jwk kty does not fit alg EdDSA');
    expect(detailOf(edPublic, 'ES256')).toBe('DPoP proof jwk kty does not fit alg ES256');
    expect(detailOf(rsaPublic, 'ES256')).toBe('DPoP proof jwk kty does not fit alg ES256');
    expect(detailOf(es256Public, 'RS256')).toBe('DPoP proof jwk kty does not fit alg RS256');
    expect(detailOf(es384Public, 'ES256')).toBe('DPoP proof jwk crv does not fit alg ES256');
    expect(detailOf(es256Public, 'ES384')).toBe('DPoP proof jwk crv does not fit alg ES384');
    expect(detailOf({ ...edPublic, crv: 'X25519' }, 'EdDSA')).toBe('DPoP proof jwk crv does not fit alg EdDSA');
    expect(detailOf(edPublic, 'HS256')).toBe('DPoP proof jwk kty does not fit alg HS256');
  });

  it('refuses a key whose own alg, use or key_ops disagree', () => {
    expect(detailOf({ ...es256Public, alg: 'ES384' }, 'ES256')).toBe('DPoP proof jwk alg differs from the header alg');
    expect(detailOf({ ...es256Public, use: 'enc' }, 'ES256')).toBe('DPoP proof jwk is not a signature key');
    expect(detailOf({ ...es256Public, key_ops: ['sign'] }, 'ES256')).toBe('DPoP proof jwk key_ops does not allow verify');
    expect(detailOf({ ...es256Public, key_ops: 'verify' }, 'ES256')).toBe('DPoP proof jwk key_ops does not allow verify');
  });
});

describe('checkAlgorithmList', () => {
  it('accepts asymmetric algorithms and refuses an empty list, MACs, none and unknown names', () => {
    expect(checkAlgorithmList(['EdDSA', 'ES256'])).toEqual(['EdDSA', 'ES256']);
    expect(() => checkAlgorithmList([])).toThrow('at least one');
    for (const alg of ['HS256', 'none', 'toString', 'es256']) expect(() => checkAlgorithmList([alg])).toThrow(`${alg} is not an asymmetric signature algorithm`);
  });
});
