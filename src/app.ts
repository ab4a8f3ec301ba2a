import { VERSION } from './version.js';
import { z } from 'zod';
import { registerAuditRoutes } from './audit/audit.routes.js';
import { createAuditService } from './audit/audit.service.js';
import { createCheckpointer, parseSinks, type Checkpointer } from './audit/checkpointer.js';
import { loadOrCreateLogKey } from './audit/log-key.js';
import { createRetention } from './audit/retention.js';
import { createAuditWriter, type AuditWriter } from './audit/writer.js';
import { ensureDataDir, initialiseStore, unseal, type BootstrapResult } from './bootstrap.js';
import { createOperatorTokenService, registerOperatorTokenRoutes } from './operators/operator-tokens.js';
import { authorize } from './operators/roles.js';
import { createFindingService, registerFindingRoutes } from './findings/findings.js';
import { createPrincipalService } from './identity/principals.service.js';
import { registerPrincipalRoutes } from './identity/principals.routes.js';
import { createResourceService, registerResourceRoutes } from './identity/resources.js';
import { createTeamService, registerTeamRoutes } from './identity/teams.js';
import { systemClock, type Clock } from './platform/clock.js';
import type { Config } from './platform/config.js';
import { openDatabase, type Database } from './platform/store/db.js';
import { createStatsKeeper } from './platform/store/maintenance.js';
import { createHttpApp, type HttpApp } from './platform/http/app.js';
import { newId as defaultNewId, type IdGenerator } from './platform/ids.js';
import { createLogger, type Logger } from './platform/logger.js';
import { migrateToLatest } from './platform/store/migrations/index.js';

// The composition root: builds every module from its dependencies and nothing else.


export interface ControlPlaneOptions {
  clock?: Clock;
  newId?: IdGenerator;
  logger?: Logger;
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
  listen(): Promise<string>;
  close(): Promise<void>;
}

export async function createControlPlane(config: Config, options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const clock = options.clock ?? systemClock;
  const newId = options.newId ?? defaultNewId;
  const logger = options.logger ?? createLogger(config.logLevel);

  ensureDataDir(config.dataDir);
  const db = openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  try {
    await migrateToLatest(db.kysely, db.dialect);
    const { keys, fresh } = await unseal(db, config.dataDir, config.masterKey);

    const audit = createAuditWriter({ keys, clock, newId });
    const tokens = createOperatorTokenService({ db, audit, clock });
    const principals = createPrincipalService({ db, audit, clock, newId });
    const teams = createTeamService({ db, audit, clock, newId });
    const resources = createResourceService({ db, audit, clock, newId });
    const findings = createFindingService({ db, audit, clock, newId, credentials: tokens, autoRevoke: config.autoRevokeLeaked });

    const bootstrap = fresh ? await initialiseStore({ db, keys, audit, tokens, clock, newId, dataDir: config.dataDir }) : undefined;
    const logKey = await loadOrCreateLogKey(db, keys);
    const checkpointer = createCheckpointer({
      db, key: logKey, clock, logger, intervalMs: config.checkpointIntervalMs, sinks: parseSinks(config.checkpointSinks),
    });
    const statsKeeper = createStatsKeeper({ db, logger });
    const auditService = createAuditService({ db, key: logKey, audit });
    const retention = createRetention({ db, key: logKey, audit, latestCheckpointSize: auditService.latestSize });

    const http = await createHttpApp({
      logger,
      version: VERSION,
      authenticate: (token, provenance) => tokens.authenticate(token, provenance),
      authorize,
      // A refused management call is a deny decision: recorded (best effort; the caller is refused either way).
      onDenied: (actor, permission, route) => db.write((trx, batch) => audit.record(trx, batch, {
        type: 'authz.denied', action: permission, actor, decision: 'deny', outcome: 'failure',
        reasons: [`role '${actor.role}' lacks '${permission}'`], target: { type: 'route', id: null, name: route },
      })).then(() => undefined, () => undefined),
    });
    registerHealthRoutes(http, db, {
      audit_writes: audit.health,
      audit_checkpoints: checkpointer.health,
    });
    registerAuditRoutes(http, auditService, retention);
    registerPrincipalRoutes(http, principals);
    registerTeamRoutes(http, teams);
    registerResourceRoutes(http, resources);
    registerOperatorTokenRoutes(http, tokens);
    registerFindingRoutes(http, findings);

    return {
      config,
      http,
      db,
      logger,
      audit,
      checkpointer,
      bootstrap,
      async listen() {
        // Sign the first checkpoint before serving, then keep signing while events arrive.
        await checkpointer.checkpointNow();
        checkpointer.start();
        await statsKeeper.start();
        return http.listen({ host: config.host, port: config.port });
      },
      async close() {
        statsKeeper.stop();
        await http.close();
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

const readySchema = z.object({ status: z.enum(['ready', 'not_ready']), checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })) });

type HealthCheck = () => { ok: boolean; detail?: string };

function registerHealthRoutes(app: HttpApp, db: Database, extra: Record<string, HealthCheck>): void {
  // Probes poll every few seconds: keep them out of the request log.
  app.get('/healthz', { logLevel: 'warn', config: { public: true }, schema: { tags: ['health'], summary: 'Liveness', security: [], response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }));
  app.get('/readyz', { logLevel: 'warn', config: { public: true }, schema: { tags: ['health'], summary: 'Readiness: store reachable and writable, keys unsealed', security: [], response: { 200: readySchema, 503: readySchema } } },
    async (_req, reply) => {
      const checks: Record<string, { ok: boolean; detail?: string }> = { keys: { ok: true } };
      try {
        await db.ping();
        checks.store = { ok: true };
      } catch {
        checks.store = { ok: false, detail: 'store unreachable' };
      }
      const writeError = db.lastWriteError();
      checks.store_writes = writeError ? { ok: false, detail: 'last commit failed' } : { ok: true };
      for (const [name, check] of Object.entries(extra)) {
        const r = check();
        checks[name] = r.detail ? { ok: r.ok, detail: r.detail } : { ok: r.ok };
      }
      const ok = Object.values(checks).every((c) => c.ok);
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not_ready', checks });
    });
}
