// Deterministic fake secrets for rule examples, tests and the benchmark (never real credentials).
import { crc32Base62, formatCustosToken } from '../../platform/credential-format.js';

export const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const HEX = '0123456789abcdef';
export const UPPER32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const LOWER32 = 'abcdefghijklmnopqrstuvwxyz234567';
export const B64 = ALNUM + '+/';
export const URLSAFE = ALNUM + '_-';
export const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Small seeded generator (mulberry32) so examples are stable between runs. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomString(alphabet: string, n: number, rnd: () => number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
  return s;
}

/** GitHub-style token: prefix + 30 random + base62 CRC32 of the random part. */
export function checksummedToken(prefix: string, rnd: () => number): string {
  const body = randomString(ALNUM, 30, rnd);
  return `${prefix}${body}${crc32Base62(body)}`;
}

export function fakeCustosToken(kind: 'op' | 'ak', rnd: () => number): string {
  return formatCustosToken(kind, randomString(LOWER32, 16, rnd), randomString(ALNUM, 32, rnd));
}

function b64url(s: string): string {
  return Buffer.from(s).toString('base64url');
}

export function fakeJwt(payload: Record<string, unknown>, rnd: () => number): string {
  return `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}.${randomString(URLSAFE, 86, rnd)}`;
}

export function fakePem(label: string, rnd: () => number): string {
  const lines: string[] = [];
  for (let i = 0; i < 6; i++) lines.push(randomString(B64, 64, rnd));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----`;
}
