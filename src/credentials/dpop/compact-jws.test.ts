import { base64url } from 'jose';
import { describe, expect, it } from 'vitest';
import { CredentialRejected } from '../contracts.js';
import { DEFAULT_DPOP_ALGORITHMS } from './algorithms.js';
import { checkCompactJws } from './compact-jws.js';

const jwk = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };
const b64 = (value: unknown) => base64url.encode(typeof value === 'string' ? value : JSON.stringify(value));
const jws = (header: unknown, payload: unknown = { jti: 'x' }, signature = 'c2ln') => `${b64(header)}.${b64(payload)}.${signature}`;

const detailOf = (proof: string) => {
  try {
    checkCompactJws(proof, DEFAULT_DPOP_ALGORITHMS);
  } catch (error) {
    expect(error).toBeInstanceOf(CredentialRejected);
    expect((error as CredentialRejected).reason).toBe('dpop_invalid');
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('checkCompactJws', () => {
  it('returns alg and the unchecked jwk of a well-formed DPoP proof header', () => {
    expect(checkCompactJws(jws({ typ: 'dpop+jwt', alg: 'EdDSA', jwk }), DEFAULT_DPOP_ALGORITHMS)).toEqual({ alg: 'EdDSA', jwk });
    expect(checkCompactJws(jws({ typ: 'dpop+jwt', alg: 'ES256' }), ['ES256'])).toEqual({ alg: 'ES256', jwk: undefined });
  });

  it('refuses anything but three non-empty base64url parts', () => {
    const good = jws({ typ: 'dpop+jwt', alg: 'EdDSA', jwk });
    expect(detailOf(good.split('.').slice(0, 2).join('.'))).toBe('DPoP proof is not a compact JWS (three parts)');
    expect(detailOf(`${good}.extra`)).toBe('DPoP proof is not a compact JWS (three parts)');
    expect(detailOf(`${good}.a.b`)).toBe('DPoP proof is not a compact JWS (three parts)'); // a JWE's five
    expect(detailOf(good.replace(/\.[^.]+$/, '.'))).toBe('DPoP proof has an empty or non-base64url part'); // empty signature
    expect(detailOf(`${b64({ typ: 'dpop+jwt', alg: 'EdDSA', jwk })}..c2ln`)).toBe('DPoP proof has an empty or non-base64url part'); // detached
    expect(detailOf(good.replace(/\.[^.]+$/, '.c2l+'))).toBe('DPoP proof has an empty or non-base64url part');
    expect(detailOf(`${b64('not json')}.${b64({})}.c2ln`)).toBe('DPoP proof header is not a JSON object');
    expect(detailOf(`${b64('[1]')}.${b64({})}.c2ln`)).toBe('DPoP proof header is not a JSON object');
  });

  it('requires typ exactly dpop+jwt', () => {
    for (const typ of [undefined, 'JWT', 'at+jwt', 'application/dpop+jwt', 'DPOP+JWT', 'dpop+jwt ']) {
      expect(detailOf(jws({ typ, alg: 'EdDSA', jwk }))).toBe('DPoP proof typ is not dpop+jwt');
    }
  });

  it('refuses none in any case, symmetric and unknown algorithms, and one outside the configured list', () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE', 'HS256', 'HS512', 'eddsa', 'ES256K', 'XYZ', '', 42, undefined]) {
      expect(detailOf(jws({ typ: 'dpop+jwt', alg, jwk }))).toBe('DPoP proof alg is not an allowed asymmetric algorithm');
    }
    expect(() => checkCompactJws(jws({ typ: 'dpop+jwt', alg: 'EdDSA', jwk }), ['ES256'])).toThrow('DPoP proof alg is not an allowed asymmetric algorithm');
  });

  it('refuses a key by reference (jku, x5u)', () => {
    expect(detailOf(jws({ typ: 'dpop+jwt', alg: 'EdDSA', jwk, jku: 'https://attacker.example/jwks' }))).toBe('DPoP proof must carry its key in jwk, not by reference');
    expect(detailOf(jws({ typ: 'dpop+jwt', alg: 'EdDSA', x5u: 'https://attacker.example/cert' }))).toBe('DPoP proof must carry its key in jwk, not by reference');
  });
});
