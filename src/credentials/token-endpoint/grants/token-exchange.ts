import { CredentialRejected, type AccessTokenClaims } from '../../contracts.js';
import { actorsOf, mayDelegate, narrowExchange, parseScope } from '../../narrowing.js';
import { OAuthError } from '../../oauth-errors.js';
import { resolveAudiences } from '../audience.js';
import { required, requestedLifetime } from '../params.js';
import { assertMayReceive, authenticatedClientActor } from './common.js';
import type { GrantDeps, GrantHandler } from './context.js';

// Grant: urn:ietf:params:oauth:grant-type:token-exchange (RFC 8693) — delegation. A sub-agent (the actor) acts for
// the principal whose access token it was handed (the subject).
// Rules:
// - The client making the exchange must authenticate, and it is the actor: the actor token (its own access token,
//   not a delegated one, or a private_key_jwt assertion of its own) must name the same principal. No actor token
//   is invalid_request; an actor token from another chain or principal is invalid_grant.
// - The subject token is an access token this server issued and recorded, unexpired and unrevoked, whose `act`
//   chain equals the recorded one (an `act` stripped or altered is invalid_grant).
// - The delegator (the subject token's current actor, or its subject when not delegated) must allow the actor
//   in its registration (`may_delegate_to`: the actor's id or `kind:<its kind>`): else unauthorized_client.
// - Proof of possession survives delegation: a DPoP-bound subject (or actor) token is exchanged only with a DPoP
//   proof by the key it is bound to, and the new token is bound to that same key — a stolen bound token cannot
//   be laundered into a Bearer one. Tokens bound to two different keys cannot be combined (invalid_request).
// - The actor must itself be allowed what the result carries: the subject's purpose among its allowed purposes,
//   and every audience one it may address (a resource's purposes and its data ceiling), as if it asked directly.
// - Narrowing (narrowing.ts): scope ⊆ subject ∩ actor's approved scopes ∩ requested, audience ⊆ subject's,
//   purpose unchanged, exp ≤ subject's, depth ≤ the limit, no cycles. The result: sub = the subject's sub,
//   act = { sub: actor, act: the subject's act } (RFC 8693 §4.1).

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

async function verified(deps: GrantDeps, token: string, which: string): Promise<AccessTokenClaims> {
  try {
    return await deps.verifyIssuedToken(token);
  } catch (error) {
    if (error instanceof CredentialRejected) throw new OAuthError('invalid_grant', `${which} refused: ${error.message}`);
    throw error;
  }
}

