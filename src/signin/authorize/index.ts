import { UNVETTED_CLIENTS, type OAuthClient } from '../contracts.js';
import { challengeProblem } from '../pkce.js';
import { redirectUriMatches } from '../clients/redirect-uri.js';

// The authorization endpoint's request checks (GET /oauth/authorize), as an ordered table of small steps
// (node-oidc-provider's lib/actions/authorization style). Rules:
//
//   oneValueEach → client (registered, built-in, dynamic, or a Client ID Metadata Document) → redirectUri (exact;
//   loopback any port, RFC 8252 §7.3) → responseType (code only) → pkce (S256 only, RFC 7636 / RFC 9700 §2.1.1)
//   → state (required) → scope (syntax) → resource (RFC 8707 syntax: absolute, no fragment) → purpose
//
// - Until the client and its redirect URI are known good, an error is shown to the person and never redirected
//   (RFC 6749 §4.1.2.1: an attacker must not turn the endpoint into an open redirector).
// - After that, errors go back to the client's redirect URI with `error`, `state` and `iss` (RFC 9207) — for
//   clients an administrator registered; for unvetted ones (metadata documents, dynamic) they stay pages.
// - The request is not trusted further than this: who the person is, what they may be granted and for which
//   resources is decided once they have signed in (flow.ts), before they see the consent page.

export class AuthorizePageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthorizePageError';
  }
}

export class AuthorizeRedirectError extends Error {
  constructor(readonly error: string, message: string, readonly redirectUri: string, readonly state: string | null) {
    super(message);
    this.name = 'AuthorizeRedirectError';
  }
}

export interface AuthorizeParams {
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  /** undefined: the scopes the person may be granted. */
  scope: string[] | undefined;
  resource: string[];
  purpose: string | null;
}

const ONE_VALUE = ['response_type', 'client_id', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method', 'scope', 'purpose', 'prompt'];
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const MAX_STATE = 512;

type Query = Map<string, string[]>;

export function queryOf(url: URL): Query {
  const q: Query = new Map();
  for (const [k, v] of url.searchParams) q.set(k, [...(q.get(k) ?? []), v]);
  return q;
}

const one = (q: Query, name: string) => q.get(name)?.[0];

export async function readAuthorizeRequest(q: Query, findClient: (clientId: string) => Promise<OAuthClient>): Promise<{ client: OAuthClient; params: AuthorizeParams }> {
  // oneValueEach: a parameter sent twice is ambiguous (RFC 6749 §3.1); before we know the client, a page error.
  for (const name of ONE_VALUE) if ((q.get(name)?.length ?? 0) > 1) throw new AuthorizePageError(`the ${name} parameter was sent more than once`);

  const clientId = one(q, 'client_id');
  if (!clientId) throw new AuthorizePageError('the request names no client (client_id is missing)');
  const client = await findClient(clientId);

  const redirectUri = one(q, 'redirect_uri');
  if (!redirectUri) throw new AuthorizePageError('the request has no redirect_uri; Custos requires it for every client');
  if (!redirectUriMatches(client.redirectUris, redirectUri)) {
    throw new AuthorizePageError(`the redirect_uri is not one registered for ${client.name}; nothing was sent back to it`);
  }
  if (!client.grantTypes.includes('authorization_code')) {
    throw new AuthorizePageError(`${client.name} is not registered for the authorization code flow`);
  }

  const stateRaw = one(q, 'state') ?? null;
  // A client anyone could have created would turn an automatic error redirect into an open redirector on our
  // origin (RFC 9700 §4.11.2): its errors are shown as pages; vetted clients get them back at their redirect URI.
  const fail = (error: string, message: string) => (UNVETTED_CLIENTS.has(client.source)
    ? new AuthorizePageError(`${message} (${error})`)
    : new AuthorizeRedirectError(error, message, redirectUri, stateRaw));

  const responseType = one(q, 'response_type');
  if (responseType !== 'code') throw fail(responseType === undefined ? 'invalid_request' : 'unsupported_response_type', 'response_type must be code');

  const problem = challengeProblem(one(q, 'code_challenge'), one(q, 'code_challenge_method'));
  if (problem) throw fail('invalid_request', problem);

  if (stateRaw === null || stateRaw.length === 0) throw fail('invalid_request', 'state is required');
  if (stateRaw.length > MAX_STATE) throw fail('invalid_request', `state must be at most ${MAX_STATE} characters`);

  if (one(q, 'prompt') === 'none') throw fail('login_required', 'Custos keeps no browser session to sign in without the person');

  const scopeRaw = one(q, 'scope');
  let scope: string[] | undefined;
  if (scopeRaw !== undefined) {
    scope = [...new Set(scopeRaw.split(' ').filter(Boolean))];
    if (scope.some((s) => !SCOPE_TOKEN.test(s) || s.length > 200) || scope.length > 50) throw fail('invalid_scope', 'scope must be up to 50 printable ASCII tokens');
    if (client.scope && scope.some((s) => !client.scope!.includes(s))) throw fail('invalid_scope', `${client.name} may not ask for ${scope.filter((s) => !client.scope!.includes(s)).join(' ')}`);
  }

  const resource = q.get('resource') ?? [];
  if (resource.length > 10) throw fail('invalid_target', 'at most 10 resource indicators');
  for (const r of resource) {
    let url: URL | undefined;
    try { url = new URL(r); } catch { url = undefined; }
    if (!url || r.includes('#') || r.length > 2000) throw fail('invalid_target', 'a resource indicator must be an absolute URI without a fragment (RFC 8707)');
  }

  const purpose = one(q, 'purpose') ?? null;
  if (purpose !== null && !/^[a-z0-9][a-z0-9._:-]{0,99}$/.test(purpose)) throw fail('invalid_request', 'purpose must be a short lowercase identifier');

  return { client, params: { clientId, redirectUri, state: stateRaw, codeChallenge: one(q, 'code_challenge')!, scope, resource, purpose } };
}

/** The client's redirect with the RFC 9207 `iss` parameter always added. */
export function clientRedirect(redirectUri: string, params: Record<string, string | null>, issuer: string): string {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== null) url.searchParams.set(k, v);
  url.searchParams.set('iss', issuer);
  return url.href;
}
