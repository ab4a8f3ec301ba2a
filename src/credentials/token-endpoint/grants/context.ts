import type { Provenance } from '../../../platform/actor.js';
import type { Clock } from '../../../platform/clock.js';
import type { AccessTokenClaims, CredentialDirectory, FederationVerifier, ReplayStore } from '../../contracts.js';
import type { AuthenticatedClient } from '../client-auth.js';
import type { ClientAssertionVerifier } from '../client-assertion.js';
import type { IssueRequest } from '../issue.js';
import type { OAuthParams } from '../params.js';

// What every grant handler receives, and what it returns: the request to issue (or an OAuthError thrown).

export interface GrantDeps {
  directory: CredentialDirectory;
  clock: Clock;
  issuer: () => string;
  replay: ReplayStore;
  federation: FederationVerifier;
  verifyAssertion: ClientAssertionVerifier;
  /** Verifies a token this server issued (signature, iss, exp, revocation, principals), for any audience. */
  verifyIssuedToken: (token: string) => Promise<AccessTokenClaims>;
  /** The record of an issued token (oauth_tokens), for exchanges. */
  issuedToken: (jti: string) => Promise<{ familyId: string; depth: number; actChain: string[]; revoked: boolean } | undefined>;
  maxDelegationDepth: number;
}

export interface GrantRequest {
  params: OAuthParams;
  client: AuthenticatedClient | undefined;
  /** The DPoP key thumbprint the new token is bound to, when the request carried a proof. */
  jkt: string | null;
  provenance: Provenance;
}

export type GrantHandler = (deps: GrantDeps, req: GrantRequest) => Promise<IssueRequest>;
