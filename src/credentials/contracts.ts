import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { Actor, ActorPrincipal, Provenance } from '../platform/actor.js';
import type { Trx, WriteBatch } from '../platform/store/db.js';

// The types the credentials module's parts meet on: signing keys, access-token claims, the access-token
// verifier, DPoP, the replay store, revocation state, client authentication material, federation and what
// the module needs from identity. Each part is built by its own factory from these; the token endpoint
// (token-endpoint/) and the one verifier (verifier.ts) compose them. Nothing here has behaviour.

// ---------------------------------------------------------------------------------------------------------
// Signing keys (signing-keys.service.ts)

export type SigningAlg = 'EdDSA' | 'ES256';
export const SIGNING_ALGS: readonly SigningAlg[] = ['EdDSA', 'ES256'];

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  privateKey: KeyObject;
}

export interface VerificationKey {
  kid: string;
  alg: SigningAlg;
  publicKey: KeyObject;
}

export interface SigningKeyStore {
  /** The key new tokens are signed with; rotates first when the active key is due (and creates the first). */
  current(): Promise<SigningKey>;
  /** The public key for `kid` while it is active or retiring; undefined when unknown or retired. In memory,
   * refreshed from the store when an unknown kid is asked for (at most once a second), so other nodes' keys appear. */
  verificationKey(kid: string): Promise<VerificationKey | undefined>;
  /** Public JWKs (kid, alg, use: 'sig') of the active and retiring keys. */
  jwks(): Promise<{ keys: JWK[] }>;
  /** Forces a rotation: a new active key, the old one retiring until every token it signed has expired. Audited. */
  rotate(actor: Actor, reason?: string): Promise<{ kid: string; retiring: string[] }>;
  /** Retires keys whose tokens have all expired and rotates a due active key (called by a timer and at start). */
  maintain(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Access tokens (RFC 9068). access-token.ts signs them; verify/ checks them.

/** RFC 8693 §4.1: the current actor, with the prior actors nested inside. */
export interface ActClaim {
  sub: string;
  act?: ActClaim;
}

export interface AccessTokenClaims {
  iss: string;
  sub: string;
  /** One or more audiences (RFC 8707 resource indicators). */
  aud: string | string[];
  client_id: string;
  /** Space-separated (RFC 8693 §4.2); may be empty. */
  scope: string;
  purpose?: string;
  jti: string;
  iat: number;
  nbf?: number;
  exp: number;
  auth_time: number;
  cnf?: { jkt: string };
  act?: ActClaim;
  /** How the subject authenticated (RFC 8176 style; the first entry maps to Actor.authMethod). */
  amr?: string[];
  /** RFC 9068 §2.2.3.1: a signed-in person's operator role (sign-in sessions only; never on a delegated token). */
  roles?: string[];
}

/** Why a presented credential was refused: the stable reasons auth.failed events and WWW-Authenticate carry. */
export type VerifyFailureReason =
  | 'malformed_token' | 'unsupported_alg' | 'unknown_kid' | 'forbidden_header' | 'bad_signature' | 'wrong_typ'
  | 'wrong_issuer' | 'wrong_audience' | 'expired' | 'not_yet_valid' | 'missing_claim' | 'revoked'
  | 'principal_not_active' | 'unknown_principal' | 'dpop_required' | 'dpop_invalid' | 'dpop_nonce_required'
  | 'unknown_token' | 'token_expired' | 'token_revoked';

export class CredentialRejected extends Error {
  constructor(readonly reason: VerifyFailureReason, detail: string, readonly credentialId: string | null = null) {
    super(detail);
    this.name = 'CredentialRejected';
  }
}

/** What an HTTP request presents: the token, how it was sent, and what a DPoP check needs. */
export interface PresentedRequest {
  token: string;
  scheme: 'bearer' | 'dpop';
  /** Every value of the DPoP header (more than one is an error). */
  dpopProofs: string[];
  method: string;
  /** The full request URL as the client addressed it (scheme, host, path), for `htu`. */
  url: string;
  provenance: Provenance;
}

export interface VerifiedAccessToken {
  claims: AccessTokenClaims;
  actor: Actor;
}

export interface AccessTokenVerifier {
  /** Verifies a JWT access token for `audience` (the enforcement point's own identifier); throws CredentialRejected. */
  verify(request: PresentedRequest, audience: string): Promise<VerifiedAccessToken>;
}

// ---------------------------------------------------------------------------------------------------------
// DPoP (RFC 9449; dpop/)

export interface DpopCheckInput {
  /** Every DPoP header value the request carried. */
  proofs: string[];
  method: string;
  url: string;
  /** The access token the proof accompanies (resource requests: `ath` is required and checked). */
  accessToken?: string;
  /** The key the token is bound to (`cnf.jkt`); the proof's key thumbprint must equal it. */
  expectedJkt?: string;
}

export interface DpopVerifier {
  /** Returns the proof key's RFC 7638 thumbprint; throws CredentialRejected('dpop_invalid' | 'dpop_nonce_required'). */
  verify(input: DpopCheckInput): Promise<{ jkt: string }>;
  /** A fresh server nonce for `DPoP-Nonce` (stateless: HMAC of a time step). */
  nonce(): string;
}

// ---------------------------------------------------------------------------------------------------------
// Replay store (replay-store.ts): single use of jti values (DPoP proofs, client assertions, federated JWTs)

export interface ReplayStore {
  /** Records `id` under `kind` until `expiresAt`; false when it was already seen (a replay). Durable and shared
   * by every node on the same database. */
  claimOnce(kind: 'dpop' | 'client_assertion' | 'federated', id: string, expiresAt: Date): Promise<boolean>;
  /** Deletes expired entries. */
  prune(): Promise<number>;
}

// ---------------------------------------------------------------------------------------------------------
// Revocation (revocation.service.ts): every revocation is a row in a versioned list, applied in memory at once

export interface TokenRef {
  jti: string;
  principalId: string;
  /** Principal ids of the act chain, outermost first. */
  actChain: string[];
  /** Seconds since the epoch. */
  issuedAt: number;
  credentialId: string | null;
}

export interface RevocationState {
  /** In memory and synchronous: is this token dead by any revocation (itself or an ancestor, the credential
   * it was obtained with, its principal or one in its chain)? */
  isRevoked(token: TokenRef): boolean;
  /** The latest revocation version applied on this node. */
  version(): number;
  /** Reads revocations other nodes made since the last version (called on a timer). */
  refresh(): Promise<void>;
  /** Not ok when the list could not be read lately: verification then fails closed (503), never trusting a stale list. */
  health?(): { ok: boolean; detail?: string };
}

// ---------------------------------------------------------------------------------------------------------
// Client authentication material (client-keys, client-secrets, api-keys services)

export interface RegisteredClientKey {
  id: string;
  kid: string | null;
  alg: string;
  jwk: JWK;
}

export interface ClientMaterial {
  /** Active (not removed, not expired) public keys registered for private_key_jwt. */
  clientKeys(principalId: string): Promise<RegisteredClientKey[]>;
  /** Checks a client secret (constant time); returns the secret's id, or undefined. */
  checkClientSecret(principalId: string, secret: string): Promise<string | undefined>;
  /** Marks a client key or secret used (at most once a minute per credential). */
  markUsed(credentialId: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Federation (federation.service.ts): workload identity from trusted issuers (RFC 7523 §2.1 jwt-bearer)

export interface FederatedIdentity {
  principalId: string;
  /** The trusted issuer's configured name and its `iss`. */
  issuerName: string;
  issuer: string;
  /** The external subject (`sub`), e.g. repo:org/app:ref:refs/heads/main or system:serviceaccount:ns:sa. */
  subject: string;
  jti: string | null;
  /** The assertion's `exp` (seconds). */
  expiresAt: number;
}

export interface FederationVerifier {
  /** Verifies a workload's JWT against its trusted issuer and maps it to exactly one principal; throws
   * CredentialRejected or an OAuth error (invalid_grant) when no issuer, key, audience or mapping fits. */
  verifyAssertion(assertion: string): Promise<FederatedIdentity>;
}

// ---------------------------------------------------------------------------------------------------------
// What the credentials module needs from identity (implemented by identity's directory)

/** A principal with what issuance decides on. */
export interface CredentialPrincipal extends ActorPrincipal {
  scopes: string[];
  purposes: string[];
  riskTier: 'low' | 'medium' | 'high' | 'critical';
  /** Principal ids and `kind:<kind>` entries this principal may delegate to. */
  mayDelegateTo: string[];
  dataCeiling: string | null;
  teamIds: string[];
  /** The owning team, when a team owns the principal (owner-role operators of that team manage its credentials). */
  ownerTeamId?: string | null;
}

/** A registered resource a token may be addressed to (RFC 8707). */
export interface AudienceResource {
  id: string;
  name: string;
  kind: string;
  /** The identifier tokens carry in `aud`: the resource's URI, else `urn:custos:resource:<name>`. */
  audience: string;
  purposes: string[];
  classification: string;
  /** The principal serving it (may introspect tokens addressed to it). */
  serverPrincipalId: string | null;
}

export interface CredentialDirectory {
  /** By id or name (a UUID is an id). */
  principal(ref: string, trx?: Trx): Promise<CredentialPrincipal | undefined>;
  /** By resource indicator: an absolute URI equal to a resource's `uri`, `urn:custos:resource:<name>`, or a bare name. */
  resourceByIndicator(indicator: string, trx?: Trx): Promise<AudienceResource | undefined>;
  principalNames(ids: string[], trx?: Trx): Promise<Map<string, string>>;
}

/** Identity calls this (its port) when a principal is suspended or decommissioned, inside the same transaction. */
export interface PrincipalCredentialRevoker {
  revokeAllOf(trx: Trx, batch: WriteBatch, actor: Actor, principalId: string, reason: string): Promise<void>;
}
