import { VERSION } from './version.js';
import {
  createAuditService, createAuditWriter, createCheckpointer, createRetention, loadOrCreateLogKey, parseSinks, registerAuditRoutes,
  type AuditWriter, type Checkpointer,
} from './audit/index.js';
import fs from 'node:fs';
import { ensureDataDir, initialiseStore, isInitialised, unseal, type BootstrapResult } from './bootstrap.js';
import { createCredentialsModule, createRemoteJwksCache, type AudienceResource } from './credentials/index.js';
import {
  authorize, createAdminRecovery, createDenialRecorder, createOperatorTokenService, createRoleLookup, registerOperatorTokenRoutes,
  type AdminRecoveryInput, type AdminRecoveryResult,
} from './operators/index.js';
import { createFindingService, registerFindingRoutes } from './findings/index.js';
import {
  createApprovalDirectory, createCredentialDirectory, createIdentityDirectory, createPeopleDirectory, createPrincipalService, createResourceService, createTeamResolver,
  createTeamService, registerPrincipalRoutes, registerResourceRoutes, registerTeamRoutes,
} from './identity/index.js';
import { createSigninModule } from './signin/index.js';
import { createAuthzModule, type AuthzModule } from './authz/index.js';
import { createGatewayModule, type GatewayModule } from './gateway/index.js';
import { createApprovalsModule, type ApprovalsModule, type WebhookTransport } from './approvals/index.js';
import { systemActor } from './platform/actor.js';
import { systemClock, type Clock } from './platform/clock.js';
import { ConfigError, type Config } from './platform/config.js';
import { openDatabase, sqlitePath, storeHealthChecks, type Database, type Trx } from './platform/store/db.js';
import { createStatsKeeper } from './platform/store/maintenance.js';
import { createHttpApp, type HttpApp } from './platform/http/app.js';
import { createScrapeCheck, registerMetricsRoute } from './platform/http/metrics-route.js';
import { createMetrics } from './platform/metrics.js';
import { withGatewayAudiences } from './gateway/audiences.js';
import { setCursorKey } from './platform/http/pagination.js';
import { registerHealthRoutes } from './platform/http/health.js';
import { createManagementPipeline } from './platform/http/pipeline/index.js';
import { newId as defaultNewId, type IdGenerator } from './platform/ids.js';
import { createLogger, type Logger } from './platform/logger.js';
import { migrateToLatest } from './platform/store/migrations/index.js';

// The composition root: builds every module from its dependencies and nothing else. Modules are reached
// only through their index.ts; what one module needs of another is passed in here as a typed dependency.

export interface ControlPlaneOptions {
  clock?: Clock;
  newId?: IdGenerator;
  logger?: Logger;
  /** Refuse to initialise a new store (host-side commands that act on an existing one). */
  requireInitialised?: boolean;
  /** How webhook deliveries are sent (default: undici over the network). */
  webhookTransport?: WebhookTransport;
}

export interface ControlPlane {
  config: Config;
  http: HttpApp;
  db: Database;
  logger: Logger;
  audit: AuditWriter;
  checkpointer: Checkpointer;
  /** Present only on the start that initialised the store: the bootstrap admin token, shown once. */
  bootstrap: BootstrapResult | undefined;
  /** The decision point and the registry view it decides on (the gateway calls it in-process). */
  authz: AuthzModule;
  /** Access requests, break-glass, reviews and webhooks (tests drive its sweeps with a manual clock). */
  approvals: ApprovalsModule;
  /** Upstreams, limits, and the model and MCP proxies on the gateway listener. */
  gateway: GatewayModule;
  /** The gateway's public base URL (the audience of tokens for it): --gateway-public-url, or its listener's address. */
  gatewayUrl(): string;
  /** The OAuth issuer: the public URL, or the listener's address. */
  issuer(): string;
  /** `custos admin recover`: a host operator holding the master key mints a fresh admin token (audited). */
  recoverAdmin(input: AdminRecoveryInput): Promise<AdminRecoveryResult>;
  listen(): Promise<string>;
  close(): Promise<void>;
}

const hostForUrl = (host: string) => (host.includes(':') ? `[${host}]` : host);

