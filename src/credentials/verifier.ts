import type { Actor, Provenance } from '../platform/actor.js';
import { parseCustosToken, type CustosTokenKind } from '../platform/credential-format.js';
import { errors } from '../platform/http/errors.js';
import type { CredentialVerifier, PresentedCredential } from '../platform/http/pipeline/index.js';

// The one verifier every enforcement point calls. It looks at what kind of credential was presented and
// hands it to the module that issued that kind; each issuer checks its own secrets, expiry, revocation and
// principal. Today the management plane's operator tokens (custos_op_…) are the only kind issued; the
// token service adds API keys (custos_ak_…) and JWT access tokens here, so the pipeline never changes.
//
// Rules:
// - No credential → 401 with a challenge; never an anonymous actor.
// - A string that is not a well-formed Custos credential of an issued kind → 401, recorded as auth.failed.
// - Verification errors are 401 (or 503 when the store fails): a verifier never returns a partial Actor.

/** An issuer of one credential kind. */
export interface CredentialIssuer {
  authenticate(token: string, provenance: Provenance): Promise<Actor>;
  recordFailure(token: string, reason: string, provenance: Provenance, credentialId: string | null): Promise<void>;
}

export function createCredentialVerifier(issuers: Partial<Record<CustosTokenKind, CredentialIssuer>> & { op: CredentialIssuer }): CredentialVerifier {
  return async (presented: PresentedCredential | undefined, provenance: Provenance): Promise<Actor> => {
    if (!presented) throw errors.unauthenticated();
    const kind = parseCustosToken(presented.token)?.kind;
    const issuer = kind ? issuers[kind] : undefined;
    if (!issuer) {
      await issuers.op.recordFailure(presented.token, 'malformed_token', provenance, null);
      throw errors.unauthenticated('token is not a valid Custos credential');
    }
    return issuer.authenticate(presented.token, provenance);
  };
}
