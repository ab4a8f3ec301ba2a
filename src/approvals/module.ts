// The approvals module, composed from its parts: webhooks (the notifier the others report through), the approval
// settings, access requests with separation of duties (requests/), break-glass (break-glass/) and access reviews
// (reviews/). The composition root calls createApprovalsModule once with the registry and grants seams.
import type { AuditWriter } from '../audit/index.js';
import { systemActor, type Actor } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import type { HttpApp } from '../platform/http/app.js';
import type { IdGenerator } from '../platform/ids.js';
import type { KeyRing } from '../platform/keys.js';
import type { Logger } from '../platform/logger.js';
import type { Database } from '../platform/store/db.js';
import { createBreakGlassPart } from './break-glass/index.js';
import type { ApprovalsPart, ApprovalsPartContext } from './parts.js';
import type { ApprovalDirectory, GrantsSeam } from './ports.js';
import { createRequestsPart } from './requests/index.js';
import { createReviewsPart } from './reviews/index.js';
import { createSettingsPart } from './settings-part.js';
import { createWebhooksPart, type WebhookTransport } from './webhooks/index.js';

export interface ApprovalsModuleDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  keys: KeyRing;
  logger: Logger;
  directory: ApprovalDirectory;
  grants: GrantsSeam;
  /** Seconds between sweeps (expiry, review notices and lapses, webhook retries); 0 turns the timer off (tests). */
  sweepSeconds: number;
  /** How webhook deliveries reach their receivers (tests may pass their own; the default uses undici). */
  webhookTransport?: WebhookTransport;
}

export function createApprovalsModule(deps: ApprovalsModuleDeps) {
  const { db, audit, clock, newId, keys } = deps;
  const settings = createSettingsPart({ db, audit, clock });
  const workflowActor = (cause: string): Actor => ({ ...systemActor('background'), label: `approvals:${cause}` });
  const base = { db, audit, clock, newId, keys, directory: deps.directory, grants: deps.grants, settings: settings.current, workflowActor };
  const webhooks = createWebhooksPart({ ...base, logger: deps.logger, transport: deps.webhookTransport });
  const ctx: ApprovalsPartContext = { ...base, notify: (trx, batch, n) => webhooks.notify(trx, batch, n) };
  const requests = createRequestsPart(ctx);
  const parts: ApprovalsPart[] = [settings, webhooks, requests, createBreakGlassPart(ctx), createReviewsPart(ctx)];
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> | undefined;

  async function sweep(): Promise<void> {
    for (const part of parts) await part.sweep?.();
  }

  return {
    /** Whether this actor may revoke this grant beyond the admin/security roles: an approver of its request. */
    mayRevokeGrant: requests.mayRevokeGrant,
    /** A grant revoked anywhere (API, review, incident): reported to the webhooks in the same transaction. */
    grantRevoked: requests.grantRevoked,
    /** Direct admin grants stop at medium risk (the resource and everything below it); above, an approval is needed. */
    assertDirectGrantAllowed: requests.assertDirectGrantAllowed,
    registerRoutes(app: HttpApp) {
      for (const part of parts) part.registerRoutes(app);
    },
    /** One pass of the time-driven work; tests call it with a manual clock. */
    sweep,
    /** Delivers webhook deliveries that are due now (tests call it; the timer does in production). */
    deliverDue: () => webhooks.deliverDue(),
    start() {
      for (const part of parts) part.start?.();
      if (deps.sweepSeconds > 0) {
        timer = setInterval(() => {
          if (sweeping) return;
          sweeping = sweep().catch((error: unknown) => deps.logger.warn({ err: error }, 'approvals sweep failed')).finally(() => { sweeping = undefined; });
        }, deps.sweepSeconds * 1000);
        timer.unref();
      }
    },
    async stop() {
      if (timer) clearInterval(timer);
      await sweeping;
      for (const part of parts) await part.stop?.();
    },
  };
}

export type ApprovalsModule = ReturnType<typeof createApprovalsModule>;