export async function createControlPlane(config: Config, options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const clock = options.clock ?? systemClock;
  const newId = options.newId ?? defaultNewId;
  const logger = options.logger ?? createLogger(config.logLevel);

  const notInitialised = () => new ConfigError(`no initialised Custos store at ${config.databaseUrl ? 'the --database-url given' : config.dataDir}; nothing to recover (custos init creates one)`);
  if (options.requireInitialised && !config.databaseUrl && !fs.existsSync(sqlitePath(config.dataDir))) throw notInitialised();
  ensureDataDir(config.dataDir);
  const db = openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  try {
    await migrateToLatest(db.kysely, db.dialect);
    if (options.requireInitialised && !(await isInitialised(db))) throw notInitialised();
    const { keys, fresh } = await unseal(db, config.dataDir, config.masterKey);

    const audit = createAuditWriter({ keys, clock, newId });
    const identity = createIdentityDirectory({ db });
    const tokens = createOperatorTokenService({ db, audit, clock, identity });
    // The OAuth issuer and the management API's audience: the public URL, else the listener's address (known
    // once listening when the port is 0).
    const site = { url: config.publicUrl ?? `http://${hostForUrl(config.host)}:${config.port}` };
    // The gateway's public URL, the audience of tokens for it: --gateway-public-url, else its listener's address.
    const gatewaySite = { url: config.gatewayPublicUrl ?? (config.gatewayPort ? `http://${hostForUrl(config.host)}:${config.gatewayPort}` : '') };
    const metrics = createMetrics();
    db.observeCommits((seconds, queued) => metrics.commit(seconds, queued));
    // Resource indicators that name the gateway (its base URL) or one of its MCP endpoints are audiences too: the
    // directory the token endpoint and API keys resolve them with asks the gateway (bound once it is built, below).
    const gatewayAudiences: { resolve: (indicator: string, trx?: Trx) => Promise<AudienceResource | undefined> } = { resolve: async () => undefined };
    const credentialDirectory = withGatewayAudiences(createCredentialDirectory({ db }), () => gatewaySite.url, (i, trx) => gatewayAudiences.resolve(i, trx));
    const credentials = createCredentialsModule({
      db, audit, clock, newId, keys, directory: credentialDirectory, principalWithTeams: (id) => identity.principalWithTeams(id),
      operatorTokens: tokens, issuer: () => site.url, signingAlg: config.signingAlg, keyRotationDays: config.keyRotationDays,
      requireDpopNonce: config.requireDpopNonce,
    });
    // Operator roles are held through tokens: identity asks for them through its RoleLookup port. Suspending or
    // decommissioning a principal revokes what it holds through the credentials module's revoker.
    const roles = createRoleLookup(tokens);
    const principals = createPrincipalService({ db, audit, clock, newId, roles, credentials: credentials.revocation });
    const adminRecovery = createAdminRecovery({ db, audit, identity, principals, tokens });
    const teams = createTeamService({ db, audit, clock, newId });
    const resources = createResourceService({ db, audit, clock, newId });
    // People signing in: the sign-in module plugs its grants, session holder and endpoints into the credentials module.
    const signin = createSigninModule({
      db, audit, clock, newId, keys, issuer: () => site.url, directory: credentialDirectory,
      people: { ...createPeopleDirectory({ principals, audit, clock }), ...createTeamResolver({ db }) },
      operatorTokens: tokens,
      credentials: {
        addGrant: (type, handler) => credentials.tokenEndpoint.addGrant(type, handler),
        addHolder: (holder) => credentials.addHolder(holder),
        addLeakRevoker: (kind, revoke) => credentials.addLeakRevoker(kind, revoke),
        extendOAuth: (ext) => credentials.extendOAuth(ext),
        onCredentialRevoked: (trx, batch, actor, id, reason) => credentials.revocation.onCredentialRevoked(trx, batch, actor, id, reason),
        revokeCredential: (actor, id, reason) => credentials.revocation.revokeCredential(actor, id, reason),
      },
      settings: {
        sessionHours: config.sessionHours, operatorTokenSignin: config.operatorTokenSignin,
        dynamicClientRegistration: config.dynamicClientRegistration, cimdAllowPrivate: config.cimdAllowPrivate,
      },
    });
    // A person's role can be held through a sign-in session (IdP groups): identity's role rules count it too.
    roles.addSource({ rolesOf: (id, trx) => signin.sessions.liveRolesOf(id, trx), adminHolderIds: (trx) => signin.sessions.liveAdminHolders(trx) });
    const findings = createFindingService({ db, audit, clock, newId, credentials: credentials.leakRevoker, autoRevoke: config.autoRevokeLeaked });

    const bootstrap = fresh ? await initialiseStore({ db, keys, audit, principals, tokens, dataDir: config.dataDir }) : undefined;
    const logKey = await loadOrCreateLogKey(db, keys);
    const checkpointer = createCheckpointer({
      db, key: logKey, clock, logger, intervalMs: config.checkpointIntervalMs, sinks: parseSinks(config.checkpointSinks),
    });
    const statsKeeper = createStatsKeeper({ db, logger });
    const auditService = createAuditService({ db, key: logKey, audit });
    const retention = createRetention({ db, key: logKey, audit, latestCheckpointSize: auditService.latestSize });

    // The decision point: every decision reads the registry (through its snapshot) and is recorded in the audit log.
    const authz = createAuthzModule({
      db, audit, clock, newId, inspectToken: credentials.inspectToken, issuer: () => site.url,
      settings: { networkZones: config.networkZones, timeZone: config.authzTimeZone },
      remoteKeys: createRemoteJwksCache({ clock }),
      recentDecisions: async (q) => (await auditService.list({ type: 'authz.decision', order: 'desc', limit: q.limit, since: q.since } as Parameters<typeof auditService.list>[0])).items,
    });

    // Approvals make and end grants through the decision point's seam and move principals through identity's
    // service, each inside the approval's own transaction.
    const approvals = createApprovalsModule({
      db, audit, clock, newId, keys, logger, sweepSeconds: config.approvalsSweepSeconds, webhookTransport: options.webhookTransport,
      directory: createApprovalDirectory({ db, principals }),
      grants: {
        createGrant: (trx, batch, actor, input) => authz.grants.createGrant(trx, batch, actor, { ...input, actions: input.actions as Parameters<typeof authz.grants.createGrant>[3]['actions'] }),
        revokeGrant: (trx, batch, actor, id, reason) => authz.grants.revokeGrant(trx, batch, actor, id, reason),
        activeGrantsOf: (trx, principalId) => authz.grants.activeGrantsOf(trx, principalId),
      },
    });
    authz.grants.addRevokerRule((trx, actor, grant) => approvals.mayRevokeGrant(trx, actor, grant));
    authz.grants.onRevoked((trx, batch, actor, grant, reason) => approvals.grantRevoked(trx, batch, actor, grant, reason));
    authz.grants.addCreationRule((trx, _actor, grant) => approvals.assertDirectGrantAllowed(trx, grant.resource));

    // The gateway verifies with the credentials module's verifier for its own audience and decides with the decision
    // point in-process.
    const mayScrape = createScrapeCheck({ scrapeToken: config.metricsToken, verify: credentials.verify, publicUrl: () => site.url, authorize });
    const gateway = createGatewayModule({
      db, audit, clock, newId, keys, logger, metrics, trustProxy: config.trustedProxies, mayScrape,
      gatewayUrl: () => gatewaySite.url, issuer: () => site.url, verifierFor: credentials.verifierFor, pdp: authz.pdp,
      hashContent: config.gatewayHashContent, resources,
    });
    gatewayAudiences.resolve = (indicator, trx) => gateway.audienceFor(indicator, trx);

    setCursorKey(keys.deriveKey('pagination-cursor'));
    const http = await createHttpApp({
      logger,
      version: VERSION,
      trustProxy: config.trustedProxies,
      pipeline: createManagementPipeline({
        verify: credentials.verify,
        authorize,
        recordDenial: createDenialRecorder({ db, audit }),
        publicUrl: () => site.url,
      }),
    });
    registerMetricsRoute(http, metrics, mayScrape);
    registerHealthRoutes(http, {
      keys: () => ({ ok: true }),
      ...storeHealthChecks(db),
      audit_writes: audit.health,
      audit_checkpoints: checkpointer.health,
      // A node that cannot follow the revocation list could accept a token revoked elsewhere: not ready.
      credential_revocations: () => credentials.revocation.health(),
      // Decisions read the snapshot: one that cannot be brought up to date makes the node not ready.
      authz_snapshot: () => authz.health(),
    });
    registerAuditRoutes(http, auditService, retention);
    registerPrincipalRoutes(http, principals);
    registerTeamRoutes(http, teams);
    registerResourceRoutes(http, resources);
    registerOperatorTokenRoutes(http, tokens);
    registerFindingRoutes(http, findings);
    credentials.registerRoutes(http);
    signin.registerRoutes(http);
    authz.registerRoutes(http);
    approvals.registerRoutes(http);
    gateway.registerRoutes(http);
    await credentials.init();
    await authz.init();

    return {
      config,
      http,
      db,
      logger,
      audit,
      checkpointer,
      bootstrap,
      authz,
      approvals,
      gateway,
      issuer: () => site.url,
      gatewayUrl: () => gatewaySite.url,
      recoverAdmin: (input) => adminRecovery.recover(systemActor('cli_local'), input),
      async listen() {
        // Sign the first checkpoint before serving, then keep signing while events arrive.
        await checkpointer.checkpointNow();
        checkpointer.start();
        await statsKeeper.start();
        const url = await http.listen({ host: config.host, port: config.port });
        if (!config.publicUrl) site.url = url;
        if (config.gatewayPort !== null) {
          const gatewayUrl = await gateway.listen(config.host, config.gatewayPort);
          if (!config.gatewayPublicUrl) gatewaySite.url = gatewayUrl;
        }
        credentials.start();
        signin.start();
        approvals.start();
        return url;
      },
      async close() {
        statsKeeper.stop();
        credentials.stop();
        signin.stop();
        await approvals.stop();
        await http.close();
        await gateway.close();
        // A last checkpoint on shutdown covers every acknowledged event.
        await checkpointer.stop();
        await db.close();
      },
    };
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}
