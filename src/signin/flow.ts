import type { AuditWriter } from '../audit/index.js';
import { anonymousActor, credentialActor, type Actor, type OperatorRole, type Provenance } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import { AppError } from '../platform/http/errors.js';
import type { IdGenerator } from '../platform/ids.js';
import type { KeyRing } from '../platform/keys.js';
import type { Database, Trx } from '../platform/store/db.js';
import type { SigninRequestsTable } from '../platform/store/schema.js';
import {
  chooseScope, choosePurpose, OAuthError, resolveAudiences, type CredentialDirectory, type CredentialPrincipal,
} from '../credentials/index.js';
import { AuthorizePageError, AuthorizeRedirectError, clientRedirect, queryOf, readAuthorizeRequest } from './authorize/index.js';
import { UNVETTED_CLIENTS, type IdentityProviderRecord, type IdpClient, type OAuthClient, type OperatorTokenSignin, type PeopleDirectory } from './contracts.js';
import * as links from './external-identities.repo.js';
import { grantsFromGroups } from './group-mapping.js';
import { consentPage, MANAGEMENT_API, messagePage, signInPage, type Page } from './pages/render.js';
import { admissionRefusal, requesterOf } from './admission.js';
import * as requests from './requests.repo.js';
import { csrfToken, randomSecret, sameSecret, sha256 } from './secrets.js';

// The person's side of a sign-in, from the authorization request to the code (or the device's approval):
//
//   GET /oauth/authorize → (checks: authorize/index.ts) → a sign-in request bound to this browser
//   → /signin/:id: sign in at an identity provider (→ /oauth/callback) or paste an operator token
//   → /signin/:id/consent: the person sees the client, the scopes, the resources → allow or deny
//   → the client's redirect URI with code, state and iss (RFC 9207); a device request is approved instead.
//
// Rules:
// - A request is bound to the browser that started it (or, for a device, that entered its user code): a cookie
//   holds a random binding, the request its SHA-256. Every page and post checks it, and every post carries a CSRF
//   token (HMAC of request and binding) and, when the browser sends one, an Origin equal to ours.
// - Requests expire 10 minutes after they start; a code 60 seconds after it is issued, and is single use.
// - A returning person is found only by (identity provider, subject) — never by display name or email. A first
//   sign-in creates a human principal (proposed or active, as the provider is configured); a person who is not
//   active gets no consent page and no code.
// - Role and team memberships come from the person's groups at every sign-in (and every refresh, grants/).
// - What the person may be granted (scopes, purpose, resources) is decided with the credentials module's rules
//   once they are known, before consent; refusals go back to the client as OAuth errors.

export const REQUEST_SECONDS = 600;
export const CODE_SECONDS = 60;

export interface StoredRequest {
  redirectUri: string | null;
  state: string | null;
  codeChallenge: string | null;
  scope: string[] | undefined;
  resource: string[];
  purpose: string | null;
  client: { name: string; source: OAuthClient['source']; clientUri: string | null; refreshable: boolean };
  userCode?: string;
  /** Fixed at consent: what the code or device token carries. */
  granted?: { scope: string[]; audience: string[]; purpose: string | null };
}

export interface SignedIn {
  method: 'federated' | 'operator_token';
  idpId: string | null;
  idpName: string | null;
  sourceCredentialId: string | null;
  role: OperatorRole | null;
  groups: string[];
  /** Seconds since the epoch. */
  authTime: number;
  principalName: string;
}

export type Outcome =
  | { kind: 'redirect'; location: string; status?: number }
  | { kind: 'page'; page: Page; status: number };

export interface SigninFlowDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  keys: KeyRing;
  issuer: () => string;
  findClient: (clientId: string) => Promise<OAuthClient>;
  idps: { listForSignin(): Promise<Array<{ name: string; displayName: string | null }>>; load(ref: string): Promise<IdentityProviderRecord | undefined> };
  idpClient: IdpClient;
  people: PeopleDirectory;
  directory: CredentialDirectory;
  operatorTokens: OperatorTokenSignin;
  operatorTokenSignin: 'auto' | 'true' | 'false';
}

export const callbackUrl = (issuer: string) => `${issuer}/oauth/callback`;

const page = (p: Page, status = 200): Outcome => ({ kind: 'page', page: p, status });
const problem = (title: string, message: string, status = 400): Outcome => page(messagePage(title, message, 'error'), status);
const redirect = (location: string): Outcome => ({ kind: 'redirect', location });

