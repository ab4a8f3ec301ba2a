import { OAuthError } from '../../oauth-errors.js';
import { assertMayReceive, authenticatedClientActor, ownGrant } from './common.js';
import type { GrantHandler } from './context.js';

// Grant: client_credentials (RFC 6749 §4.4) — an agent or service account asks for a token for itself.
// Rules:
// - The client must authenticate (private_key_jwt or a client secret); it must be an active, non-human principal.
// - scope ⊆ its approved scopes (default: all of them); purpose one of its allowed purposes (omitted only when
//   it has exactly one); audience from `resource` indicators it may address; lifetime capped by its risk tier.

export const clientCredentialsGrant: GrantHandler = async (deps, req) => {
  const client = req.client;
  if (!client) throw new OAuthError('invalid_client', 'client_credentials requires client authentication');
  const p = client.principal;
  assertMayReceive(p);
  if (p.kind === 'human') throw new OAuthError('unauthorized_client', 'client_credentials is for non-human principals; people sign in');
  return {
    ...await ownGrant(deps, req, p),
    actor: authenticatedClientActor(client, req.provenance),
    grantType: 'client_credentials', authMethod: client.method, credentialId: client.credentialId,
  };
};
