import { importJWK, type CryptoKey } from 'jose';
import * as oidc from 'openid-client';
import { remoteUrlProblem } from '../credentials/index.js';
import type { Clock } from '../platform/clock.js';
import type { IdentityProviderRecord, IdpClient, UpstreamAuthorization, UpstreamIdentity } from './contracts.js';
import { UpstreamRefused } from './contracts.js';
import { groupsFromClaims, hasGroupsClaim } from './group-mapping.js';

// Custos as an OpenID Connect relying party of the organisation's identity providers. Every protocol check is
// openid-client's (v6, over oauth4webapi): discovery and its issuer check, the authorization response (RFC 9207
// `iss`, state), the code exchange with PKCE, the ID token (signature from the provider's JWKS, iss, aud, exp,
// iat, nonce), userinfo bound to the ID token's subject. Nothing here parses a JWT or validates a claim by hand.
//
// Rules:
// - Authorization requests: response_type=code, PKCE with S256 always, a fresh random state and nonce always,
//   the provider's configured scopes. The caller keeps state, nonce and the verifier (sealed) until the callback.
// - The callback: the `iss` response parameter is checked by openid-client whenever present, and required when the
//   provider advertises authorization_response_iss_parameter_supported (RFC 9207; nothing here turns that off);
//   then state, then the code is exchanged (redirect_uri exactly as sent, the PKCE verifier), then an ID token is
//   required and its nonce must be the one sent.
// - Issuers: https; plain http only to 127.0.0.1, [::1] or localhost (development and tests), and only then are
//   insecure requests allowed (issuerProblem). Discovery documents are cached per issuer for 10 minutes
//   (at most 100 issuers; a failed discovery is not cached), and with them the provider's JWKS as openid-client
//   fetched it (openid-client refetches it when an ID token names a key it does not hold).
// - Client authentication: client_secret_basic, client_secret_post, or private_key_jwt with Custos's own key for
//   the provider (ES256; the assertion's kid is the key's thumbprint).
// - Claims: from the ID token; userinfo (bound to the ID token's sub by openid-client) is asked only when the ID
//   token lacks the groups claim, or lacks the email the provider is configured to name people by (or was asked
//   for with the email scope); an ID token's value always wins over userinfo's.
// - Subject: the provider's subject_claim (sub, or email). An email names somebody only when email_verified is
//   true — a missing claim is not verification (some IdPs send none while letting users set the address: "nOAuth")
//   — and `email` is returned only then.
// - Groups: groupsFromClaims over the configured groups claim (group-mapping.ts).
// - Refresh: the upstream refresh token; the new refresh token when the provider rotates it, else the same one.
//   A refreshed response without an ID token is read from userinfo (nothing to bind it to then: the caller must
//   compare the subject with the one it stored). The caller must also compare the subject after every refresh.
// - Errors: UpstreamRefused when the provider said no (an OAuth error in the callback or from its token or userinfo
//   endpoint, e.g. invalid_grant for a disabled person); UpstreamInvalid (a subclass) when a check failed (iss,
//   state, nonce, ID token, no usable subject): nothing from that answer is trusted. Anything else — the provider
//   unreachable, slow, answering 5xx or not speaking OAuth — is a plain Error (the caller answers 503). Messages
//   never carry a token, a code or a secret, and quote the provider only through a validated error code.

export const DISCOVERY_TTL_MS = 10 * 60_000;
export const MAX_CACHED_ISSUERS = 100;
export const DEFAULT_FETCH_TIMEOUT_MS = 10_000;


/** A check on the provider's answer failed (iss, state, nonce, ID token, subject): the sign-in or refresh is refused. */
export class UpstreamInvalid extends UpstreamRefused {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamInvalid';
  }
}

/** Why `value` cannot be an identity provider's issuer; undefined when it can: the rule for every remote issuer
 * (https, or plain http to a loopback host; no credentials or fragment), plus no query and not the discovery URL. */
export function issuerProblem(value: string): string | undefined {
  const remote = remoteUrlProblem(value);
  if (remote) return remote;
  if (value.includes('?')) return 'must not have a query';
  if (new URL(value).pathname.includes('/.well-known/')) return 'must be the issuer itself, not its discovery document\'s URL';
  return undefined;
}

