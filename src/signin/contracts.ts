import type { JWK } from 'jose';
import type { Actor, OperatorRole, Provenance } from '../platform/actor.js';
import type { Trx, WriteBatch } from '../platform/store/db.js';

// The types the sign-in module's parts meet on. The module makes Custos the authorization server for people:
// it federates to the organisation's identity providers as an OIDC relying party (identity-providers.*,
// idp-client.ts), runs the authorization endpoint with its sign-in and consent pages (authorize/, pages/),
// identifies clients (registered, Client ID Metadata Documents, dynamic registration: clients/), and keeps the
// sessions that refresh tokens continue (sessions.*, grants/).

// ---------------------------------------------------------------------------------------------------------
// Identity providers (identity-providers.service.ts, idp-client.ts)

export type IdpClientAuth = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** A configured identity provider with its secrets unsealed (only in memory, never returned by the API). */
export interface IdentityProviderRecord {
  id: string;
  name: string;
  displayName: string | null;
  /** The OIDC issuer; its discovery document is at <issuer>/.well-known/openid-configuration. */
  issuer: string;
  clientId: string;
  clientAuth: IdpClientAuth;
  /** client_secret_basic / client_secret_post. */
  clientSecret: string | null;
  /** private_key_jwt: Custos's own private key for this IdP (the IdP is given the public half). */
  privateKey: JWK | null;
  scopes: string[];
  /** Which claim names the person at this IdP: 'sub' (default, stable) or 'email'. */
  subjectClaim: string;
  /** Which claim carries the person's groups (a list of strings); null: no group mapping. */
  groupsClaim: string | null;
  /** group → operator role; several matching groups give the highest role. */
  groupRoles: Record<string, OperatorRole>;
  /** group → team id: the person is a member of each mapped team while in the group. */
  groupTeams: Record<string, string>;
  /** Status of a human principal created at first sign-in. */
  newPrincipalStatus: 'proposed' | 'active';
}

/** What the relying party must keep between sending the person to the IdP and the callback (sealed at rest). */
export interface UpstreamAuthorization {
  /** Where to send the browser. */
  url: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** The person as the IdP vouched for them (ID token validated; userinfo merged when groups were not in it). */
export interface UpstreamIdentity {
  /** The value of the provider's subject claim (sub or email). */
  subject: string;
  email: string | null;
  name: string | null;
  groups: string[];
  /** The upstream refresh token, when the IdP issued one: used to re-read groups at every Custos refresh. */
  refreshToken: string | null;
  /** When the person authenticated at the IdP (seconds since the epoch). */
  authTime: number;
}

/** The IdP refused a refresh (the person was disabled, their grant revoked): the Custos session ends. */
export class UpstreamRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamRefused';
  }
}

/** The relying party (openid-client underneath). Errors other than UpstreamRefused mean the IdP is unreachable or broken. */
export interface IdpClient {
  begin(idp: IdentityProviderRecord, redirectUri: string): Promise<UpstreamAuthorization>;
  /** `callbackUrl` is the full URL the IdP redirected the browser to (code, state, iss). */
  complete(idp: IdentityProviderRecord, redirectUri: string, callbackUrl: URL, expected: Omit<UpstreamAuthorization, 'url'>): Promise<UpstreamIdentity>;
  refresh(idp: IdentityProviderRecord, refreshToken: string): Promise<UpstreamIdentity>;
  /** Reads the provider's discovery document now (no cache): what an administrator checks after adding one. */
  check(idp: IdentityProviderRecord): Promise<{ issuer: string; authorizationEndpoint: string; tokenEndpoint: string; pkceS256: boolean; issParameter: boolean }>;
}

/** What a person's groups give them (group-mapping.ts). */
export interface GroupGrants {
  role: OperatorRole | null;
  teamIds: string[];
}

// ---------------------------------------------------------------------------------------------------------
// Clients (clients/)

/** A client as the authorization endpoint and the token endpoint see it, wherever it came from. */
export interface OAuthClient {
  clientId: string;
  name: string;
  source: 'registered' | 'dynamic' | 'metadata_document' | 'builtin';
  redirectUris: string[];
  grantTypes: string[];
  /** Scopes it may ask for; null: whatever the person holds. */
  scope: string[] | null;
  /** From a Client ID Metadata Document, for the consent page. */
  clientUri?: string | null;
  logoUri?: string | null;
}

/** Clients nobody here vetted: identified by a metadata document, or registered themselves (and named themselves). */
export const UNVETTED_CLIENTS: ReadonlySet<OAuthClient['source']> = new Set(['metadata_document', 'dynamic']);

/** A Client ID Metadata Document could not be used; the message says why (shown to the person, never a stack). */
export class ClientMetadataError extends Error {
  constructor(readonly reason: 'not_allowed' | 'fetch_failed' | 'invalid_document', message: string) {
    super(message);
    this.name = 'ClientMetadataError';
  }
}

/** Fetches and validates Client ID Metadata Documents (clients/client-metadata.ts). */
export interface ClientMetadataFetcher {
  /** True when the client_id is a URL this fetcher would try (https, or an allowed private host). */
  isMetadataUrl(clientId: string): boolean;
  fetch(clientId: string): Promise<OAuthClient>;
}

// ---------------------------------------------------------------------------------------------------------
// What the sign-in module needs from other modules (ports; the composition root passes the providers)

/** Identity: people (human principals) and the team memberships their groups maintain. */
export interface PeopleDirectory {
  /** Creates the human principal for a first sign-in; the name is derived from `nameHint` and made unique. */
  createPerson(trx: Trx, batch: WriteBatch, actor: Actor, input: { nameHint: string; displayName: string | null; email: string | null; status: 'proposed' | 'active'; idpName: string }): Promise<{ id: string; name: string }>;
  /** Makes the memberships `managedBy` maintains for the person exactly `teamIds` (others are never touched). */
  syncManagedTeams(trx: Trx, batch: WriteBatch, actor: Actor, principalId: string, managedBy: string, teamIds: string[]): Promise<void>;
}

/** Operators: the operator token a person pasted on the sign-in page (embedded default, tests, bootstrap). */
export interface OperatorTokenSignin {
  authenticate(token: string, provenance: Provenance): Promise<Actor>;
  /** The operator token's role and expiry while it is still valid (unrevoked, unexpired); null once it is not. */
  whileValid(credentialId: string, trx?: Trx): Promise<{ role: OperatorRole; expiresAt: string } | null>;
}
