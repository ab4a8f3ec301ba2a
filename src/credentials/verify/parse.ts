import { base64url, type JWSHeaderParameters } from 'jose';
import { reject, type Check } from './context.js';

// Step 1: is this a compact JWS at all?
//
// Rules (anything else is malformed_token):
// - At most MAX_TOKEN_LENGTH characters (a token is a few hundred bytes; a huge one is an attack on the parser
//   and on the verified-token cache, which is keyed by the token).
// - Exactly three dot-separated segments (so a JWE's five, or four, or two are refused) of base64url
//   (A-Z a-z 0-9 - _, no padding). Header and payload are non-empty; the signature may be empty here (it
//   encodes zero bytes, which verify nothing: signature.ts refuses it), so `alg: none` with its empty
//   signature is refused for its algorithm by header.ts, as it should be.
// - The header decodes to UTF-8 (strictly: invalid bytes are refused, never replaced with U+FFFD the way a
//   lenient decoder would) holding a JSON object. jose's decodeProtectedHeader decodes leniently, hence this.

export const MAX_TOKEN_LENGTH = 8192;
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8 JSON object, or undefined. */
export function strictJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(utf8.decode(bytes));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

export const parse: Check = (state) => {
  const { token } = state;
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) reject(state, 'malformed_token', 'the access token is empty or too long');
  const segments = token.split('.');
  if (segments.length !== 3) reject(state, 'malformed_token', `an access token is a JWS of three segments; this has ${segments.length}`);
  const [head, body, sig] = segments as [string, string, string];
  if (!SEGMENT.test(head) || !SEGMENT.test(body) || !(sig === '' || SEGMENT.test(sig))) reject(state, 'malformed_token', 'the segments of an access token are base64url');
  let bytes: Uint8Array;
  try {
    bytes = base64url.decode(head);
  } catch {
    reject(state, 'malformed_token', 'the token header is not base64url');
  }
  const header = strictJsonObject(bytes);
  if (!header) reject(state, 'malformed_token', 'the token header is not a UTF-8 JSON object');
  state.header = header as JWSHeaderParameters;
};