/** The person as the audit log names them once signed in. */
export function personActor(principal: CredentialPrincipal, method: SignedIn['method'], credential: { id: string; kind: 'refresh_token' | 'operator_token' | 'federated_jwt' }, provenance: Provenance, role: OperatorRole | null = null): Actor {
  return credentialActor({
    principal: { id: principal.id, name: principal.name, kind: principal.kind, status: principal.status, ownerId: principal.ownerId },
    credential, authMethod: method === 'federated' ? 'federated' : 'operator_token', teamIds: principal.teamIds, scope: [], purpose: null,
    audience: [], binding: null, delegationChain: [], provenance, role,
  });
}

export function createSigninFlow(deps: SigninFlowDeps) {
  const { db, audit, clock } = deps;
  const csrfKey = deps.keys.deriveKey('signin-csrf');
  const nowIso = () => clock.now().toISOString();
  const upstreamContext = (id: string) => `signin-upstream:${id}`;
  const storedOf = (row: SigninRequestsTable) => JSON.parse(row.request) as StoredRequest;
  const signedInOf = (row: SigninRequestsTable) => JSON.parse(row.auth ?? 'null') as SignedIn | null;

  const csrfFor = (requestId: string, binding: string) => csrfToken(csrfKey, requestId, binding);
  function checkPost(requestId: string, binding: string, form: URLSearchParams, origin: string | undefined, fetchSite: string | undefined): void {
    const expectedOrigin = new URL(deps.issuer()).origin;
    if (origin !== undefined && origin !== expectedOrigin) throw new AuthorizePageError('this form was posted from another site; nothing was done');
    if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') throw new AuthorizePageError('this form was posted from another site; nothing was done');
    const given = form.get('csrf') ?? '';
    if (!sameSecret(given, csrfFor(requestId, binding))) throw new AuthorizePageError('this form is stale or was not ours (CSRF check failed); start again from the application');
  }

  /** The request if it exists, is unexpired and belongs to this browser. */
  async function bound(id: string, binding: string | undefined, q: Trx | Database['kysely'] = db.kysely): Promise<SigninRequestsTable> {
    const row = /^[0-9a-f-]{36}$/.test(id) ? await requests.findRequest(q, id) : undefined;
    if (!row || row.expires_at <= nowIso()) throw new AuthorizePageError('this sign-in has expired or does not exist; start again from the application');
    if (!binding || !row.browser_hash || !sameSecret(row.browser_hash, sha256(binding))) {
      throw new AuthorizePageError('this sign-in was started in another browser; start again from the application on this one');
    }
    return row;
  }

  function backToClient(row: SigninRequestsTable, params: Record<string, string | null>): Outcome {
    const stored = storedOf(row);
    if (row.kind === 'device' || !stored.redirectUri) {
      return params.error === 'access_denied' ? page(messagePage('Not allowed', 'You denied the request. Your device will be told.')) : problem('Sign-in failed', params.error_description ?? params.error ?? 'the request failed');
    }
    return redirect(clientRedirect(stored.redirectUri, { ...params, state: stored.state }, deps.issuer()));
  }

  async function operatorSigninAllowed(): Promise<boolean> {
    if (deps.operatorTokenSignin === 'true') return true;
    if (deps.operatorTokenSignin === 'false') return false;
    return (await deps.idps.listForSignin()).length === 0;
  }

  /** What the signed-in person may be granted for this request (the credentials module's rules). */
  async function grantFor(principalId: string, stored: StoredRequest): Promise<{ principal: CredentialPrincipal; granted: NonNullable<StoredRequest['granted']> }> {
    const principal = await deps.directory.principal(principalId);
    if (!principal || principal.status !== 'active') throw new OAuthError('access_denied', `the person is ${principal?.status ?? 'unknown'}`);
    const scope = chooseScope(stored.scope, principal.scopes);
    const purpose = choosePurpose(stored.purpose ?? undefined, principal.purposes);
    const audience = await resolveAudiences(stored.resource, { directory: deps.directory, issuer: deps.issuer(), principal, purpose });
    // Anyone can be a client identified by a metadata document or registered dynamically (and name itself anything):
    // such a client gets tokens for registered resources, never for the management API a person's role acts on.
    if (UNVETTED_CLIENTS.has(stored.client.source) && audience.includes(deps.issuer())) {
      throw new OAuthError('invalid_target', 'a client not registered by an administrator may not act on the Custos management API; ask for a registered resource (RFC 8707 resource)');
    }
    return { principal, granted: { scope, audience, purpose } };
  }

  /** The grant, or — when the person may no longer have what was asked — the request denied and the refusal sent back. */
  async function grantOrRefusal(row: SigninRequestsTable, stored: StoredRequest): Promise<Awaited<ReturnType<typeof grantFor>> | Outcome> {
    try {
      return await grantFor(row.principal_id!, stored);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      await requests.updateRequest(db.kysely, row.id, { status: 'denied' });
      return backToClient(row, { error: error.code, error_description: error.message });
    }
  }

  async function authenticated(row: SigninRequestsTable, principalId: string, auth: SignedIn, upstreamRefresh: string | null, trx: Trx): Promise<void> {
    await requests.updateRequest(trx, row.id, {
      status: 'authenticated', principal_id: principalId, auth: JSON.stringify(auth), upstream_sealed: null,
      upstream_refresh_sealed: upstreamRefresh ? deps.keys.seal(Buffer.from(upstreamRefresh), `signin-upstream-refresh:${row.id}`) : null,
    });
  }

  return {
    csrfFor,
    storedOf,
    signedInOf,

    /** GET /oauth/authorize. `binding` is the browser's existing binding cookie, if any. */
    async authorize(url: URL, binding: string | undefined, provenance: Provenance): Promise<Outcome & { binding?: string }> {
      let checked: Awaited<ReturnType<typeof readAuthorizeRequest>>;
      try {
        checked = await readAuthorizeRequest(queryOf(url), deps.findClient);
      } catch (error) {
        if (error instanceof AuthorizeRedirectError) return redirect(clientRedirect(error.redirectUri, { error: error.error, error_description: error.message, state: error.state }, deps.issuer()));
        if (error instanceof AuthorizePageError) return problem('This sign-in request cannot be used', error.message);
        throw error;
      }
      const { client, params } = checked;
      const browser = binding && /^[A-Za-z0-9_-]{43}$/.test(binding) ? binding : randomSecret();
      const id = deps.newId();
      const now = clock.now();
      const stored: StoredRequest = {
        redirectUri: params.redirectUri, state: params.state, codeChallenge: params.codeChallenge, scope: params.scope, resource: params.resource,
        purpose: params.purpose, client: { name: client.name, source: client.source, clientUri: client.clientUri ?? null, refreshable: client.grantTypes.includes('refresh_token') },
      };
      // Anyone may start a request, so it is not audited (the person's sign-in and consent are, with the request's
      // details) and the number running at once is bounded (admission.ts).
      const requester = requesterOf(provenance.sourceIp);
      const refusal = await admissionRefusal(db.kysely, now.toISOString(), requester);
      if (refusal) return problem('Busy', `Not now: ${refusal}.`, 503);
      await db.write(async (trx) => {
        await requests.insertRequest(trx, {
          id, kind: 'authorize', client_id: client.clientId, request: JSON.stringify(stored), browser_hash: sha256(browser), upstream_sealed: null,
          principal_id: null, auth: null, upstream_refresh_sealed: null, status: 'pending', code_hash: null, device_code_hash: null, user_code: null,
          last_polled_at: null, session_id: null, requester, created_at: now.toISOString(), expires_at: new Date(now.getTime() + REQUEST_SECONDS * 1000).toISOString(),
        });
      });
      return { kind: 'redirect', location: `/signin/${id}`, binding: browser === binding ? undefined : browser };
    },

    /** GET /signin/:id — how to sign in, or on to consent once signed in. */
    async signInPage(id: string, binding: string | undefined, error?: string): Promise<Outcome> {
      const row = await bound(id, binding);
      if (row.status === 'authenticated') return redirect(`/signin/${id}/consent`);
      if (row.status !== 'pending') return problem('Already finished', 'This sign-in has already finished; start again from the application.');
      const stored = storedOf(row);
      return page(signInPage({
        requestId: id, clientName: stored.client.name, csrf: csrfFor(id, binding!), identityProviders: await deps.idps.listForSignin(),
        operatorTokenSignin: await operatorSigninAllowed(), error, userCode: stored.userCode ?? null,
        unvetted: stored.client.source === 'metadata_document' ? `it is identified by its metadata document at ${row.client_id}`
          : stored.client.source === 'dynamic' ? 'it registered itself' : null,
      }), error ? 400 : 200);
    },

    /** GET /signin/:id/idp/:name — off to the identity provider (PKCE, state, nonce kept sealed with the request). */
    async beginUpstream(id: string, idpName: string, binding: string | undefined): Promise<Outcome> {
      const row = await bound(id, binding);
      if (row.status !== 'pending') return problem('Already finished', 'This sign-in has already finished; start again from the application.');
      const idp = await deps.idps.load(idpName);
      if (!idp) return problem('Unknown identity provider', `No identity provider is named '${idpName.slice(0, 100)}'.`, 404);
      let up: Awaited<ReturnType<IdpClient['begin']>>;
      try {
        up = await deps.idpClient.begin(idp, callbackUrl(deps.issuer()));
      } catch (error) {
        return problem('Identity provider unreachable', `${idp.displayName ?? idp.name} cannot be reached right now (its OpenID configuration at ${idp.issuer} could not be read: ${(error as Error).message.slice(0, 200)}). Try again later, or tell your Custos administrator.`, 503);
      }
      const sealed = deps.keys.seal(Buffer.from(JSON.stringify({ idpId: idp.id, state: up.state, nonce: up.nonce, codeVerifier: up.codeVerifier })), upstreamContext(id));
      await requests.updateRequest(db.kysely, id, { upstream_sealed: sealed });
      return redirect(up.url);
    },

    /** GET /oauth/callback — the identity provider's answer. `requestId` comes from the cookie set at beginUpstream. */
    async completeUpstream(callback: URL, requestId: string | undefined, binding: string | undefined, provenance: Provenance): Promise<Outcome> {
      if (!requestId) return problem('Sign-in failed', 'This answer from the identity provider belongs to no sign-in started in this browser.');
      const row = await bound(requestId, binding);
      if (row.status !== 'pending' || !row.upstream_sealed) return problem('Sign-in failed', 'This sign-in is not waiting for an identity provider.');
      const upstream = JSON.parse(deps.keys.open(row.upstream_sealed, upstreamContext(row.id)).toString()) as { idpId: string; state: string; nonce: string; codeVerifier: string };
      const idp = await deps.idps.load(upstream.idpId);
      if (!idp) return problem('Sign-in failed', 'The identity provider was removed while you were signing in.');
      if (callback.searchParams.get('error')) {
        // Only the IdP's own answer (with our state) may end the request: anyone can send a browser to this URL.
        if (!sameSecret(callback.searchParams.get('state') ?? '', upstream.state)) return problem('Sign-in failed', 'This answer does not belong to your sign-in; nothing was changed.');
        await requests.updateRequest(db.kysely, row.id, { status: 'denied', upstream_sealed: null });
        return backToClient(row, { error: 'access_denied', error_description: 'the identity provider did not sign the person in' });
      }
      let person: Awaited<ReturnType<IdpClient['complete']>>;
      try {
        person = await deps.idpClient.complete(idp, callbackUrl(deps.issuer()), callback, { state: upstream.state, nonce: upstream.nonce, codeVerifier: upstream.codeVerifier });
      } catch (error) {
        await requests.updateRequest(db.kysely, row.id, { upstream_sealed: null });
        return problem('Sign-in failed', `The identity provider's answer was refused: ${(error as Error).message.slice(0, 300)}. Start again from the application.`);
      }
      const grants = grantsFromGroups(idp, person.groups);
      const outcome = await db.write(async (trx, batch) => {
        const system = { ...anonymousActor('federated', provenance), label: `idp:${idp.name}` };
        const link = await links.findLink(trx, idp.id, person.subject);
        let principalId: string;
        if (link) {
          principalId = link.principal_id;
          await links.touchLink(trx, idp.id, person.subject, nowIso(), person.email);
        } else {
          const created = await deps.people.createPerson(trx, batch, system, {
            nameHint: person.email?.split('@')[0] ?? person.name ?? person.subject, displayName: person.name, email: person.email,
            status: idp.newPrincipalStatus, idpName: idp.name,
          });
          principalId = created.id;
          await links.insertLink(trx, { idp_id: idp.id, subject: person.subject, principal_id: principalId, email: person.email, created_at: nowIso(), last_sign_in_at: nowIso() });
        }
        const principal = await deps.directory.principal(principalId, trx);
        if (!principal) throw new Error('the linked principal no longer exists');
        const actor = personActor(principal, 'federated', { id: `${idp.name}:${person.subject}`.slice(0, 500), kind: 'federated_jwt' }, provenance, grants.role);
        if (principal.status !== 'active') {
          await audit.record(trx, batch, {
            type: 'signin.person.refused', action: 'signin.authenticate', actor, target: { type: 'principal', id: principal.id, name: principal.name }, outcome: 'failure',
            reasons: [`principal_${principal.status}`], details: { request_id: row.id, ...requestDetails(row), idp: idp.name, first_sign_in: !link },
          });
          await requests.updateRequest(trx, row.id, { status: 'denied', upstream_sealed: null });
          return { refused: principal.status, name: principal.name };
        }
        await deps.people.syncManagedTeams(trx, batch, actor, principal.id, idp.id, grants.teamIds);
        await audit.record(trx, batch, {
          type: 'signin.person.authenticated', action: 'signin.authenticate', actor, target: { type: 'principal', id: principal.id, name: principal.name }, outcome: 'success',
          details: { request_id: row.id, ...requestDetails(row), idp: idp.name, first_sign_in: !link, groups: person.groups.slice(0, 100), role: grants.role, team_ids: grants.teamIds },
        });
        await authenticated(row, principal.id, {
          method: 'federated', idpId: idp.id, idpName: idp.name, sourceCredentialId: null, role: grants.role, groups: person.groups.slice(0, 1000),
          authTime: person.authTime, principalName: principal.name,
        }, person.refreshToken, trx);
        return { refused: null, name: principal.name };
      });
      if (outcome.refused === 'proposed') {
        return problem('Waiting for approval', `Your account '${outcome.name}' is registered and waits for an administrator to activate it. Sign in again once it is active.`, 403);
      }
      if (outcome.refused) return problem('Not allowed', `Your account '${outcome.name}' is ${outcome.refused}; you cannot sign in.`, 403);
      return redirect(`/signin/${row.id}/consent`);
    },

    /** POST /signin/:id/token — an operator token pasted once (embedded default, tests, the bootstrap admin). */
    async operatorToken(id: string, binding: string | undefined, form: URLSearchParams, headers: { origin?: string; fetchSite?: string }, provenance: Provenance): Promise<Outcome> {
      const row = await bound(id, binding);
      checkPost(id, binding!, form, headers.origin, headers.fetchSite);
      if (row.status !== 'pending') return problem('Already finished', 'This sign-in has already finished; start again from the application.');
      if (!await operatorSigninAllowed()) return problem('Not available', 'Signing in with an operator token is turned off here.', 403);
      let actor: Actor;
      try {
        actor = await deps.operatorTokens.authenticate((form.get('token') ?? '').trim(), provenance);
      } catch (error) {
        if (error instanceof AppError && error.status < 500) return this.signInPage(id, binding, 'That token was not accepted.');
        throw error;
      }
      const principal = actor.principal ? await deps.directory.principal(actor.principal.id) : undefined;
      if (!principal || principal.kind !== 'human' || !actor.credential) return this.signInPage(id, binding, 'Only a person\'s operator token signs in here.');
      await db.write(async (trx, batch) => {
        await audit.record(trx, batch, {
          type: 'signin.person.authenticated', action: 'signin.authenticate', actor, target: { type: 'principal', id: principal.id, name: principal.name }, outcome: 'success',
          details: { request_id: row.id, ...requestDetails(row), idp: null, method: 'operator_token', role: actor.role },
        });
        await authenticated(row, principal.id, {
          method: 'operator_token', idpId: null, idpName: null, sourceCredentialId: actor.credential!.id, role: actor.role, groups: [],
          authTime: Math.floor(clock.now().getTime() / 1000), principalName: principal.name,
        }, null, trx);
      });
      return redirect(`/signin/${id}/consent`);
    },

    /** GET /signin/:id/consent */
    async consent(id: string, binding: string | undefined): Promise<Outcome> {
      const row = await bound(id, binding);
      if (row.status === 'pending') return redirect(`/signin/${id}`);
      if (row.status !== 'authenticated') return problem('Already finished', 'This sign-in has already finished; start again from the application.');
      const stored = storedOf(row);
      const auth = signedInOf(row)!;
      const grant = await grantOrRefusal(row, stored);
      if ('kind' in grant) return grant;
      const resources = await Promise.all(grant.granted.audience.map(async (aud) => {
        if (aud === deps.issuer()) return { name: MANAGEMENT_API, audience: aud };
        return { name: (await deps.directory.resourceByIndicator(aud))?.name ?? aud, audience: aud };
      }));
      return page(consentPage({
        requestId: id, csrf: csrfFor(id, binding!), client: { name: stored.client.name, clientId: row.client_id, source: stored.client.source, clientUri: stored.client.clientUri },
        person: { name: auth.principalName, via: auth.method === 'federated' ? `through ${auth.idpName}` : 'with an operator token', role: auth.role },
        scope: grant.granted.scope, resources, purpose: grant.granted.purpose, userCode: stored.userCode ?? null,
        device: row.kind === 'device' ? { requester: row.requester ?? 'an unknown address', startedAt: row.created_at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') } : null,
        formTargets: stored.redirectUri ? [formTarget(stored.redirectUri)] : [],
      }));
    },

    /** POST /signin/:id/consent — allow (a code, or the device approved) or deny. */
    async decide(id: string, binding: string | undefined, form: URLSearchParams, headers: { origin?: string; fetchSite?: string }, provenance: Provenance): Promise<Outcome> {
      const row = await bound(id, binding);
      checkPost(id, binding!, form, headers.origin, headers.fetchSite);
      if (row.status !== 'authenticated') return problem('Already finished', 'This sign-in has already finished; start again from the application.');
      const stored = storedOf(row);
      const auth = signedInOf(row)!;
      const decision = form.get('decision');
      if (decision !== 'approve' && decision !== 'deny') return problem('Nothing decided', 'Choose Allow or Deny.');
      const grant = await grantOrRefusal(row, stored);
      if ('kind' in grant) return grant;
      const actor = personActor(grant.principal, auth.method, { id: auth.sourceCredentialId ?? `${auth.idpName}:${row.principal_id}`, kind: auth.method === 'federated' ? 'federated_jwt' : 'operator_token' }, provenance, auth.role);
      const target = { type: 'oauth_client', id: row.client_id.slice(0, 500), name: stored.client.name };
      if (decision === 'deny') {
        const changed = await db.write(async (trx, batch) => {
          if (!await requests.transition(trx, id, 'authenticated', { status: 'denied' })) return false;
          await audit.record(trx, batch, { type: 'signin.consent.denied', action: 'signin.consent', actor, target, outcome: 'failure', reasons: ['denied_by_person'], details: { request_id: id } });
          return true;
        });
        if (!changed) return problem('Already finished', 'This sign-in has already finished.');
        return backToClient(row, { error: 'access_denied', error_description: 'the person denied the request' });
      }
      const code = row.kind === 'authorize' ? randomSecret() : null;
      const granted = { ...stored, granted: grant.granted };
      const changed = await db.write(async (trx, batch) => {
        const patch: Partial<SigninRequestsTable> & { status: 'approved' } = { status: 'approved', request: JSON.stringify(granted) };
        if (code) Object.assign(patch, { code_hash: sha256(code), expires_at: new Date(clock.now().getTime() + CODE_SECONDS * 1000).toISOString() });
        if (!await requests.transition(trx, id, 'authenticated', patch)) return false;
        await audit.record(trx, batch, {
          type: 'signin.consent.granted', action: 'signin.consent', actor, target, outcome: 'success',
          details: { request_id: id, scope: grant.granted.scope, audience: grant.granted.audience, purpose: grant.granted.purpose, kind: row.kind },
        });
        return true;
      });
      if (!changed) return problem('Already finished', 'This sign-in has already finished.');
      if (!code) return page(messagePage('Device signed in', 'You can return to your device; it will finish signing in by itself.'));
      return redirect(clientRedirect(stored.redirectUri!, { code, state: stored.state }, deps.issuer()));
    },
  };
}
export type SigninFlow = ReturnType<typeof createSigninFlow>;

/** What the audit log records of the request a person signs in for (the request itself is not audited: anyone may start one). */
function requestDetails(row: SigninRequestsTable): Record<string, unknown> {
  const stored = JSON.parse(row.request) as StoredRequest;
  return {
    kind: row.kind, client_id: row.client_id.slice(0, 500), client_source: stored.client.source, redirect_uri: stored.redirectUri,
    scope: stored.scope ?? null, resource: stored.resource, purpose: stored.purpose,
  };
}

/** What a consent page's form-action must allow for the redirect after the post: the origin, or `scheme:`. */
export function formTarget(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol;
}