export const tokenExchangeGrant: GrantHandler = async (deps, req) => {
  const client = req.client;
  if (!client) throw new OAuthError('invalid_client', 'token exchange requires client authentication (the client is the actor)');
  const actorPrincipal = client.principal;
  assertMayReceive(actorPrincipal);

  const subjectToken = required(req.params, 'subject_token');
  const subjectType = required(req.params, 'subject_token_type');
  if (subjectType !== ACCESS_TOKEN_TYPE && subjectType !== JWT_TYPE) throw new OAuthError('invalid_request', `subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
  const requestedType = req.params.one('requested_token_type');
  if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE) throw new OAuthError('invalid_request', `only ${ACCESS_TOKEN_TYPE} can be requested`);

  // The actor proves itself: the authenticated client, again, through its own token or assertion.
  const actorToken = req.params.one('actor_token');
  if (actorToken === undefined) throw new OAuthError('invalid_request', 'actor_token is required: the actor proves who it is');
  const actorType = required(req.params, 'actor_token_type');
  const boundTo = new Set<string>();
  if (actorType === ACCESS_TOKEN_TYPE) {
    const actorClaims = await verified(deps, actorToken, 'actor token');
    if (actorClaims.cnf?.jkt) boundTo.add(actorClaims.cnf.jkt);
    if (actorClaims.act !== undefined) throw new OAuthError('invalid_grant', 'the actor token must be the actor\'s own token, not a delegated one');
    if (actorClaims.sub !== actorPrincipal.id) throw new OAuthError('invalid_grant', 'the actor token names another principal than the authenticated client');
  } else if (actorType === JWT_TYPE) {
    await deps.verifyAssertion(actorToken, actorPrincipal.id).catch((error: unknown) => {
      if (error instanceof OAuthError) throw new OAuthError('invalid_grant', `actor token ${error.message}`);
      throw error;
    });
  } else {
    throw new OAuthError('invalid_request', `actor_token_type must be ${ACCESS_TOKEN_TYPE} or ${JWT_TYPE}`);
  }

  const subject = await verified(deps, subjectToken, 'subject token');
  if (subject.cnf?.jkt) boundTo.add(subject.cnf.jkt);
  if (boundTo.size > 1) throw new OAuthError('invalid_request', 'the subject and actor tokens are bound to different DPoP keys');
  const [requiredJkt] = [...boundTo];
  if (requiredJkt !== undefined && req.jkt !== requiredJkt) {
    throw new OAuthError('invalid_dpop_proof', req.jkt === null
      ? 'a DPoP-bound token is exchanged only with a DPoP proof by the key it is bound to'
      : 'the DPoP proof is not by the key the exchanged token is bound to');
  }
  const actors = actorsOf(subject.act);
  const record = await deps.issuedToken(subject.jti);
  if (!record) throw new OAuthError('invalid_grant', 'the subject token was not issued here');
  if (record.revoked) throw new OAuthError('invalid_grant', 'the subject token has been revoked');
  if (JSON.stringify(record.actChain) !== JSON.stringify(actors)) throw new OAuthError('invalid_grant', 'the subject token\'s act chain does not match what was issued');

  const delegatorId = actors[0] ?? subject.sub;
  const delegator = await deps.directory.principal(delegatorId);
  if (!delegator) throw new OAuthError('invalid_grant', 'the delegating principal no longer exists');
  if (!mayDelegate(delegator.mayDelegateTo, actorPrincipal)) {
    throw new OAuthError('unauthorized_client', `principal '${delegator.name}' does not allow '${actorPrincipal.name}' to act for it (may_delegate_to)`);
  }

  const purpose = subject.purpose ?? null;
  if (purpose !== null && !actorPrincipal.purposes.includes(purpose)) {
    throw new OAuthError('invalid_request', `'${actorPrincipal.name}' may not act for purpose '${purpose}' (not among its allowed purposes)`);
  }
  const indicators = [...req.params.many('resource'), ...req.params.many('audience')];
  const audienceRules = { directory: deps.directory, issuer: deps.issuer(), principal: actorPrincipal, purpose };
  const requestedAudience = indicators.length ? await resolveAudiences(indicators, audienceRules) : undefined;
  const now = Math.floor(deps.clock.now().getTime() / 1000);
  const grant = narrowExchange(
    { sub: subject.sub, scope: parseScope(subject.scope) ?? [], audience: Array.isArray(subject.aud) ? subject.aud : [subject.aud], purpose, exp: subject.exp, actors },
    {
      actorId: actorPrincipal.id, actorApprovedScopes: actorPrincipal.scopes, actorTier: actorPrincipal.riskTier, requestedScope: parseScope(req.params.one('scope')),
      requestedAudience, requestedPurpose: req.params.one('purpose'), requestedLifetime: requestedLifetime(req.params), now, maxDepth: deps.maxDelegationDepth,
    },
  );
  // What the subject carries must be addressable by the actor too (its data ceiling, the resources' purposes).
  if (requestedAudience === undefined) await resolveAudiences(grant.audience, audienceRules);
  const subName = (await deps.directory.principalNames([subject.sub])).get(subject.sub) ?? subject.sub;
  return {
    actor: authenticatedClientActor(client, req.provenance),
    sub: { id: subject.sub, name: subName }, clientId: actorPrincipal.id, scope: grant.scope, audience: grant.audience, purpose: grant.purpose,
    exp: grant.exp, authTime: subject.auth_time, jkt: req.jkt, actors: grant.actors,
    parent: { jti: subject.jti, familyId: record.familyId, depth: record.depth },
    grantType: TOKEN_EXCHANGE, authMethod: client.method, credentialId: client.credentialId,
  };
};