/** Plain http is allowed to loopback issuers only (development and tests): an http issuer issuerProblem accepted. */
export function allowsPlainHttp(issuer: string): boolean {
  return issuerProblem(issuer) === undefined && new URL(issuer).protocol === 'http:';
}

export interface IdpClientDeps {
  /** The time ID tokens are checked against (default: the system's). Give the control plane's clock only when the
   * providers share it: a clock moved ahead makes every real provider's tokens look expired. */
  clock?: Clock;
  /** Bound on every request to a provider (discovery, token, userinfo, JWKS); default 10 s. */
  fetchTimeoutMs?: number;
  /** How long a discovery document is reused; default 10 minutes. */
  discoveryTtlMs?: number;
}

// Codes openid-client gives when the provider is down or not speaking OAuth (the caller answers 503), as opposed
// to an answer that failed a check.
const UNAVAILABLE = new Set([
  'OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_RESPONSE_IS_NOT_JSON', 'OAUTH_HTTP_REQUEST_FORBIDDEN', 'OAUTH_REQUEST_PROTOCOL_FORBIDDEN',
  'OAUTH_MISSING_SERVER_METADATA', 'OAUTH_INVALID_SERVER_METADATA', 'OAUTH_UNSUPPORTED_OPERATION',
]);
const TEMPORARY = new Set(['server_error', 'temporarily_unavailable']);

/** An OAuth error code fit to quote (it may come from a URL anyone could craft). */
const quoted = (code: unknown) => (typeof code === 'string' && /^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/.test(code) ? code : 'an unrecognised error');

function classify(error: unknown, during: string): Error {
  if (error instanceof UpstreamRefused) return error;
  if (error instanceof oidc.AuthorizationResponseError) return new UpstreamRefused(`the identity provider refused the ${during} (${quoted(error.error)})`);
  if (error instanceof oidc.ResponseBodyError) {
    if (error.status >= 500 || TEMPORARY.has(error.error)) return new Error(`the identity provider failed during the ${during} (${quoted(error.error)}, HTTP ${error.status})`, { cause: error });
    return new UpstreamRefused(`the identity provider refused the ${during} (${quoted(error.error)})`);
  }
  if (error instanceof oidc.WWWAuthenticateChallengeError) {
    return error.status >= 500 ? new Error(`the identity provider failed during the ${during} (HTTP ${error.status})`, { cause: error })
      : new UpstreamRefused(`the identity provider refused the ${during} (${quoted(error.cause[0]?.parameters.error)})`);
  }
  if (error instanceof oidc.ClientError) {
    // openid-client's message is generic ("invalid response encountered"); oauth4webapi's, in the cause, names the
    // check (a fixed text, never a value from the answer).
    const what = error.cause instanceof Error && error.cause.message ? error.cause.message : error.message;
    if (error.code !== undefined && UNAVAILABLE.has(error.code)) return new Error(`the identity provider answered the ${during} unexpectedly: ${what}`, { cause: error });
    return new UpstreamInvalid(`the identity provider's answer to the ${during} failed a check: ${what}`);
  }
  if (error instanceof Error) return new Error(`the identity provider could not be reached during the ${during}: ${error.message}`, { cause: error });
  return new Error(`the identity provider could not be reached during the ${during}`);
}

type Claims = Record<string, unknown>;

interface CachedDiscovery {
  server: Promise<oidc.ServerMetadata>;
  expiresAt: number;
  /** The provider's JWKS as openid-client last fetched it (it refetches on an unknown kid). */
  jwks?: oidc.ExportedJWKSCache;
}

