import { credentialActor, type Actor, type Provenance } from '../../../platform/actor.js';
import type { CredentialKind } from '../../../platform/actor.js';
import type { CredentialPrincipal } from '../../contracts.js';
import { OAuthError } from '../../oauth-errors.js';

// Rules shared by the grants: who may receive a token at all, and how the audit log names the client.

/** Only active principals get tokens: proposed, suspended (orphaned ones included) and decommissioned get nothing. */
export function assertMayReceive(principal: CredentialPrincipal, errorCode: 'unauthorized_client' | 'invalid_grant' = 'unauthorized_client'): void {
  if (principal.status !== 'active') throw new OAuthError(errorCode, `principal '${principal.name}' is ${principal.status}; only active principals receive tokens`);
}

/** The client as the audit log names it: its principal, the credential it authenticated with, and the request. */
export function clientActor(principal: CredentialPrincipal, credential: { id: string; kind: CredentialKind } | null, authMethod: Actor['authMethod'], provenance: Provenance): Actor {
  const actor = credentialActor({
    principal: { id: principal.id, name: principal.name, kind: principal.kind, status: principal.status, ownerId: principal.ownerId },
    credential: credential ?? { id: principal.id, kind: 'client_key' }, authMethod, teamIds: principal.teamIds, scope: [], purpose: null, audience: [],
    binding: null, delegationChain: [], provenance,
  });
  return credential ? actor : { ...actor, credential: null };
}
