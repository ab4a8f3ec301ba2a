import { assertMayReceive, grantedLifetime, OAuthError, required, resolveAudiences, type GrantHandler } from '../../credentials/index.js';
import type { OperatorRole } from '../../platform/actor.js';
import type { SigninSessionsTable } from '../../platform/store/schema.js';
import { UpstreamRefused } from '../contracts.js';
import { personActor } from '../flow.js';
import * as links from '../external-identities.repo.js';
import { grantsFromGroups } from '../group-mapping.js';
import type { PersonGrantDeps } from './context.js';
import { narrowedAudience, publicClientId, rolesFor } from './person-token.js';

// grant_type=refresh_token (RFC 6749 §6) for a person's session, with rotation and reuse detection (RFC 9700 §4.14).
// Rules:
// - Not a refresh token we issued → invalid_grant. A rotated one presented again → the whole session ends (every
//   refresh and access token of it) and invalid_grant.
// - The session must be live (not revoked, before its absolute expiry) and the client the one it was started for;
//   a session bound to a DPoP key needs a proof with that key.
// - The person must still be active. Their role and teams are decided anew: a provider session is refreshed at the
//   IdP (openid-client) and the groups it returns mapped again — an IdP that refuses ends the session, one that
//   cannot be reached answers temporarily_unavailable (nothing rotated); without an upstream refresh token the
//   groups seen at sign-in are mapped with the provider's current mapping. A session started with an operator
//   token keeps that token's role only while the token is valid.
// - Scope, purpose and audience are re-decided as well: scopes the principal lost are dropped; a purpose or a
//   resource it may no longer have ends the session. A narrower scope may be asked for, and (RFC 8707 `resource`)
//   some of the consented audience; never more.
// - Inside the issuing transaction: the presented token is marked used (a concurrent refresh that got there first
//   makes this one fail), the next one stored, the session updated, team memberships synced, and the refresh audited.

export function refreshTokenGrant(deps: PersonGrantDeps): GrantHandler {
  return async (_grantDeps, req) => {
    const clientId = publicClientId(req);
    const found = await deps.sessions.lookup(required(req.params, 'refresh_token'));
    if (found.kind === 'invalid') throw new OAuthError('invalid_grant', found.reason);
    const { session, token } = found;
    const principal = await deps.directory.principal(session.principal_id);
    if (!principal) throw new OAuthError('invalid_grant', 'the person no longer exists');
    const actor = personActor(principal, session.auth_method, { id: session.id, kind: 'refresh_token' }, req.provenance, session.role as OperatorRole | null);
    if (found.kind === 'reused') {
      await deps.sessions.endForReuse(actor, session, token.id);
      throw new OAuthError('invalid_grant', 'this refresh token was already used; the whole session is revoked');
    }
    const now = deps.clock.now();
    if (session.revoked_at) throw new OAuthError('invalid_grant', 'the session has ended');
    if (session.expires_at <= now.toISOString()) throw new OAuthError('invalid_grant', 'the session has expired; sign in again');
    if (session.client_id !== clientId) throw new OAuthError('invalid_grant', 'the refresh token was issued to another client');
    if (session.jkt && req.jkt !== session.jkt) throw new OAuthError('invalid_grant', 'the refresh token is bound to a DPoP key: send a proof made with that key');
    assertMayReceive(principal, 'invalid_grant');

    const { role, groups, teamIds, upstreamSealed } = await reevaluate(deps, session, actor);
    // What the person may hold is decided anew too: scopes taken away since are dropped; a purpose or a resource
    // no longer theirs ends the session (they sign in and consent again).
    const consented = JSON.parse(session.audience) as string[];
    try {
      if (session.purpose !== null && !principal.purposes.includes(session.purpose)) throw new OAuthError('invalid_target', `purpose '${session.purpose}' is no longer allowed`);
      await resolveAudiences(consented, { directory: deps.directory, issuer: deps.issuer(), principal, purpose: session.purpose });
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      await deps.sessions.end(actor, session.id, `no longer allowed: ${error.message.slice(0, 200)}`);
      throw new OAuthError('invalid_grant', `the session no longer fits what the person may hold (${error.message.slice(0, 200)}); sign in again`);
    }
    const sessionScope = session.scope.split(' ').filter((s) => s.length > 0 && principal.scopes.includes(s));
    const asked = req.params.one('scope')?.split(' ').filter(Boolean);
    if (asked && asked.some((s) => !sessionScope.includes(s))) throw new OAuthError('invalid_scope', 'a refresh may narrow the scope, never widen it');
    const scope = asked ?? sessionScope;
    const audience = await narrowedAudience(deps, req, principal, { audience: consented, purpose: session.purpose });
    const nowSec = Math.floor(now.getTime() / 1000);
    const refreshedActor = { ...actor, role };

    return {
      actor: refreshedActor, sub: { id: principal.id, name: principal.name }, clientId: session.client_id, scope, audience, purpose: session.purpose,
      exp: Math.min(nowSec + grantedLifetime(undefined, principal.riskTier), Math.floor(Date.parse(session.expires_at) / 1000)),
      authTime: Math.floor(Date.parse(session.auth_time) / 1000), jkt: req.jkt, actors: [], parent: null, grantType: 'refresh_token',
      authMethod: session.auth_method, credentialId: session.id,
      roles: role ? rolesFor(audience, deps.issuer(), role) : undefined,
      withinIssue: async (trx, batch) => {
        const next = await deps.sessions.rotateIn(trx, token, session, { role, groups: JSON.stringify(groups), upstream_refresh_sealed: upstreamSealed });
        if (next === false) throw new OAuthError('invalid_grant', 'this refresh token was used by another request at the same moment');
        if (session.idp_id && teamIds) await deps.people.syncManagedTeams(trx, batch, refreshedActor, principal.id, session.idp_id, teamIds);
        if (role !== session.role || JSON.stringify(groups) !== session.groups) {
          await deps.sessions.recordChange(trx, batch, refreshedActor, session, { role_before: session.role, role, groups });
        }
        return { refresh_token: next };
      },
    };
  };
}

