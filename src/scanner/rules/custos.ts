// Custos credential format: custos_<kind>_<id>_<secret>_<crc>. Pure helpers shared with the server.
import { crc32Base62 } from './checksum.js';

export type CustosTokenKind = 'op' | 'ak';
export const CUSTOS_TOKEN_KINDS: readonly CustosTokenKind[] = ['op', 'ak'];

const ID_RE = /^[a-z2-7]{16}$/;
const SECRET_RE = /^[A-Za-z0-9]{32}$/;
const TOKEN_RE = /^custos_(op|ak)_([a-z2-7]{16})_([A-Za-z0-9]{32})_([A-Za-z0-9]{6})$/;

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
