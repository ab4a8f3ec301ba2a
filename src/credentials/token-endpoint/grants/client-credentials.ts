import { choosePurpose, chooseScope, grantedLifetime, parseScope } from '../../narrowing.js';
import { OAuthError } from '../../oauth-errors.js';
import { resolveAudiences } from '../audience.js';
import { requestedLifetime } from '../params.js';
import { assertMayReceive, clientActor } from './common.js';
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
  const scope = chooseScope(parseScope(req.params.one('scope')), p.scopes);
  const purpose = choosePurpose(req.params.one('purpose'), p.purposes);
  const audience = await resolveAudiences(req.params.many('resource'), { directory: deps.directory, issuer: deps.issuer(), principal: p, purpose });
  const now = Math.floor(deps.clock.now().getTime() / 1000);
  const lifetime = grantedLifetime(requestedLifetime(req.params), p.riskTier);
  return {
    actor: clientActor(p, { id: client.credentialId, kind: client.method === 'private_key_jwt' ? 'client_key' : 'client_secret' }, client.method, req.provenance),
    sub: { id: p.id, name: p.name }, clientId: p.id, scope, audience, purpose, exp: now + lifetime, authTime: now, jkt: req.jkt, actors: [], parent: null,
    grantType: 'client_credentials', authMethod: client.method, credentialId: client.credentialId,
  };
};
