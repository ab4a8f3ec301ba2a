import type { IncomingHttpHeaders } from 'node:http';
import type { Provenance } from '../../platform/actor.js';
import type { Clock } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Database } from '../../platform/store/db.js';
import type { AuditWriter } from '../../audit/index.js';
import type { ClientMaterial, CredentialDirectory, DpopVerifier, FederationVerifier, SigningKeyStore, AccessTokenClaims } from '../contracts.js';
import { OAuthError } from '../oauth-errors.js';
import type { TransactionalReplayStore } from '../replay-store.js';
import { createClientAssertionVerifier, ReplayRefused, replayRefusal, type ClientAssertionVerifier } from './client-assertion.js';
import { createClientAuthenticator } from './client-auth.js';
import { bindingFromProof } from './dpop-proof.js';
import { clientCredentialsGrant } from './grants/client-credentials.js';
import type { GrantDeps, GrantHandler } from './grants/context.js';
import { JWT_BEARER, jwtBearerGrant } from './grants/jwt-bearer.js';
import { TOKEN_EXCHANGE, tokenExchangeGrant } from './grants/token-exchange.js';
import { createTokenIssuer, type IssuedToken } from './issue.js';
import { readParams, required } from './params.js';

// The token endpoint (POST /oauth/token) as an ordered table of small steps, each a file whose header lists its
// rules (node-oidc-provider's style):
//
//   readParams → grant type supported → bindingFromProof (DPoP) → authenticateClient → grant handler → issue
//
// The grant handlers decide what the token may carry (grants/*.ts, narrowing.ts); `issue` signs it and commits
// its record and audit event before the response is sent. Errors are OAuthErrors (RFC 6749 §5.2 shape).
// A client assertion's jti is claimed by `issue`, in the transaction that records the token (client-auth.ts
// defers it). A request refused after authentication (by its grant, or before its record commits) claims it on
// its own before the refusal is answered, so every assertion that verified is spent, as when it was claimed
// at authentication; a replay refused that way answers as a replay.

export const GRANT_TYPES: Record<string, GrantHandler> = {
  client_credentials: clientCredentialsGrant,
  [JWT_BEARER]: jwtBearerGrant,
  [TOKEN_EXCHANGE]: tokenExchangeGrant,
};

export interface TokenEndpointDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  issuer: () => string;
  directory: CredentialDirectory;
  keys: SigningKeyStore;
  clientMaterial: ClientMaterial;
  replay: TransactionalReplayStore;
  dpop: DpopVerifier;
  federation: FederationVerifier;
  verifyIssuedToken: (token: string) => Promise<AccessTokenClaims>;
  issuedToken: GrantDeps['issuedToken'];
  maxDelegationDepth: number;
}

export interface TokenRequest {
  headers: IncomingHttpHeaders;
  body: unknown;
  provenance: Provenance;
}

export const tokenEndpointUrl = (issuer: string) => `${issuer}/oauth/token`;

export function createTokenEndpoint(deps: TokenEndpointDeps) {
  const verifyAssertion: ClientAssertionVerifier = createClientAssertionVerifier({
    directory: deps.directory, clientMaterial: deps.clientMaterial, replay: deps.replay, clock: deps.clock,
    audiences: () => [deps.issuer(), tokenEndpointUrl(deps.issuer())],
  });
  const authenticateClient = createClientAuthenticator({ directory: deps.directory, clientMaterial: deps.clientMaterial, verifyAssertion });
  const issue = createTokenIssuer(deps);
  // Other modules add grants of their own (the sign-in module: authorization_code, refresh_token, device_code):
  // the table stays one, so every grant goes through the same binding, client authentication and issue steps.
  const grants: Record<string, GrantHandler> = { ...GRANT_TYPES };
  const grantDeps: GrantDeps = {
    directory: deps.directory, clock: deps.clock, issuer: deps.issuer, replay: deps.replay, federation: deps.federation, verifyAssertion,
    verifyIssuedToken: deps.verifyIssuedToken, issuedToken: deps.issuedToken, maxDelegationDepth: deps.maxDelegationDepth,
  };

  return {
    verifyAssertion,
    authenticateClient,
    /** Adds a grant type (another module's); a type already in the table is refused. */
    addGrant(type: string, handler: GrantHandler): void {
      if (Object.hasOwn(grants, type)) throw new Error(`grant type ${type} is already handled`);
      grants[type] = handler;
    },
    grantTypes: (): string[] => Object.keys(grants),
    async token(req: TokenRequest): Promise<IssuedToken> {
      const params = readParams(req.body);
      const grantType = required(params, 'grant_type');
      const grant = Object.hasOwn(grants, grantType) ? grants[grantType] : undefined;
      if (!grant) throw new OAuthError('unsupported_grant_type', `grant_type ${grantType.slice(0, 100)} is not supported; supported: ${Object.keys(grants).join(', ')}`);
      const jkt = await bindingFromProof(deps.dpop, req.headers, tokenEndpointUrl(deps.issuer()));
      const client = await authenticateClient(req.headers, params, { deferClaim: true });
      const pending = client?.pendingClaim;
      let issued: IssuedToken;
      try {
        const request = await grant(grantDeps, { params, client, jkt, provenance: req.provenance });
        issued = await issue(request, pending);
      } catch (error) {
        if (pending && !(error instanceof ReplayRefused)) {
          const fresh = await deps.replay.claimOnce(pending.kind, pending.id, pending.expiresAt);
          if (!fresh) throw replayRefusal();
        }
        throw error;
      }
      if (client) void deps.clientMaterial.markUsed(client.credentialId).catch(() => undefined);
      return issued;
    },
  };
}
export type TokenEndpoint = ReturnType<typeof createTokenEndpoint>;
