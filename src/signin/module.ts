import type { AuditWriter } from '../audit/index.js';
import type { CredentialDirectory, CredentialHolder, GrantHandler, LeakRevokerFn } from '../credentials/index.js';
import { OAuthError, readParams } from '../credentials/index.js';
import { anonymousActor, type Actor } from '../platform/actor.js';
import { errors } from '../platform/http/errors.js';
import type { Clock } from '../platform/clock.js';
import type { HttpApp } from '../platform/http/app.js';
import type { IdGenerator } from '../platform/ids.js';
import type { KeyRing } from '../platform/keys.js';
import type { Database, Trx, WriteBatch } from '../platform/store/db.js';
import { AuthorizePageError } from './authorize/index.js';
import { createClientMetadataFetcher } from './clients/client-metadata.js';
import { registerDynamicRegistrationRoute } from './clients/dynamic-registration.js';
import { registerOAuthClientRoutes } from './clients/oauth-clients.routes.js';
import { createOAuthClientService } from './clients/oauth-clients.service.js';
import { ClientMetadataError, UNVETTED_CLIENTS, type IdpClient, type OAuthClient, type OperatorTokenSignin, type PeopleDirectory } from './contracts.js';
import { createDeviceFlow } from './device.js';
import { createSigninFlow } from './flow.js';
import { authorizationCodeGrant } from './grants/authorization-code.js';
import type { PersonGrantDeps } from './grants/context.js';
import { DEVICE_CODE_GRANT, deviceCodeGrant } from './grants/device-code.js';
import { refreshTokenGrant } from './grants/refresh-token.js';
import { createIdentityProviderService, type TeamResolver } from './identity-providers.service.js';
import { registerIdentityProviderRoutes } from './identity-providers.routes.js';
import { createIdpClient } from './idp-client.js';
import * as requests from './requests.repo.js';
import { createSessionService } from './sessions.service.js';
import { registerSigninRoutes } from './signin.routes.js';

// The sign-in module, composed from its parts: identity providers and the relying party, clients (registered,
// built-in, dynamic, metadata documents), the person's flow (authorization endpoint, pages, consent), the device
// flow, sessions with rotating refresh tokens, and the three grants it adds to the credentials module's token
// endpoint. The composition root builds it once, after the credentials module, and hands it the ports below.

export interface SigninModuleDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  keys: KeyRing;
  issuer: () => string;
  directory: CredentialDirectory;
  people: PeopleDirectory & TeamResolver;
  operatorTokens: OperatorTokenSignin & {
    onRevoked(listener: (trx: Trx, batch: WriteBatch, actor: Actor, tokenId: string, reason: string) => Promise<void>): void;
  };
  /** The credentials module's seams this module plugs into. */
  credentials: {
    addGrant(type: string, handler: GrantHandler): void;
    addHolder(holder: CredentialHolder): void;
    addLeakRevoker(kind: 'rt', revoke: LeakRevokerFn): void;
    extendOAuth(ext: { metadata?: () => Record<string, unknown>; revokeOther?: (params: URLSearchParams, provenance: Actor['provenance']) => Promise<boolean> }): void;
    onCredentialRevoked(trx: Trx, batch: WriteBatch, actor: Actor, credentialId: string, reason: string | null): Promise<unknown>;
    revokeCredential(actor: Actor, credentialId: string, reason: string | null): Promise<unknown>;
  };
  settings: { sessionHours: number; operatorTokenSignin: 'auto' | 'true' | 'false'; dynamicClientRegistration: boolean; cimdAllowPrivate: string[] };
  /** The relying party (tests may pass one with a shorter timeout). */
  idpClient?: IdpClient;
}

