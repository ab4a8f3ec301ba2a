import crypto from 'node:crypto';
import { base64url, CompactSign, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { CredentialRejected } from '../contracts.js';
import { verifySignature } from './signature.js';

const now = new Date('2026-01-01T00:00:00.000Z');
const iat = now.getTime() / 1000;

const detailOf = async (run: Promise<unknown>) => {
  try {
    await run;
  } catch (error) {
    expect(error).toBeInstanceOf(CredentialRejected);
    expect((error as CredentialRejected).reason).toBe('dpop_invalid');
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('verifySignature', async () => {
  const ed = await generateKeyPair('EdDSA');
  const other = await generateKeyPair('EdDSA');
  const es = await generateKeyPair('ES256');
  const edJwk = await exportJWK(ed.publicKey);
  const esJwk = await exportJWK(es.publicKey);
  const sign = (claims: Record<string, unknown>, key = ed.privateKey, alg = 'EdDSA', jwk: object = edJwk) =>
    new SignJWT(claims).setProtectedHeader({ alg, typ: 'dpop+jwt', jwk }).sign(key);

  it('returns the claims of a proof signed by the embedded key', async () => {
    const proof = await sign({ jti: 'a', htm: 'POST', iat });
    expect(await verifySignature(proof, edJwk, 'EdDSA', now)).toEqual({ jti: 'a', htm: 'POST', iat });
    const esProof = await sign({ jti: 'b', iat }, es.privateKey, 'ES256', esJwk);
    expect(await verifySignature(esProof, esJwk, 'ES256', now)).toEqual({ jti: 'b', iat });
  });

  it('refuses a tampered payload, a signature by another key and a truncated signature', async () => {
    const proof = await sign({ jti: 'a', htm: 'POST', iat });
    const [h, , s] = proof.split('.');
    const tampered = `${h}.${base64url.encode(JSON.stringify({ jti: 'a', htm: 'GET', iat }))}.${s}`;
    expect(await detailOf(verifySignature(tampered, edJwk, 'EdDSA', now))).toBe('DPoP proof signature does not verify');
    const byOther = await sign({ jti: 'a', iat }, other.privateKey);
    expect(await detailOf(verifySignature(byOther, edJwk, 'EdDSA', now))).toBe('DPoP proof signature does not verify');
    expect(await detailOf(verifySignature(proof.slice(0, -4), edJwk, 'EdDSA', now))).toBe('DPoP proof signature does not verify');
  });

  it('accepts only the one algorithm it was given', async () => {
    const proof = await sign({ jti: 'a', iat });
    // jose refuses to import a key for an algorithm it does not fit, so nothing is verified with a mismatched pair.
    expect(await detailOf(verifySignature(proof, edJwk, 'ES256', now))).toBe('DPoP proof jwk is not a usable public key');
    const esProof = await sign({ jti: 'b', iat }, es.privateKey, 'ES256', esJwk);
    expect(await detailOf(verifySignature(esProof, esJwk, 'ES384', now))).toBe('DPoP proof jwk is not a usable public key');
  });

  it('refuses a key jose cannot import and a payload that is not a claims set', async () => {
    expect(await detailOf(verifySignature(await sign({ iat }), { ...edJwk, x: 'AAAA' }, 'EdDSA', now))).toBe('DPoP proof jwk is not a usable public key');
    const secret = crypto.randomBytes(32);
    expect(await detailOf(verifySignature(await sign({ iat }, ed.privateKey), { kty: 'oct', k: base64url.encode(secret) }, 'HS256', now)))
      .toBe('DPoP proof jwk is not a public key');
    const header = base64url.encode(JSON.stringify({ alg: 'EdDSA', typ: 'dpop+jwt', jwk: edJwk }));
    const notJson = await new CompactSign(new TextEncoder().encode('not json')).setProtectedHeader({ alg: 'EdDSA', typ: 'dpop+jwt', jwk: edJwk }).sign(ed.privateKey);
    expect(notJson.startsWith(header)).toBe(true);
    expect(await detailOf(verifySignature(notJson, edJwk, 'EdDSA', now))).toBe('DPoP proof payload is not a JWT claims set');
  });

  it('honours exp and nbf a proof carries, at the given time', async () => {
    expect(await detailOf(verifySignature(await sign({ iat, exp: iat - 1 }), edJwk, 'EdDSA', now))).toBe('DPoP proof has expired');
    expect(await detailOf(verifySignature(await sign({ iat, nbf: iat + 60 }), edJwk, 'EdDSA', now))).toBe('DPoP proof claim nbf is invalid');
    expect(await detailOf(verifySignature(await sign({ iat: 'yesterday' }), edJwk, 'EdDSA', now))).toBe('DPoP proof claim iat is invalid');
    expect(await verifySignature(await sign({ iat, exp: iat + 1 }), edJwk, 'EdDSA', now)).toEqual({ iat, exp: iat + 1 });
  });
});