async function reevaluate(deps: PersonGrantDeps, session: SigninSessionsTable, actor: ReturnType<typeof personActor>) {
  const groupsBefore = JSON.parse(session.groups) as string[];
  if (session.auth_method === 'operator_token') {
    const role = session.source_credential_id ? (await deps.operatorTokens.whileValid(session.source_credential_id))?.role ?? null : null;
    if (role === null) {
      await deps.sessions.end(actor, session.id, 'the operator token this session was started with is no longer valid');
      throw new OAuthError('invalid_grant', 'the operator token this session was started with is no longer valid; the session has ended');
    }
    return { role, groups: groupsBefore, teamIds: null, upstreamSealed: session.upstream_refresh_sealed };
  }
  const idp = session.idp_id ? await deps.idps.load(session.idp_id) : undefined;
  if (!idp) {
    await deps.sessions.end(actor, session.id, 'the identity provider of this session was removed');
    throw new OAuthError('invalid_grant', 'the identity provider of this session was removed; the session has ended');
  }
  if (!session.upstream_refresh_sealed) {
    const grants = grantsFromGroups(idp, groupsBefore);
    return { role: grants.role, groups: groupsBefore, teamIds: grants.teamIds, upstreamSealed: null };
  }
  const context = `signin-session-upstream:${session.id}`;
  const upstreamToken = deps.keys.open(session.upstream_refresh_sealed, context).toString();
  let person: Awaited<ReturnType<PersonGrantDeps['idpClient']['refresh']>>;
  try {
    person = await deps.idpClient.refresh(idp, upstreamToken);
  } catch (error) {
    if (error instanceof UpstreamRefused) {
      await deps.sessions.end(actor, session.id, `the identity provider refused to refresh: ${error.message.slice(0, 200)}`);
      throw new OAuthError('invalid_grant', `the identity provider (${idp.name}) no longer vouches for this person; the session has ended`);
    }
    throw new OAuthError('temporarily_unavailable', `the identity provider (${idp.name}) could not be reached; try again`);
  }
  // The IdP must still be talking about the same person (openid-client cannot compare a refreshed answer with the
  // sign-in's ID token): its subject maps to this session's principal, or the session ends.
  const link = await links.findLink(deps.db.kysely, idp.id, person.subject);
  if (!link || link.principal_id !== session.principal_id) {
    await deps.sessions.end(actor, session.id, 'the identity provider answered the refresh for another person');
    throw new OAuthError('invalid_grant', 'the identity provider answered for another person; the session has ended');
  }
  const grants = grantsFromGroups(idp, person.groups);
  const upstreamSealed = person.refreshToken && person.refreshToken !== upstreamToken
    ? deps.keys.seal(Buffer.from(person.refreshToken), context) : session.upstream_refresh_sealed;
  return { role: grants.role, groups: person.groups.slice(0, 1000), teamIds: grants.teamIds, upstreamSealed };
}
