import crypto from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { AppError } from '../platform/http/errors.js';
import { acceptPublicJwk, checkPublicJwk } from './client-keys.service.js';

// What a registered client key may be: public, asymmetric, a curve or modulus we accept, an algorithm that fits
// the key; and the RFC 7638 thumbprint it is known by.

// RFC 7638 §3.1: the example RSA key and its SHA-256 thumbprint.
const RFC7638_KEY = {
  kty: 'RSA', e: 'AQAB', alg: 'RS256', kid: '2011-04-29',
  n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
};

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError && error.code === 'invalid_jwk') return error.message;
    throw error;
  }
  throw new Error('expected invalid_jwk');
}

async function reasonOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    if (error instanceof AppError && error.code === 'invalid_jwk') return error.message;
    throw error;
  }
  throw new Error('expected invalid_jwk');
}

async function keyPair(alg: string, options: Record<string, unknown> = {}) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...options });
  return { pub: (await exportJWK(publicKey)) as Record<string, unknown>, priv: (await exportJWK(privateKey)) as Record<string, unknown> };
}

/** n of exactly `bits` bits (top bit set), base64url. */
function modulus(bits: number): string {
  const bytes = Buffer.alloc(Math.ceil(bits / 8), 0xab);
  bytes[0] = 1 << ((bits - 1) % 8);
  return Buffer.concat([Buffer.from([0]), bytes]).toString('base64url');
}

describe('checkPublicJwk', () => {
  it('infers the algorithm from the key type and curve, and keeps only the public members', async () => {
    const ed = (await keyPair('EdDSA')).pub;
    expect(checkPublicJwk({ ...ed, use: 'sig', key_ops: ['verify'], x5t: 'ignored' })).toEqual({ alg: 'EdDSA', jwk: { kty: 'OKP', crv: 'Ed25519', x: ed.x, alg: 'EdDSA' } });
    expect(checkPublicJwk((await keyPair('ES256')).pub).alg).toBe('ES256');
    expect(checkPublicJwk((await keyPair('ES384')).pub).alg).toBe('ES384');
    const rsa = (await keyPair('PS384')).pub;
    expect(checkPublicJwk({ ...rsa, kid: 'r1' })).toEqual({ alg: 'RS256', jwk: { kty: 'RSA', n: rsa.n, e: rsa.e, kid: 'r1', alg: 'RS256' } });
    expect(checkPublicJwk({ ...rsa, alg: 'PS384' }).alg).toBe('PS384');
    expect(checkPublicJwk({ ...ed, alg: 'Ed25519' }).alg).toBe('Ed25519');
  });

  it('refuses a private key whole, naming the private members', async () => {
    for (const alg of ['EdDSA', 'ES256', 'RS256']) {
      const { priv } = await keyPair(alg);
      expect(reason(() => checkPublicJwk(priv)), alg).toMatch(/private key \(it has 'd'/);
    }
    expect(reason(() => checkPublicJwk({ ...RFC7638_KEY, p: 'AQAB' }))).toMatch(/'p'/);
    expect(reason(() => checkPublicJwk({ kty: 'oct', k: 'c2VjcmV0' }))).toMatch(/'k'/);
  });

  it('refuses symmetric and non-signing keys, other curves and algorithms that do not fit', async () => {
    expect(reason(() => checkPublicJwk({ kty: 'oct' }))).toMatch(/symmetric keys are never accepted/);
    expect(reason(() => checkPublicJwk({ kty: 'OKP', crv: 'X25519', x: Buffer.alloc(32).toString('base64url') }))).toMatch(/Ed25519/);
    expect(reason(() => checkPublicJwk({ kty: 'OKP', crv: 'Ed448', x: Buffer.alloc(57).toString('base64url') }))).toMatch(/Ed25519/);
    expect(reason(() => checkPublicJwk({ kty: 'EC', crv: 'P-521', x: 'AA', y: 'AA' }))).toMatch(/P-256 or P-384/);
    expect(reason(() => checkPublicJwk({ kty: 'EC', crv: 'secp256k1', x: 'AA', y: 'AA' }))).toMatch(/P-256 or P-384/);
    const ec = (await keyPair('ES256')).pub;
    expect(reason(() => checkPublicJwk({ ...ec, alg: 'ES384' }))).toMatch(/ES384 does not fit this key; use ES256/);
    expect(reason(() => checkPublicJwk({ ...ec, alg: 'HS256' }))).toMatch(/HS256/);
    expect(reason(() => checkPublicJwk({ ...ec, alg: 'none' }))).toMatch(/none/);
    expect(reason(() => checkPublicJwk({ ...RFC7638_KEY, alg: 'EdDSA' }))).toMatch(/RS256 or RS384/);
    expect(reason(() => checkPublicJwk({ ...ec, use: 'enc' }))).toMatch(/'use' must be 'sig'/);
    expect(reason(() => checkPublicJwk({ ...ec, key_ops: ['verify', 'sign'] }))).toMatch(/key_ops/);
    expect(reason(() => checkPublicJwk({ ...ec, x: (ec.x as string).slice(0, 20) }))).toMatch(/32 bytes each/);
    expect(reason(() => checkPublicJwk({ ...ec, x: 'not base64url!' }))).toMatch(/base64url/);
    expect(reason(() => checkPublicJwk({ ...ec, kid: '' }))).toMatch(/kid/);
  });

  it('counts RSA modulus bits exactly: 2048 to 8192 accepted, one bit less or more refused', () => {
    expect(checkPublicJwk({ kty: 'RSA', e: 'AQAB', n: modulus(2048) }).alg).toBe('RS256');
    expect(checkPublicJwk({ kty: 'RSA', e: 'AQAB', n: modulus(8192) }).alg).toBe('RS256');
    expect(reason(() => checkPublicJwk({ kty: 'RSA', e: 'AQAB', n: modulus(2047) }))).toMatch(/at least 2048 bits \(this one is 2047\)/);
    expect(reason(() => checkPublicJwk({ kty: 'RSA', e: 'AQAB', n: modulus(8193) }))).toMatch(/at most 8192 bits \(this one is 8193\)/);
    expect(reason(() => checkPublicJwk({ kty: 'RSA', e: 'AQAB', n: 'AAAA' }))).toMatch(/this one is 0/);
  });
});

describe('acceptPublicJwk', () => {
  it('gives the RFC 7638 thumbprint of the RFC\'s own example key', async () => {
    const k = await acceptPublicJwk(RFC7638_KEY);
    expect(k.thumbprint).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
    expect(k.jwk.kid).toBe('2011-04-29');
  });

  it('refuses a key that does not import: a point off the curve, a 1024-bit RSA key', async () => {
    const ec = (await keyPair('ES256')).pub;
    const y = Buffer.from(ec.y as string, 'base64url');
    y[31] = y[31]! ^ 1;
    expect(await reasonOf(acceptPublicJwk({ ...ec, y: y.toString('base64url') }))).toMatch(/does not import as a ES256 public key/);
    const small = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    expect(await reasonOf(acceptPublicJwk(small as Record<string, unknown>))).toMatch(/at least 2048 bits \(this one is 1024\)/);
  });

  it('accepts each key kind and gives distinct thumbprints', async () => {
    const prints = new Set<string>();
    for (const alg of ['EdDSA', 'ES256', 'ES384', 'RS256']) {
      const k = await acceptPublicJwk((await keyPair(alg)).pub);
      expect(k.thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
      prints.add(k.thumbprint);
    }
    expect(prints.size).toBe(4);
  });
});
