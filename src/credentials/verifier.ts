import type { Actor, Provenance } from '../platform/actor.js';
import { parseCustosToken, type CustosTokenKind } from '../platform/credential-format.js';
import { AppError, errors } from '../platform/http/errors.js';
import type { CredentialVerifier, PresentedCredential } from '../platform/http/pipeline/index.js';
import { CredentialRejected, type AccessTokenVerifier, type DpopVerifier } from './contracts.js';

// The one verifier every enforcement point calls: the management API today, the decision API and the gateway
// next. It looks at what kind of credential was presented and hands it to the part that issued that kind:
//   custos_op_… → operator tokens (operators module)   custos_ak_… → API keys
//   a JWT (three base64url segments) → access tokens (verify/: signature by the key's own algorithm, typ, iss,
//   aud = this enforcement point, exp/nbf, revocation, every principal of the chain active, DPoP binding)
//
// Rules:
// - No credential → 401 with a challenge; never an anonymous actor.
// - A string that is not a well-formed credential of an issued kind → 401, recorded as auth.failed.
// - Access tokens and API keys must be addressed to this enforcement point (their audience includes it).
// - A bound token without a valid proof → 401 invalid_dpop_proof (use_dpop_nonce with a DPoP-Nonce header when
//   a nonce is needed); everything else refused → 401 invalid_token. Store failures stay 503.
// - A verifier never returns a partial Actor.

/** An issuer of one custos_<kind>_ credential kind. */
export interface CredentialIssuer {
  authenticate(token: string, provenance: Provenance): Promise<Actor>;
  recordFailure(token: string, reason: string, provenance: Provenance, credentialId: string | null): Promise<void>;
}

export interface VerifierDeps {
  issuers: Partial<Record<CustosTokenKind, CredentialIssuer>> & { op: CredentialIssuer };
  accessTokens?: AccessTokenVerifier;
  dpop?: DpopVerifier;
  /** This enforcement point's own identifier: the audience its tokens carry. */
  audience: () => string;
  /** Records a refused access token (auth.failed), best effort. */
  recordJwtFailure?: (token: string, reason: string, provenance: Provenance, jti: string | null) => Promise<void>;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

function refusal(error: CredentialRejected, dpop: DpopVerifier | undefined): AppError {
  if (error.reason === 'dpop_nonce_required') {
    const e = new AppError('use_dpop_nonce', error.message);
    if (dpop) e.headers = { 'dpop-nonce': dpop.nonce() };
    return e;
  }
  if (error.reason === 'dpop_invalid' || error.reason === 'dpop_required') return new AppError('invalid_dpop_proof', error.message);
  return errors.unauthenticated(error.message);
}

export function createCredentialVerifier(deps: VerifierDeps): CredentialVerifier {
  const { issuers } = deps;

  async function accessToken(presented: PresentedCredential, provenance: Provenance): Promise<Actor> {
    if (!deps.accessTokens) throw errors.unauthenticated('access tokens are not accepted here');
    try {
      const { actor } = await deps.accessTokens.verify({ ...presented, provenance }, deps.audience());
      return actor;
    } catch (error) {
      if (!(error instanceof CredentialRejected)) throw error;
      await deps.recordJwtFailure?.(presented.token, error.reason, provenance, error.credentialId).catch(() => undefined);
      throw refusal(error, deps.dpop);
    }
  }

  return async (presented: PresentedCredential | undefined, provenance: Provenance): Promise<Actor> => {
    if (!presented) throw errors.unauthenticated();
    if (JWT_SHAPE.test(presented.token)) return accessToken(presented, provenance);
    const kind = parseCustosToken(presented.token)?.kind;
    const issuer = kind ? issuers[kind] : undefined;
    if (!issuer) {
      await issuers.op.recordFailure(presented.token, 'malformed_token', provenance, null);
      throw errors.unauthenticated('token is not a valid Custos credential');
    }
    // Custos bearer strings are not bound to a key: sent with the DPoP scheme they are refused.
    if (presented.scheme === 'dpop') throw errors.unauthenticated('only access tokens bound with DPoP may use the DPoP scheme');
    const actor = await issuer.authenticate(presented.token, provenance);
    if (actor.audience !== null && !actor.audience.includes(deps.audience())) {
      await issuer.recordFailure(presented.token, 'wrong_audience', provenance, actor.credential?.id ?? null);
      throw errors.unauthenticated('this credential is not addressed to this service');
    }
    return actor;
  };
}
