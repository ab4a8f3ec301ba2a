import { OAuthError } from '../../oauth-errors.js';
import { CredentialRejected } from '../../contracts.js';
import { required } from '../params.js';
import { assertMayReceive, clientActor, ownGrant } from './common.js';
import type { GrantHandler } from './context.js';

// Grant: urn:ietf:params:oauth:grant-type:jwt-bearer (RFC 7523 §2.1) — workload identity federation. A CI job or a
// pod presents a JWT from a trusted issuer; the federation settings map it to exactly one principal.
// Rules:
// - The assertion authenticates the request; client authentication is optional, and when present must be the
//   same principal the assertion maps to.
// - The assertion's signature, issuer, audience, algorithms, lifetime and claim mapping are checked by the
//   federation verifier (fail closed when its JWKS cannot be fetched); its jti, when present, is single use.
// - The mapped principal must be active and non-human; scope, purpose, audience and lifetime as client_credentials.

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const LEEWAY_SECONDS = 30;

export const jwtBearerGrant: GrantHandler = async (deps, req) => {
  const assertion = required(req.params, 'assertion');
  let identity;
  try {
    identity = await deps.federation.verifyAssertion(assertion);
  } catch (error) {
    if (error instanceof CredentialRejected) throw new OAuthError('invalid_grant', `assertion refused: ${error.message}`);
    throw error;
  }
  if (identity.jti !== null) {
    const fresh = await deps.replay.claimOnce('federated', `${identity.issuer}\n${identity.jti}`, new Date((identity.expiresAt + LEEWAY_SECONDS) * 1000));
    if (!fresh) throw new OAuthError('invalid_grant', 'assertion was used before (replay)');
  }
  const p = await deps.directory.principal(identity.principalId);
  if (!p) throw new OAuthError('invalid_grant', 'the mapped principal no longer exists');
  assertMayReceive(p, 'invalid_grant');
  if (p.kind === 'human') throw new OAuthError('invalid_grant', 'federated workload identities map to non-human principals only');
  if (req.client && req.client.principal.id !== p.id) throw new OAuthError('invalid_grant', 'the authenticated client is not the principal the assertion maps to');
  return {
    ...await ownGrant(deps, req, p),
    actor: clientActor(p, { id: `${identity.issuerName}:${identity.subject}`.slice(0, 200), kind: 'federated_jwt' }, 'federated', req.provenance),
    grantType: JWT_BEARER, authMethod: 'federated', credentialId: null,
  };
};
