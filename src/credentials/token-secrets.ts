import crypto from 'node:crypto';
import { formatCustosToken, parseCustosToken, type CustosTokenKind } from '../scanner/rules/custos.js';

// Generation and hashing of Custos bearer secrets. The format (prefix, id, secret, CRC) lets the scanner
// recognise and validate a leaked token offline; only the SHA-256 of the whole token is stored.

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[crypto.randomInt(alphabet.length)];
  return out;
}

export function generateToken(kind: CustosTokenKind): { id: string; token: string } {
  const id = randomString(BASE32, 16);
  return { id, token: formatCustosToken(kind, id, randomString(BASE62, 32)) };
}

export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

export function tokenMatches(token: string, storedHash: string): boolean {
  const a = Buffer.from(hashToken(token), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

export { parseCustosToken };
