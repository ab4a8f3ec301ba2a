import crypto from 'node:crypto';
import { crc32 } from 'node:zlib';

// The one definition of Custos bearer credentials: custos_<kind>_<id>_<secret>_<crc>
// (op: operator token, ak: API key, cs: OAuth client secret, rt: a person's refresh token).
// The issuer (operators, later credentials) mints with it and the scanner recognises leaks with it, so a
// leaked token is validated offline (checksum) and traced to its row (id) without the secret ever being stored:
// only the SHA-256 of the whole token is kept.

export type CustosTokenKind = 'op' | 'ak' | 'cs' | 'rt';
export const CUSTOS_TOKEN_KINDS: readonly CustosTokenKind[] = ['op', 'ak', 'cs', 'rt'];

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_RE = /^[a-z2-7]{16}$/;
const SECRET_RE = /^[A-Za-z0-9]{32}$/;
const TOKEN_RE = /^custos_(op|ak|cs|rt)_([a-z2-7]{16})_([A-Za-z0-9]{32})_([A-Za-z0-9]{6})$/;
/** The credential id as it appears in URLs. */
export const CREDENTIAL_ID_PATTERN = /^[a-z2-7]{16}$/;

export function base62(n: number, width: number): string {
  let v = n >>> 0;
  let out = '';
  do {
    out = BASE62[v % 62] + out;
    v = Math.floor(v / 62);
  } while (v > 0);
  return out.padStart(width, '0');
}

/** base62(CRC32(s)) padded to `width`: the checksum Custos (and GitHub and npm) tokens end with. */
export function crc32Base62(s: string, width = 6): string {
  return base62(crc32(s) >>> 0, width);
}

/** Builds a token; the last part is base62(CRC32("custos_<kind>_<id>_<secret>")) padded to 6. */
export function formatCustosToken(kind: CustosTokenKind, id: string, secret: string): string {
  if (!CUSTOS_TOKEN_KINDS.includes(kind)) throw new Error('unknown Custos token kind');
  if (!ID_RE.test(id)) throw new Error('id must be 16 lowercase base32 characters');
  if (!SECRET_RE.test(secret)) throw new Error('secret must be 32 base62 characters');
  const body = `custos_${kind}_${id}_${secret}`;
  return `${body}_${crc32Base62(body)}`;
}

/** Returns the kind and credential id when the token is well-formed with a valid checksum, else null. */
export function parseCustosToken(s: string): { kind: CustosTokenKind; id: string } | null {
  const m = TOKEN_RE.exec(s);
  if (!m) return null;
  const [, kind, id, secret, crc] = m;
  if (crc32Base62(`custos_${kind}_${id}_${secret}`) !== crc) return null;
  return { kind: kind as CustosTokenKind, id: id! };
}

function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[crypto.randomInt(alphabet.length)];
  return out;
}

/** A fresh credential of `kind`: a random id (stored in clear) and secret (never stored). */
export function generateCustosToken(kind: CustosTokenKind): { id: string; token: string } {
  const id = randomString(BASE32, 16);
  return { id, token: formatCustosToken(kind, id, randomString(BASE62, 32)) };
}

/** What is stored for a token: SHA-256 hex of the whole token. */
export function hashCustosToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented token with a stored hash. */
export function custosTokenMatches(token: string, storedHash: string): boolean {
  const a = Buffer.from(hashCustosToken(token), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}
