import { assertMayReceive, grantedLifetime, OAuthError, resolveAudiences, type CredentialPrincipal, type GrantRequest, type IssueRequest } from '../../credentials/index.js';
import type { SigninRequestsTable } from '../../platform/store/schema.js';
import { personActor, type SignedIn, type StoredRequest } from '../flow.js';
import { grantsFromGroups } from '../group-mapping.js';
import * as requests from '../requests.repo.js';
import type { PersonGrantDeps } from './context.js';

// Step shared by authorization_code and device_code: the first token of a person's session, from an approved request.
// Rules:
// - The person must still be active (suspended since consent: invalid_grant); a session started with an operator
//   token needs that token still valid.
// - The access token carries what consent fixed (scope, audience, purpose), the lifetime of the person's risk tier
//   (15 minutes by default), `roles` only when addressed to this server's management API, and names the new
//   session as its credential, so revoking the session revokes it.
// - Inside the issuing transaction: the request moves approved → done (a second redemption racing this one finds
//   it done and fails; nothing is issued twice), the session starts and, for clients registered for
//   refresh_token, its first refresh token is returned. A refresh token is bound to the DPoP key when the
//   token request carried a proof (RFC 9449 §5: public clients' refresh tokens are sender-constrained).

export async function firstSessionToken(deps: PersonGrantDeps, row: SigninRequestsTable, req: GrantRequest, grantType: string): Promise<IssueRequest> {
  const stored = JSON.parse(row.request) as StoredRequest;
  const auth = JSON.parse(row.auth ?? 'null') as SignedIn | null;
  if (!auth || !row.principal_id || !stored.granted) throw new OAuthError('invalid_grant', 'this request was never approved');
  const principal = await deps.directory.principal(row.principal_id);
  if (!principal) throw new OAuthError('invalid_grant', 'the person no longer exists');
  assertMayReceive(principal, 'invalid_grant');
  let role = auth.role;
  if (auth.method === 'federated') {
    // The provider may have been removed, or its group mapping changed, since the person signed in.
    const idp = auth.idpId ? await deps.idps.load(auth.idpId) : undefined;
    if (!idp) throw new OAuthError('invalid_grant', 'the identity provider this sign-in used has been removed');
    role = grantsFromGroups(idp, auth.groups).role;
  }
  // A session started with an operator token lives no longer than the token, nor does any of its access tokens.
  let notAfter: number | null = null;
  if (auth.method === 'operator_token') {
    const token = auth.sourceCredentialId ? await deps.operatorTokens.whileValid(auth.sourceCredentialId) : null;
    if (token === null) throw new OAuthError('invalid_grant', 'the operator token this sign-in used is no longer valid');
    role = token.role;
    notAfter = Math.floor(Date.parse(token.expiresAt) / 1000);
  }
  const sessionId = deps.newId();
  const granted = { ...stored.granted, audience: await narrowedAudience(deps, req, principal, stored.granted) };
  const now = Math.floor(deps.clock.now().getTime() / 1000);
  const actor = personActor(principal, auth.method, { id: sessionId, kind: 'refresh_token' }, req.provenance, role);
  const upstreamRefresh = row.upstream_refresh_sealed
    ? deps.keys.seal(deps.keys.open(row.upstream_refresh_sealed, `signin-upstream-refresh:${row.id}`), `signin-session-upstream:${sessionId}`)
    : null;
  return {
    actor, sub: { id: principal.id, name: principal.name }, clientId: row.client_id, scope: granted.scope, audience: granted.audience,
    purpose: granted.purpose, exp: Math.min(now + grantedLifetime(undefined, principal.riskTier), notAfter ?? Infinity), authTime: auth.authTime, jkt: req.jkt, actors: [], parent: null,
    grantType, authMethod: auth.method, credentialId: sessionId,
    roles: role ? rolesFor(granted.audience, deps.issuer(), role) : undefined,
    withinIssue: async (trx, batch) => {
      if (!await requests.transition(trx, row.id, 'approved', { status: 'done', session_id: sessionId })) {
        throw new OAuthError('invalid_grant', 'this grant has already been used');
      }
      const { refreshToken } = await deps.sessions.startIn(trx, batch, actor, {
        id: sessionId, principal: { id: principal.id, name: principal.name }, clientId: row.client_id, authMethod: auth.method, idpId: auth.idpId,
        sourceCredentialId: auth.sourceCredentialId, role, groups: auth.groups, scope: granted.scope, audience: stored.granted!.audience, purpose: granted.purpose,
        jkt: req.jkt, upstreamRefreshSealed: upstreamRefresh, authTime: new Date(auth.authTime * 1000), refreshable: stored.client.refreshable,
        notAfter: notAfter === null ? null : new Date(notAfter * 1000),
      });
      return refreshToken ? { refresh_token: refreshToken } : undefined;
    },
  };
}

/** A grant redeemed twice: whatever the first redemption started is revoked (RFC 6749 §4.1.2), then invalid_grant. */
export async function refuseRedeemedTwice(deps: PersonGrantDeps, row: SigninRequestsTable, req: GrantRequest, what: string): Promise<never> {
  if (row.session_id) {
    const principal = row.principal_id ? await deps.directory.principal(row.principal_id) : undefined;
    if (principal) {
      const auth = JSON.parse(row.auth ?? 'null') as SignedIn | null;
      const actor = personActor(principal, auth?.method ?? 'federated', { id: row.session_id, kind: 'refresh_token' }, req.provenance);
      await deps.sessions.end(actor, row.session_id, `${what} was presented again after it was redeemed`);
    }
  }
  throw new OAuthError('invalid_grant', `this ${what} has already been used; the session it started is revoked`);
}

export function publicClientId(req: GrantRequest): string {
  // People's clients are public (RFC 6749 §2.1): they name themselves with client_id and prove the flow with PKCE
  // or the device code. A client that authenticated as an agent has no business redeeming a person's grant.
  if (req.client) throw new OAuthError('unauthorized_client', 'this grant is for the public client a person signed in to, not an authenticated agent');
  const clientId = req.params.one('client_id');
  if (!clientId) throw new OAuthError('invalid_request', 'client_id is required');
  return clientId;
}

/**
 * RFC 8707 §2.2 at the token endpoint: `resource` may narrow the audience to some of what was consented to (the
 * session and its refresh tokens keep the whole consent); anything outside it is invalid_target. None: all of it.
 */
export async function narrowedAudience(deps: PersonGrantDeps, req: GrantRequest, principal: CredentialPrincipal, consented: { audience: string[]; purpose: string | null }): Promise<string[]> {
  const asked = req.params.many('resource');
  if (asked.length === 0) return consented.audience;
  const audiences = await resolveAudiences(asked, { directory: deps.directory, issuer: deps.issuer(), principal, purpose: consented.purpose });
  const outside = audiences.filter((a) => !consented.audience.includes(a));
  if (outside.length > 0) throw new OAuthError('invalid_target', `not consented to: ${outside.join(' ').slice(0, 300)}`);
  return audiences;
}

/**
 * RFC 9068 `roles` only on a token addressed to the management API and nothing else: a token that is also a
 * resource server's would hand that server the person's role to replay against the management API.
 */
export function rolesFor(audience: readonly string[], issuer: string, role: string): string[] | undefined {
  return audience.length === 1 && audience[0] === issuer ? [role] : undefined;
}
