import { describe, expect, it } from 'vitest';
import { CredentialRejected } from '../contracts.js';
import { checkClaims, DEFAULT_WINDOW_SECONDS, FUTURE_SKEW_SECONDS } from './claims.js';

const nowSeconds = 1_767_225_600; // 2026-01-01T00:00:00Z
const request = { method: 'POST', url: 'https://custos.example.com/oauth/token', nowSeconds, windowSeconds: DEFAULT_WINDOW_SECONDS };
const good = { jti: 'j-1', htm: 'POST', htu: 'https://custos.example.com/oauth/token', iat: nowSeconds };

const detailOf = (payload: Record<string, unknown>, req = request) => {
  try {
    checkClaims(payload, req);
  } catch (error) {
    expect(error).toBeInstanceOf(CredentialRejected);
    expect((error as CredentialRejected).reason).toBe('dpop_invalid');
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('checkClaims', () => {
  it('returns jti and iat of claims that describe this request', () => {
    expect(checkClaims(good, request)).toEqual({ jti: 'j-1', iat: nowSeconds });
    expect(checkClaims({ ...good, jti: 'x'.repeat(256) }, request).jti).toHaveLength(256);
  });

  it('requires jti as a string of 1 to 256 characters', () => {
    const detail = 'DPoP proof jti must be a string of 1 to 256 characters';
    for (const jti of [undefined, '', 'x'.repeat(257), 42, ['a']]) expect(detailOf({ ...good, jti })).toBe(detail);
  });

  it('requires htm equal to the method, exactly', () => {
    expect(detailOf({ ...good, htm: undefined })).toBe('DPoP proof htm is missing');
    for (const htm of ['GET', 'post', 'POST ']) expect(detailOf({ ...good, htm })).toBe('DPoP proof htm does not match the request method');
    expect(checkClaims({ ...good, htm: 'GET' }, { ...request, method: 'GET' }).jti).toBe('j-1');
  });

  it('requires htu to name this request (after normalisation)', () => {
    expect(detailOf({ ...good, htu: 'https://custos.example.com/oauth/revoke' })).toBe('DPoP proof htu does not match the request URL');
    expect(checkClaims({ ...good, htu: 'HTTPS://custos.example.com:443/oauth/token?q' }, request).jti).toBe('j-1');
  });

  it('accepts iat from window seconds ago to the future skew, and nothing outside', () => {
    expect(checkClaims({ ...good, iat: nowSeconds - DEFAULT_WINDOW_SECONDS }, request).iat).toBe(nowSeconds - 60);
    expect(detailOf({ ...good, iat: nowSeconds - DEFAULT_WINDOW_SECONDS - 1 })).toBe('DPoP proof iat is too old');
    expect(detailOf({ ...good, iat: nowSeconds - 3600 })).toBe('DPoP proof iat is too old');
    expect(checkClaims({ ...good, iat: nowSeconds + FUTURE_SKEW_SECONDS }, request).iat).toBe(nowSeconds + 5);
    expect(detailOf({ ...good, iat: nowSeconds + FUTURE_SKEW_SECONDS + 1 })).toBe('DPoP proof iat is in the future');
    expect(checkClaims({ ...good, iat: nowSeconds - 10 }, { ...request, windowSeconds: 10 }).iat).toBe(nowSeconds - 10);
    expect(detailOf({ ...good, iat: nowSeconds - 11 }, { ...request, windowSeconds: 10 })).toBe('DPoP proof iat is too old');
    // Fractional times compare as they are: half a second past the window is outside.
    expect(detailOf({ ...good, iat: nowSeconds }, { ...request, nowSeconds: nowSeconds + 60.5 })).toBe('DPoP proof iat is too old');
    for (const iat of [undefined, '1767225600', Number.NaN, Number.POSITIVE_INFINITY]) expect(detailOf({ ...good, iat })).toBe('DPoP proof iat is missing');
  });

  it('checks in order: jti, htm, htu, iat', () => {
    expect(detailOf({ htm: 'GET', htu: 'x', iat: 0 })).toMatch(/jti/);
    expect(detailOf({ jti: 'a', htm: 'GET', htu: 'x', iat: 0 })).toMatch(/htm/);
    expect(detailOf({ jti: 'a', htm: 'POST', htu: 'x', iat: 0 })).toMatch(/htu/);
  });
});
