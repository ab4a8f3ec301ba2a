import type { FastifyRequest } from 'fastify';
import type { AuditWriter } from '../audit/index.js';
import { anonymousActor, type Actor, type Provenance } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import type { HttpApp } from '../platform/http/app.js';
import type { CredentialVerifier } from '../platform/http/pipeline/index.js';
import { requestProvenance } from '../platform/http/pipeline/provenance.js';
import { readCredential } from '../platform/http/pipeline/read-credential.js';
import type { IdGenerator } from '../platform/ids.js';
import type { KeyRing } from '../platform/keys.js';
import type { Database, Trx } from '../platform/store/db.js';
import { createApiKeyIssuer } from './api-key-issuer.js';
import { createApiKeyService } from './api-keys.service.js';
import { registerApiKeyRoutes } from './api-keys.routes.js';
import { createClientKeyService } from './client-keys.service.js';
import { registerClientKeyRoutes } from './client-keys.routes.js';
import { createClientMaterial, type HeldCredential } from './client-material.js';
import { createClientSecretService } from './client-secrets.service.js';
import { registerClientSecretRoutes } from './client-secrets.routes.js';
import type { CredentialDirectory, SigningAlg } from './contracts.js';
import { createDpopVerifier } from './dpop/index.js';
import { createFederationService } from './federation.service.js';
import { registerFederationRoutes } from './federation.routes.js';
import { createIntrospection } from './introspection.js';
import { registerInventoryRoutes } from './inventory.routes.js';
import { createInventoryService, type InventorySource } from './inventory.service.js';
import type { InventoryItem } from './inventory.schemas.js';
import { createLeakRevoker, type LeakRevokerFn } from './leaks.js';
import { DEFAULT_MAX_DELEGATION_DEPTH, LONGEST_TOKEN_SECONDS } from './narrowing.js';
import { registerOAuthRoutes } from './oauth.routes.js';
import type { OAuthError } from './oauth-errors.js';
import { createReplayStore } from './replay-store.js';
import { createRevocationService } from './revocation.service.js';
import { registerSigningKeyRoutes } from './signing-keys.routes.js';
import { createSigningKeyStore } from './signing-keys.service.js';
import { authenticatedClientActor } from './token-endpoint/grants/common.js';
import { createTokenEndpoint } from './token-endpoint/index.js';
import * as tokensRepo from './tokens.repo.js';
import { createVerifiedCache } from './verified-cache.js';
import { createAccessTokenVerifier, createIssuedTokenInspector } from './verify/index.js';
import { createCredentialVerifier, type CredentialIssuer } from './verifier.js';

// The credentials module, composed from its parts (each built by its own factory from typed dependencies):
// signing keys, the replay store, DPoP, revocation, client material, API keys, federation, the token endpoint,
// introspection, the access-token verifier and the one verifier every enforcement point calls. The composition
// root (src/app.ts) builds this once and wires what other modules need: the verifier, the leak revoker and the
// principal revoker identity calls on suspension.

export interface CredentialsModuleDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  keys: KeyRing;
  directory: CredentialDirectory;
  /** Identity's principal + teams lookup (one round trip), for verifiers. */
  principalWithTeams: (id: string) => Promise<{ principal: Actor['principal'] & object; teamIds: string[] } | undefined>;
  /** The operator-token issuer (operators module), which the verifier dispatches custos_op_ tokens to. */
  operatorTokens: CredentialIssuer & { revokeLeaked: Parameters<typeof createLeakRevoker>[0]['op'] };
  /** The server's public base URL: the issuer and the management API's audience. Read at call time. */
  issuer: () => string;
  signingAlg: SigningAlg;
  keyRotationDays: number;
  /** Every DPoP proof must carry a current server nonce. */
  requireDpopNonce?: boolean;
}

