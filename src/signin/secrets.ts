import crypto from 'node:crypto';

// The one-time values of the sign-in flows: authorization codes, device codes, user codes, browser bindings and
// CSRF tokens. Codes are stored only as SHA-256 hashes; CSRF tokens are HMACs of the request and the browser's
// binding, so nothing needs storing for them and a token from one browser or request is useless in another.

/** 256 random bits, base64url (authorization and device codes, browser bindings). */
export const randomSecret = (): string => crypto.randomBytes(32).toString('base64url');

export const sha256 = (value: string): string => crypto.createHash('sha256').update(value).digest('hex');

/** Constant-time comparison of two strings (hashes, tokens). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** RFC 8628 §6.1: a short code a person types; 20 consonants, no vowels (no words), 8 characters ≈ 34.6 bits. */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export function randomUserCode(): string {
  let out = '';
  for (let i = 0; i < 8; i++) out += USER_CODE_ALPHABET[crypto.randomInt(USER_CODE_ALPHABET.length)];
  return `${out.slice(0, 4)}-${out.slice(4)}`;
}

/** What a person typed → the stored form (case, spaces and dashes ignored); null when it cannot be a user code. */
export function normaliseUserCode(input: string): string | null {
  const chars = input.toUpperCase().replace(/[\s-]/g, '');
  if (chars.length !== 8 || [...chars].some((c) => !USER_CODE_ALPHABET.includes(c))) return null;
  return `${chars.slice(0, 4)}-${chars.slice(4)}`;
}

export function csrfToken(key: Buffer, requestId: string, binding: string): string {
  return crypto.createHmac('sha256', key).update(`csrf\0${requestId}\0${binding}`).digest('base64url');
}
