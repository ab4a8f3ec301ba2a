// The webhooks part of the approvals module: subscriptions (/v1/webhooks), the outbox every other part notifies
// through (outbox.ts) and the delivery log. The module builds it first and hands its `notify` to the other parts;
// its `sweep` delivers what fell due (in the background on a started node) and prunes the old log, and a started node
// also delivers right after each commit that queued something and polls for retries. Layout and rules: docs/webhooks.md.
import type { Logger } from '../../platform/logger.js';
import type { Notifier } from '../notifications.js';
import type { ApprovalsPart, ApprovalsPartContext } from '../parts.js';
import { createOutbox } from './outbox.js';
import { fetchTransport, type WebhookTransport } from './transport.js';
import { registerWebhookRoutes } from './webhooks.routes.js';
import { createWebhookService } from './webhooks.service.js';

export type { WebhookTransport } from './transport.js';

export function createWebhooksPart(ctx: Omit<ApprovalsPartContext, 'notify'> & { logger: Logger; transport?: WebhookTransport }): ApprovalsPart & Notifier & { deliverDue(): Promise<number> } {
  const { db, audit, clock, newId, keys, logger } = ctx;
  const outbox = createOutbox({ db, clock, newId, keys, logger, transport: ctx.transport ?? fetchTransport });
  const service = createWebhookService({ db, audit, clock, newId, keys, outbox });
  return {
    notify: (trx, batch, n) => outbox.notify(trx, batch, n),
    deliverDue: () => outbox.deliverDue(),
    registerRoutes: (app) => registerWebhookRoutes(app, service),
    sweep: () => outbox.sweep(),
    start: () => outbox.start(),
    stop: () => outbox.stop(),
  };
}
