import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { PostureIssuersTable } from '../../platform/store/schema.js';
import { postureFromClaims, type AssertionOutcome } from './posture.js';

// Signed posture assertions: a JWT an MDM or EDR (a configured posture issuer) signed about a device and the
// principal using it, presented with a request (`facts.device.assertion`). Verified with jose; any failure is an
// outcome `{ ok: false, why }` (the decision sees posture `unknown`), never an exception and never `compliant`.
//
// Rules:
// - At most MAX_ASSERTION_LENGTH characters. The unverified `iss` only selects the configured issuer (exact match);
//   an issuer that is not configured → unknown. Keys come only from that issuer's configuration (inline JWKS or
//   jwks_uri); header `jku`, `x5u` and `jwk` are ignored.
// - Algorithms: asymmetric only (RS*, PS*, ES*, EdDSA/Ed25519), and jose picks the key by `kid` and the key's own
//   type and `alg`, so `none`, HS* and an algorithm the key does not have are refused.
// - A token explicitly typed as something else (`typ` at+jwt, dpop+jwt) is not a posture assertion.
// - `iss` equal to the issuer, `sub`, `iat` and `exp` required; `exp`/`nbf` with CLOCK_TOLERANCE_SECONDS leeway;
//   `iat` older than the issuer's max_age_seconds → stale; `iat` in the future beyond the leeway → refused.
// - `sub` must be the acting principal's registry id or its name. (The assertion binds device and principal; an
//   assertion about someone else proves nothing about this request.)
// - `device_id` (optional, a string of at most 200 characters) names the device; `posture`/`compliant` give the
//   posture (posture.ts). `aud` is not checked: an assertion is a statement about a device, and the issuer is trusted
//   for that statement whoever receives it.
// - The reasons never quote the assertion.

export const MAX_ASSERTION_LENGTH = 16 * 1024;
export const CLOCK_TOLERANCE_SECONDS = 30;
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const REFUSED_TYPES = new Set(['at+jwt', 'dpop+jwt']);

export interface AssertionDeps {
  /** The configured issuer whose `issuer` is exactly `iss`. */
  findIssuer(iss: string): Promise<PostureIssuersTable | undefined>;
  keysOf(row: PostureIssuersTable): JWTVerifyGetKey;
  now: Date;
}

/** What jose's refusal means, as the rest of "the assertion …"; never quotes the assertion. */
function describe(error: unknown): string {
  const e = error as { code?: string; claim?: string; reason?: string; name?: string };
  switch (e.code) {
    case 'ERR_JWT_EXPIRED': return e.claim === 'iat' ? 'is stale: issued longer ago than the issuer\'s max_age_seconds' : 'has expired';
    case 'ERR_JOSE_ALG_NOT_ALLOWED': return 'uses an algorithm that is not accepted (asymmetric algorithms only)';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED': return 'has a signature that does not verify';
    case 'ERR_JWKS_NO_MATCHING_KEY': return 'matches no key of the issuer (kid, alg)';
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS': return 'matches more than one key of the issuer; it needs a kid';
    case 'ERR_JOSE_NOT_SUPPORTED': return 'uses an unsupported algorithm or key';
    case 'ERR_JWKS_TIMEOUT': return 'could not be checked: the issuer\'s keys were not fetched in time';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.reason === 'missing') return `has no '${e.claim}' claim`;
      if (e.claim === 'nbf') return 'is not yet valid';
      if (e.claim === 'iat') return 'has an iat in the future or not a number';
      return `has an invalid '${e.claim}' claim`;
    default:
      return e.name === 'JwksUnavailable' || e.code === 'ERR_CUSTOS_JWKS_UNAVAILABLE'
        ? 'could not be checked: the issuer\'s keys are unavailable' : 'is malformed or could not be verified';
  }
}

/** Verifies `assertion` for the principal (`id` and `name`); never throws. */
export async function verifyPostureAssertion(assertion: string, principal: { id: string; name: string | null }, deps: AssertionDeps): Promise<AssertionOutcome> {
  if (typeof assertion !== 'string' || assertion.length === 0) return { ok: false, why: 'no assertion was given' };
  if (assertion.length > MAX_ASSERTION_LENGTH) return { ok: false, why: `the assertion is longer than ${MAX_ASSERTION_LENGTH} characters` };
  let iss: unknown;
  let typ: unknown;
  try {
    iss = decodeJwt(assertion).iss;
    typ = decodeProtectedHeader(assertion).typ;
  } catch {
    return { ok: false, why: 'the assertion is not a signed JWT' };
  }
  if (typeof iss !== 'string' || iss.length === 0) return { ok: false, why: 'the assertion has no iss claim' };
  const row = await deps.findIssuer(iss);
  if (!row) return { ok: false, why: 'the assertion\'s issuer is not a configured posture issuer' };
  const named = (what: string): AssertionOutcome => ({ ok: false, why: `posture issuer '${row.name}': the assertion ${what}` });
  if (typeof typ === 'string' && REFUSED_TYPES.has(typ.toLowerCase().replace(/^application\//, ''))) {
    return named('is typed as another kind of token (at+jwt or dpop+jwt), not a posture assertion');
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, deps.keysOf(row), {
      algorithms: ASYMMETRIC_ALGORITHMS,
      issuer: row.issuer,
      requiredClaims: ['iat', 'exp', 'sub'],
      maxTokenAge: row.max_age_seconds,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: deps.now,
    }));
  } catch (error) {
    return named(describe(error));
  }
  if (payload.sub !== principal.id && (principal.name === null || payload.sub !== principal.name)) {
    return named('is about another principal (sub)');
  }
  const deviceId = typeof payload.device_id === 'string' && payload.device_id.length <= 200 ? payload.device_id : '';
  return { ok: true, posture: postureFromClaims(payload as Record<string, unknown>), deviceId, issuer: row.name };
}
