import { SIGNING_ALGS, type SigningAlg } from '../contracts.js';
import { reject, type Check } from './context.js';

// Step 2: the protected header, before any key is looked up (RFC 8725 §2.1, §3.1, §3.11; RFC 9068 §4).
//
// Rules:
// - `alg` is one of the algorithms our keys use (EdDSA, ES256), exactly. `none` in any spelling, HS* (an HMAC
//   keyed with our public key), RS*/PS* or a missing alg → unsupported_alg. The key decides the algorithm
//   later (key.ts); this only refuses what no key of ours could ever verify.
// - `jku`, `x5u`, `x5c`, `jwk` or `crit` present → forbidden_header. A token never chooses its own key or
//   makes us fetch one: nothing named in a header is ever fetched or trusted, and no extension is understood.
// - `kid` is a non-empty string → else unknown_kid (without it there is no key to pick).
// - `typ` is `at+jwt` or `application/at+jwt`, case-insensitive → else wrong_typ, so an ID token (typ JWT or
//   none) or a DPoP proof (dpop+jwt) presented as an access token is refused.

export const FORBIDDEN_HEADERS = ['jku', 'x5u', 'x5c', 'jwk', 'crit'] as const;
const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt']);

export const header: Check = (state) => {
  const h = state.header!;
  if (typeof h.alg !== 'string' || !SIGNING_ALGS.includes(h.alg as SigningAlg)) {
    reject(state, 'unsupported_alg', `tokens signed with ${typeof h.alg === 'string' ? `'${h.alg.slice(0, 20)}'` : 'no algorithm'} are not accepted`);
  }
  const forbidden = FORBIDDEN_HEADERS.filter((name) => Object.hasOwn(h, name));
  if (forbidden.length > 0) reject(state, 'forbidden_header', `header parameters ${forbidden.join(', ')} are not accepted`);
  if (typeof h.kid !== 'string' || h.kid.length === 0) reject(state, 'unknown_kid', 'the token header names no key (kid)');
  if (typeof h.typ !== 'string' || !ACCESS_TOKEN_TYPES.has(h.typ.toLowerCase())) reject(state, 'wrong_typ', 'the token is not an access token (typ must be at+jwt)');
};