export function createSigninModule(deps: SigninModuleDeps) {
  const { db, audit, clock, newId, keys, issuer, directory } = deps;

  const sessions = createSessionService({
    db, audit, clock, newId, sessionHours: deps.settings.sessionHours, onCredentialRevoked: deps.credentials.onCredentialRevoked,
    principalNames: (ids) => directory.principalNames(ids),
  });
  const idps = createIdentityProviderService({
    db, audit, keys, clock, teams: deps.people, issuer, newId, onRemoved: (trx, batch, actor, idpId) => sessions.endAllThrough(trx, batch, actor, idpId),
  });
  const idpClient = deps.idpClient ?? createIdpClient({});
  const clients = createOAuthClientService({ db, audit, clock, newId });
  const metadataDocuments = createClientMetadataFetcher({ allowPrivate: deps.settings.cimdAllowPrivate, clock });

  /** Registered, built-in or dynamic first; a URL client_id is a metadata document (fetched with the SSRF guard). */
  async function findClient(clientId: string): Promise<OAuthClient> {
    const known = await clients.find(clientId);
    if (known) return unvettedNameAllowed(known);
    if (metadataDocuments.isMetadataUrl(clientId)) {
      try {
        return unvettedNameAllowed(await metadataDocuments.fetch(clientId));
      } catch (error) {
        if (error instanceof ClientMetadataError) throw new AuthorizePageError(`the client's metadata document (${clientId.slice(0, 200)}) cannot be used: ${error.message}`);
        throw error;
      }
    }
    throw new AuthorizePageError(`no client '${clientId.slice(0, 200)}' is known here (not registered, and not a metadata document URL this server may fetch)`);
  }

  /** A client nobody vetted may not pass itself off as Custos's own (the consent page shows its name). */
  function unvettedNameAllowed(client: OAuthClient): OAuthClient {
    if (UNVETTED_CLIENTS.has(client.source) && client.name.normalize('NFKC').toLowerCase().replace(/[^a-z0-9]/g, '').includes('custos')) {
      throw new AuthorizePageError(`the client ${client.clientId.slice(0, 200)} names itself '${client.name.slice(0, 100)}'; a client not registered here may not use the name Custos`);
    }
    return client;
  }

  const flow = createSigninFlow({
    db, audit, clock, newId, keys, issuer, findClient, idps, idpClient, people: deps.people, directory, operatorTokens: deps.operatorTokens,
    operatorTokenSignin: deps.settings.operatorTokenSignin,
  });
  const device = createDeviceFlow({ db, audit, clock, newId, issuer, csrfKey: keys.deriveKey('signin-csrf'), findClient });

  const grantDeps: PersonGrantDeps = { db, clock, newId, keys, issuer, directory, sessions, idps, idpClient, people: deps.people, operatorTokens: deps.operatorTokens };
  deps.credentials.addGrant('authorization_code', authorizationCodeGrant(grantDeps));
  deps.credentials.addGrant('refresh_token', refreshTokenGrant(grantDeps));
  deps.credentials.addGrant(DEVICE_CODE_GRANT, deviceCodeGrant(grantDeps));
  deps.credentials.addHolder(sessions.holder);
  deps.credentials.addLeakRevoker('rt', (trx, batch, actor, leak, details) => sessions.revokeLeaked(trx, batch, actor, leak, details));
  deps.credentials.extendOAuth({
    metadata: () => ({
      authorization_endpoint: `${issuer()}/oauth/authorize`,
      device_authorization_endpoint: `${issuer()}/oauth/device_authorization`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
      token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post', 'none'],
      revocation_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post', 'none'],
      ...(deps.settings.dynamicClientRegistration ? { registration_endpoint: `${issuer()}/oauth/register` } : {}),
    }),
    // RFC 7009 for refresh tokens: a public client names itself with client_id; the session ends.
    revokeOther: async (params, provenance) => {
      const token = params.get('token');
      if (!token?.startsWith('custos_rt_')) return false;
      const found = await sessions.lookup(token);
      if (found.kind === 'invalid') return true; // RFC 7009 §2.2: an invalid token is not an error
      const clientId = readParams(params).one('client_id');
      if (clientId !== found.session.client_id) throw new OAuthError('unauthorized_client', 'this refresh token was not issued to the client asking to revoke it');
      const actor = { ...anonymousActor('federated', provenance, { id: found.session.id, kind: 'refresh_token' }), label: `client:${clientId.slice(0, 200)}` };
      await deps.credentials.revokeCredential(actor, found.session.id, 'revoked by the client (RFC 7009)');
      return true;
    },
  });

  // Revoking the operator token a person pasted to sign in ends the sessions started with it.
  deps.operatorTokens.onRevoked((trx, batch, actor, tokenId, reason) => sessions.endStartedWith(trx, batch, actor, tokenId, reason));

  /** What an administrator checks after adding a provider: its discovery document, read now. */
  async function checkProvider(ref: string) {
    const idp = await idps.load(ref);
    if (!idp) throw errors.notFound('identity provider', ref);
    try {
      const found = await idpClient.check(idp);
      return { ok: true, issuer: found.issuer, authorization_endpoint: found.authorizationEndpoint, token_endpoint: found.tokenEndpoint, pkce_s256: found.pkceS256, iss_parameter: found.issParameter, error: null };
    } catch (error) {
      return { ok: false, issuer: null, authorization_endpoint: null, token_endpoint: null, pkce_s256: null, iss_parameter: null, error: (error as Error).message.slice(0, 500) };
    }
  }

  let pruning: NodeJS.Timeout | undefined;

  return {
    identityProviders: idps,
    clients,
    sessions,
    registerRoutes(app: HttpApp) {
      registerIdentityProviderRoutes(app, idps, checkProvider);
      registerOAuthClientRoutes(app, clients);
      registerDynamicRegistrationRoute(app, clients, { enabled: deps.settings.dynamicClientRegistration });
      registerSigninRoutes(app, {
        flow, device, sessions, issuer,
        revokeSession: (req, id, reason) => deps.credentials.revokeCredential(req.actor, id, reason),
      });
    },
    /** Sign-in requests are kept an hour past expiry (a late replay of a code still finds what it started), then pruned. */
    start() {
      pruning = setInterval(() => {
        void requests.deleteExpired(db.kysely, new Date(clock.now().getTime() - 3600_000).toISOString()).catch(() => undefined);
        void sessions.prune().catch(() => undefined);
      }, 60_000);
      pruning.unref();
    },
    stop() {
      if (pruning) clearInterval(pruning);
    },
  };
}
export type SigninModule = ReturnType<typeof createSigninModule>;