export function createIdpClient(deps: IdpClientDeps = {}): IdpClient {
  const timeoutMs = deps.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const ttlMs = deps.discoveryTtlMs ?? DISCOVERY_TTL_MS;
  const discoveries = new Map<string, CachedDiscovery>();

  const boundedFetch: oidc.CustomFetch = (url, options) => {
    const limit = AbortSignal.timeout(timeoutMs);
    return fetch(url, { ...options, signal: options.signal ? AbortSignal.any([options.signal, limit]) : limit } as RequestInit);
  };
  // openid-client compares token times with epoch time plus this skew: it is the injected clock's offset.
  const skew = () => (deps.clock ? Math.round((deps.clock.now().getTime() - Date.now()) / 1000) : 0);

  function discover(issuer: string): Promise<oidc.ServerMetadata> {
    const now = Date.now();
    const hit = discoveries.get(issuer);
    if (hit && hit.expiresAt > now) return hit.server;
    const problem = issuerProblem(issuer);
    if (problem) return Promise.reject(new Error(`the identity provider's issuer ${problem}`));
    const server = oidc.discovery(new URL(issuer), 'custos-discovery', undefined, undefined, {
      [oidc.customFetch]: boundedFetch,
      execute: allowsPlainHttp(issuer) ? [oidc.allowInsecureRequests] : [],
    }).then((c) => ({ ...c.serverMetadata() }) as oidc.ServerMetadata);
    discoveries.delete(issuer);
    discoveries.set(issuer, { server, expiresAt: now + ttlMs });
    while (discoveries.size > MAX_CACHED_ISSUERS) discoveries.delete(discoveries.keys().next().value!);
    server.catch(() => { if (discoveries.get(issuer)?.server === server) discoveries.delete(issuer); });
    return server;
  }

  /** Every distinct message down an error's cause chain ("fetch failed: getaddrinfo ENOTFOUND idp.example"). */
  function describe(error: unknown): string {
    const parts: string[] = [];
    for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
      const text = e.message.trim();
      if (text && !parts.some((p) => p.includes(text))) parts.push(text);
    }
    return parts.join(': ') || 'unknown error';
  }

  async function clientAuthOf(idp: IdentityProviderRecord): Promise<oidc.ClientAuth> {
    if (idp.clientAuth === 'private_key_jwt') {
      if (!idp.privateKey) throw new Error(`identity provider '${idp.name}' uses private_key_jwt but has no key`);
      const key = await importJWK(idp.privateKey, idp.privateKey.alg ?? 'ES256') as CryptoKey;
      return oidc.PrivateKeyJwt({ key, kid: idp.privateKey.kid });
    }
    if (idp.clientSecret === null) throw new Error(`identity provider '${idp.name}' uses ${idp.clientAuth} but has no client secret`);
    return idp.clientAuth === 'client_secret_post' ? oidc.ClientSecretPost(idp.clientSecret) : oidc.ClientSecretBasic(idp.clientSecret);
  }

  async function configFor(idp: IdentityProviderRecord, during: string): Promise<oidc.Configuration> {
    let server: oidc.ServerMetadata;
    try {
      server = await discover(idp.issuer);
    } catch (error) {
      throw new Error(`the identity provider '${idp.name}' could not be discovered for the ${during}: ${describe(error)}`);
    }
    const config = new oidc.Configuration(server, idp.clientId, { [oidc.clockSkew]: skew() }, await clientAuthOf(idp));
    config[oidc.customFetch] = boundedFetch;
    if (allowsPlainHttp(idp.issuer)) oidc.allowInsecureRequests(config);
    const jwks = discoveries.get(idp.issuer)?.jwks;
    if (jwks) oidc.setJwksCache(config, jwks);
    return config;
  }

  /** Keeps the JWKS the call fetched for the next call to the same provider. */
  function keepJwks(issuer: string, config: oidc.Configuration): void {
    const jwks = oidc.getJwksCache(config);
    const entry = discoveries.get(issuer);
    if (jwks && entry) entry.jwks = jwks;
  }

  /** The person from a token response: ID token claims, with userinfo for what they lack (see the rules above). */
  async function identityFrom(config: oidc.Configuration, idp: IdentityProviderRecord, tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
    previousRefreshToken: string | null, during: string): Promise<UpstreamIdentity> {
    const idToken = tokens.claims();
    const claims: Claims = idToken ? { ...idToken } : {};
    const wantsEmail = idp.subjectClaim === 'email' || idp.scopes.includes('email');
    const lacking = !idToken || (idp.groupsClaim !== null && !hasGroupsClaim(claims, idp.groupsClaim)) || (wantsEmail && claims.email === undefined);
    if (lacking && config.serverMetadata().userinfo_endpoint) {
      let info: Claims;
      try {
        info = { ...await oidc.fetchUserInfo(config, tokens.access_token, idToken ? idToken.sub : oidc.skipSubjectCheck) };
      } catch (error) {
        throw classify(error, during);
      }
      if (!idToken) Object.assign(claims, info);
      if (idp.groupsClaim !== null && !hasGroupsClaim(claims, idp.groupsClaim) && Object.hasOwn(info, idp.groupsClaim)) claims[idp.groupsClaim] = info[idp.groupsClaim];
      if (claims.email === undefined && info.email !== undefined) {
        claims.email = info.email;
        claims.email_verified = info.email_verified;
      }
      if (claims.name === undefined && info.name !== undefined) claims.name = info.name;
    } else if (!idToken) {
      throw new UpstreamInvalid(`the identity provider returned no ID token for the ${during} and has no userinfo endpoint`);
    }

    const verifiedEmail = typeof claims.email === 'string' && claims.email.length > 0 && claims.email_verified === true ? claims.email : null;
    const raw = idp.subjectClaim === 'email' ? verifiedEmail : claims[idp.subjectClaim];
    if (typeof raw !== 'string' || raw.length === 0) {
      throw new UpstreamInvalid(idp.subjectClaim === 'email'
        ? `the identity provider vouched for no verified email, and '${idp.name}' names people by email`
        : `the identity provider's answer has no '${idp.subjectClaim}' claim to name the person by`);
    }
    const authTime = typeof claims.auth_time === 'number' ? claims.auth_time
      : typeof claims.iat === 'number' ? claims.iat : Math.floor(Date.now() / 1000) + skew();
    return {
      subject: raw,
      email: verifiedEmail,
      name: typeof claims.name === 'string' && claims.name.length > 0 ? claims.name : null,
      groups: groupsFromClaims(claims, idp.groupsClaim),
      refreshToken: tokens.refresh_token ?? previousRefreshToken,
      authTime,
    };
  }

  return {
    async check(idp) {
      discoveries.delete(idp.issuer);
      let server: oidc.ServerMetadata;
      try {
        server = await discover(idp.issuer);
      } catch (error) {
        throw new Error(`${idp.issuer}/.well-known/openid-configuration could not be read: ${describe(error)}`);
      }
      if (!server.authorization_endpoint || !server.token_endpoint) throw new Error('its discovery document names no authorization or token endpoint');
      return {
        issuer: server.issuer, authorizationEndpoint: server.authorization_endpoint, tokenEndpoint: server.token_endpoint,
        pkceS256: server.code_challenge_methods_supported?.includes('S256') ?? false,
        issParameter: server.authorization_response_iss_parameter_supported === true,
      };
    },

    async begin(idp, redirectUri): Promise<UpstreamAuthorization> {
      const config = await configFor(idp, 'sign-in');
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: idp.scopes.join(' '),
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      return { url: url.href, state, nonce, codeVerifier };
    },

    async complete(idp, redirectUri, callbackUrl, expected): Promise<UpstreamIdentity> {
      const config = await configFor(idp, 'sign-in');
      // The redirect_uri sent to the token endpoint is the one sent in the authorization request, exactly; only
      // the response parameters are taken from the callback.
      const current = new URL(redirectUri);
      current.search = callbackUrl.search;
      current.hash = '';
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: expected.codeVerifier,
          expectedState: expected.state,
          expectedNonce: expected.nonce,
          idTokenExpected: true,
        });
      } catch (error) {
        throw classify(error, 'sign-in');
      } finally {
        keepJwks(idp.issuer, config);
      }
      return identityFrom(config, idp, tokens, null, 'sign-in');
    },

    async refresh(idp, refreshToken): Promise<UpstreamIdentity> {
      const config = await configFor(idp, 'refresh');
      let tokens: Awaited<ReturnType<typeof oidc.refreshTokenGrant>>;
      try {
        tokens = await oidc.refreshTokenGrant(config, refreshToken);
      } catch (error) {
        throw classify(error, 'refresh');
      } finally {
        keepJwks(idp.issuer, config);
      }
      return identityFrom(config, idp, tokens, refreshToken, 'refresh');
    },
  };
}
