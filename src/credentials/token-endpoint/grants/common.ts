import { credentialActor, type Actor, type Provenance } from '../../../platform/actor.js';
import type { CredentialKind } from '../../../platform/actor.js';
import type { CredentialPrincipal } from '../../contracts.js';
import { choosePurpose, chooseScope, grantedLifetime, parseScope } from '../../narrowing.js';
import { OAuthError } from '../../oauth-errors.js';
import { resolveAudiences } from '../audience.js';
import { requestedLifetime } from '../params.js';
import type { AuthenticatedClient } from '../client-auth.js';
import type { GrantDeps, GrantRequest } from './context.js';

// Rules shared by the grants: who may receive a token at all, and how the audit log names the client.

/** Only active principals get tokens: proposed, suspended (orphaned ones included) and decommissioned get nothing. */
export function assertMayReceive(principal: CredentialPrincipal, errorCode: 'unauthorized_client' | 'invalid_grant' = 'unauthorized_client'): void {
  if (principal.status !== 'active') throw new OAuthError(errorCode, `principal '${principal.name}' is ${principal.status}; only active principals receive tokens`);
}

/** The client as the audit log names it: its principal, the credential it authenticated with, and the request. */
export function clientActor(principal: CredentialPrincipal, credential: { id: string; kind: CredentialKind }, authMethod: Actor['authMethod'], provenance: Provenance): Actor {
  return credentialActor({
    principal: { id: principal.id, name: principal.name, kind: principal.kind, status: principal.status, ownerId: principal.ownerId },
    credential, authMethod, teamIds: principal.teamIds, scope: [], purpose: null, audience: [], binding: null, delegationChain: [], provenance,
  });
}

/** The authenticated client as the audit log names it (its client key or client secret). */
export function authenticatedClientActor(client: AuthenticatedClient, provenance: Provenance): Actor {
  return clientActor(client.principal, { id: client.credentialId, kind: client.method === 'private_key_jwt' ? 'client_key' : 'client_secret' }, client.method, provenance);
}

/** What a principal asking for itself (client_credentials, jwt-bearer) gets: its approved scopes (or the asked-for
 * subset), one allowed purpose, audiences it may address, a lifetime capped by its tier. */
export async function ownGrant(deps: GrantDeps, req: GrantRequest, p: CredentialPrincipal) {
  const scope = chooseScope(parseScope(req.params.one('scope')), p.scopes);
  const purpose = choosePurpose(req.params.one('purpose'), p.purposes);
  const audience = await resolveAudiences(req.params.many('resource'), { directory: deps.directory, issuer: deps.issuer(), principal: p, purpose });
  const now = Math.floor(deps.clock.now().getTime() / 1000);
  const exp = now + grantedLifetime(requestedLifetime(req.params), p.riskTier);
  return { sub: { id: p.id, name: p.name }, clientId: p.id, scope, audience, purpose, exp, authTime: now, jkt: req.jkt, actors: [], parent: null };
}