export function createCredentialsModule(deps: CredentialsModuleDeps) {
  const { db, audit, clock, newId, directory, issuer } = deps;

  const signingKeys = createSigningKeyStore({
    db, keys: deps.keys, audit, clock, alg: deps.signingAlg, rotationDays: deps.keyRotationDays, maxTokenLifetimeSeconds: LONGEST_TOKEN_SECONDS,
  });
  const replay = createReplayStore({ db, clock });
  const dpop = createDpopVerifier({ replay, clock, nonceKey: deps.keys.deriveKey('dpop-nonce'), requireNonce: deps.requireDpopNonce ?? false });

  // Revocation sits between the holders of credentials and the tokens obtained with them: holders call
  // onCredentialRevoked, revocation calls the holders' revokeAllOf. The holders are attached once built.
  const holders: Parameters<typeof createRevocationService>[0]['holders'] & object = [];
  const revocation = createRevocationService({ db, audit, clock, holders, maxTokenLifetimeMs: LONGEST_TOKEN_SECONDS * 1000 });
  const onCredentialRevoked = async (...args: Parameters<typeof revocation.onCredentialRevoked>) => { await revocation.onCredentialRevoked(...args); };

  const clientKeys = createClientKeyService({ db, audit, clock, newId, directory, onCredentialRevoked });
  const clientSecrets = createClientSecretService({ db, audit, clock, newId, directory, onCredentialRevoked });
  const apiKeys = createApiKeyService({ db, audit, clock, directory, issuer, onCredentialRevoked });
  holders.push(clientKeys, clientSecrets, apiKeys);
  const clientMaterial = createClientMaterial({ keys: clientKeys, secrets: clientSecrets });
  const federation = createFederationService({ db, audit, clock, directory, newId });

  const principals = deps.principalWithTeams;
  const cache = createVerifiedCache();
  const accessTokens = createAccessTokenVerifier({ keys: signingKeys, issuer, clock, revocations: revocation, dpop, principals, cache });
  const verifyIssuedToken = createIssuedTokenInspector({ keys: signingKeys, issuer, clock, revocations: revocation, dpop, principals });

  const tokenEndpoint = createTokenEndpoint({
    db, audit, clock, newId, issuer, directory, keys: signingKeys, clientMaterial, replay, dpop, federation, verifyIssuedToken,
    issuedToken: async (jti) => {
      const row = await tokensRepo.findToken(db.kysely, jti);
      return row ? { familyId: row.family_id, depth: row.depth, actChain: JSON.parse(row.act_chain) as string[], revoked: row.revoked_at !== null } : undefined;
    },
    maxDelegationDepth: DEFAULT_MAX_DELEGATION_DEPTH,
  });

  async function recordFailure(kind: 'access_token' | 'token_endpoint', reason: string, provenance: Provenance, credentialId: string | null, token?: string) {
    try {
      await db.write((trx, batch) => audit.record(trx, batch, {
        type: 'auth.failed', action: kind === 'access_token' ? 'auth.authenticate' : 'credential.issue',
        actor: anonymousActor('private_key_jwt', provenance, credentialId ? { id: credentialId, kind: 'access_token' } : null),
        outcome: 'failure', reasons: [reason], details: token ? { token_hmac: audit.hmac(token) } : {},
      }));
    } catch {
      // The request is refused whether or not its refusal could be recorded.
    }
  }

  const apiKeyIssuer = createApiKeyIssuer({ db, audit, clock, principals });
  // One verifier per enforcement point: the same checks, each with its own audience (this API's, the gateway's,
  // an MCP endpoint's).
  const verifierFor = (audience: () => string): CredentialVerifier => createCredentialVerifier({
    issuers: { op: deps.operatorTokens, ak: apiKeyIssuer }, accessTokens, dpop, audience,
    recordJwtFailure: (token, reason, provenance, jti) => recordFailure('access_token', reason, provenance, jti, token),
  });
  const verify = verifierFor(issuer);

  const introspection = createIntrospection({
    authenticateClient: tokenEndpoint.authenticateClient,
    verifyOperator: async (headers, provenance) => verify(readCredential({ headers, method: 'POST', url: '/oauth/introspect' }, issuer()), provenance),
    verifyIssuedToken, directory, issuer,
    revokeToken: (actor, jti, reason) => revocation.revokeToken(actor, jti, reason),
    clientActor: authenticatedClientActor,
  });

  // What each holder keeps, in the inventory's one shape (never a secret).
  // A principal's, or (no principal named: a fleet-wide audit) everyone's.
  const asInventory = (items: (principalId: string | null, trx?: Trx) => Promise<InventoryItem[]>): InventorySource => (
    { heldBy: (principalId, trx) => items(principalId, trx), all: (trx) => items(null, trx) });
  const materialInventory = (source: { heldBy(principalId: string | null, trx?: Trx): Promise<HeldCredential[]> }) => asInventory(async (principalId, trx) => {
    const held = await source.heldBy(principalId, trx);
    const names = await directory.principalNames([...new Set(held.map((c) => c.principal_id))], trx);
    return held.map((c) => ({
      id: c.id, kind: c.kind, principal: { id: c.principal_id, name: names.get(c.principal_id) ?? c.principal_id }, created_at: c.created_at,
      expires_at: c.expires_at, last_used_at: c.last_used_at, revoked_at: c.revoked_at, details: c.revoked_reason ? { revoked_reason: c.revoked_reason } : {},
    }));
  });
  const apiKeyInventory = asInventory(async (principalId, trx) => (await apiKeys.heldBy(principalId, trx)).map((k) => ({
    id: k.id, kind: 'api_key' as const, principal: k.principal, created_at: k.created_at, expires_at: k.expires_at, last_used_at: k.last_used_at,
    revoked_at: k.revoked_at, details: { scope: k.scope, purpose: k.purpose, audience: k.audience, description: k.description, replaced_by: k.replaced_by },
  })));
  const inventory = createInventoryService({
    db, clock, directory, revocation, inventories: [materialInventory(clientKeys), materialInventory(clientSecrets), apiKeyInventory],
  });
  // Refresh tokens are the sign-in module's: its revoker is attached once that module is built (addLeakRevoker).
  let refreshTokenLeaks: LeakRevokerFn | undefined;
  const leakRevoker = createLeakRevoker({
    op: deps.operatorTokens.revokeLeaked, ak: apiKeys.revokeLeaked, cs: clientSecrets.revokeLeaked,
    rt: async (...args) => (refreshTokenLeaks ? refreshTokenLeaks(...args) : { liveness: 'unknown', ownerId: null, revoked: false }),
  });

  let maintenance: NodeJS.Timeout | undefined;
  // What other modules add to the OAuth endpoints (the sign-in module: metadata for the authorization endpoint,
  // revocation of refresh tokens). Attached before registerRoutes.
  const metadataExtras: Array<() => Record<string, unknown>> = [];
  const otherRevokers: Array<NonNullable<Parameters<typeof registerOAuthRoutes>[1]['revokeOther']>> = [];

  return {
    verify,
    /** The verifier of another enforcement point of this server: tokens and API keys must be addressed to `audience`. */
    verifierFor,
    /** Verifies a Custos access token presented to someone else (an AuthZEN PEP passing its caller's token). */
    inspectToken: verifyIssuedToken,
    revocation,
    leakRevoker,
    signingKeys,
    tokenEndpoint,
    /** The DPoP proof checker other token flows use (the sign-in grants bind refresh tokens to a key). */
    dpop,
    /** The sign-in module's answer to a leaked refresh token (custos_rt_), for the findings loop. */
    addLeakRevoker(kind: 'rt', revoke: LeakRevokerFn): void {
      if (kind === 'rt') refreshTokenLeaks = revoke;
    },
    /** Adds a holder of credentials whose tokens revocation cascades through (the sign-in module's sessions). */
    addHolder(holder: (typeof holders)[number]): void {
      holders.push(holder);
    },
    /** Lets another module add to the OAuth endpoints: metadata members and revocation of its own token kind. */
    extendOAuth(ext: { metadata?: () => Record<string, unknown>; revokeOther?: (typeof otherRevokers)[number] }): void {
      if (ext.metadata) metadataExtras.push(ext.metadata);
      if (ext.revokeOther) otherRevokers.push(ext.revokeOther);
    },
    registerRoutes(app: HttpApp) {
      registerSigningKeyRoutes(app, signingKeys);
      registerOAuthRoutes(app, {
        token: tokenEndpoint, introspection, issuer,
        recordRefusal: (req: FastifyRequest, error: OAuthError) => recordFailure('token_endpoint', error.code, requestProvenance(req), null),
        metadataExtra: () => Object.assign({}, ...metadataExtras.map((m) => m())),
        revokeOther: async (params, provenance) => {
          for (const revoke of otherRevokers) if (await revoke(params, provenance)) return true;
          return false;
        },
      });
      registerApiKeyRoutes(app, apiKeys);
      registerClientKeyRoutes(app, clientKeys);
      registerClientSecretRoutes(app, clientSecrets);
      registerFederationRoutes(app, federation);
      registerInventoryRoutes(app, inventory);
    },
    /** Loads the revocation list and the signing keys (creating the first), before any request is served. */
    async init() {
      await revocation.load();
      await signingKeys.maintain();
      await signingKeys.current();
    },
    /** Keeps them current while serving: revocations other nodes made, key rotation and retirement, replay pruning. */
    start() {
      revocation.start();
      maintenance = setInterval(() => {
        void signingKeys.maintain().catch(() => undefined);
        void replay.prune().catch(() => undefined);
      }, 60_000);
      maintenance.unref();
    },
    stop() {
      revocation.stop();
      if (maintenance) clearInterval(maintenance);
    },
  };
}
export type CredentialsModule = ReturnType<typeof createCredentialsModule>;

