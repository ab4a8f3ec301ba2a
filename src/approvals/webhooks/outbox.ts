import type { Clock } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { KeyRing } from '../../platform/keys.js';
import type { Logger } from '../../platform/logger.js';
import type { Database, Trx, WriteBatch } from '../../platform/store/db.js';
import type { WebhooksTable, WebhookDeliveriesTable } from '../../platform/store/schema.js';
import { VERSION } from '../../version.js';
import type { Notification } from '../notifications.js';
import {
  afterFailure, DELIVERY_TIMEOUT_MS, describeFailure, errorText, isDelivered, LEASE_SECONDS, MAX_ATTEMPTS, signatureHeader, subscribes,
} from './delivery-rules.js';
import { deliveryBody, type WebhookEvent } from './payload.js';
import type { WebhookTransport } from './transport.js';
import { urlOrigin } from './webhook-url.js';
import * as repo from './webhooks.repo.js';

// The outbox: notifications become delivery rows in the transaction of the change they report, and rows become
// signed POSTs after it commits, retried until delivered or dead.
//
// Guards:
// - Never before the commit, never lost: `notify` only inserts rows inside the caller's transaction; a rolled-back
//   change leaves no row, a committed one always has its rows. Sending starts after the commit (afterCommit kick,
//   the interval, the module's sweep); at least once, not exactly once: a node that dies between a receiver's 2xx
//   and recording it sends again after the lease, so receivers drop repeats by the event id.
// - Never twice at once: a row is claimed inside db.write (one writer per node, an advisory lock across nodes on
//   PostgreSQL) by moving its next attempt to the end of a lease longer than any attempt can take; the outcome is
//   recorded only if the row is still held under that lease (a deleted webhook's rows, or a lease that ran out,
//   are left alone).
// - Bounded: at most BATCH rows per claim, PARALLEL sends at once, MAX_ROUNDS claims per call, DELIVERY_TIMEOUT_MS
//   per send; the interval and kicks never overlap on one node.
// - The secret is opened only to sign, per attempt; it is in no log line, no error text, no row but its sealed one.
//   Log lines name the webhook and the delivery, never the URL (an incoming-webhook URL is itself a credential).
// - A disabled webhook's pending rows wait (not attempted, attempts unchanged) until it is enabled again.

export const BATCH = 50;
export const PARALLEL = 4;
const MAX_ROUNDS = 10;
/** How often a started node looks for due deliveries (retries fall due without a commit to kick them). */
const POLL_MS = 2000;
/** Delivered and dead deliveries are kept this long in the delivery log. */
export const RETENTION_DAYS = 30;
const PRUNE_BATCH = 1000;

export interface OutboxDeps {
  db: Database;
  clock: Clock;
  newId: IdGenerator;
  keys: KeyRing;
  logger: Logger;
  transport: WebhookTransport;
}

/** The sealing context of a webhook's secret: a sealed value cannot be moved to another webhook's row. */
export const secretContext = (webhookId: string) => `webhook-secret:${webhookId}`;

/** A delivery claimed for one attempt, with what sending it needs. */
export interface Claimed {
  id: string;
  webhookId: string;
  webhookName: string;
  url: string;
  secretSealed: string;
  eventId: string;
  eventType: string;
  payload: string;
  attempts: number;
  leasedUntil: string;
}

function leaseEnd(now: Date): string {
  return new Date(now.getTime() + LEASE_SECONDS * 1000).toISOString();
}

export function createOutbox(deps: OutboxDeps) {
  const { db, clock, newId, keys, logger, transport } = deps;
  let started = false;
  let timer: NodeJS.Timeout | undefined;
  let pumping: Promise<void> | undefined;
  let again = false;
  const inFlight = new Set<Promise<void>>();

  function deliveryRow(hook: WebhooksTable, event: WebhookEvent, nextAttemptAt: string): WebhookDeliveriesTable {
    return {
      id: newId(), webhook_id: hook.id, event_id: event.id, event_type: event.type, payload: deliveryBody(hook.format, event),
      status: 'pending', attempts: 0, next_attempt_at: nextAttemptAt, last_status: null, last_error: null, created_at: event.time, delivered_at: null,
    };
  }

  /** Queues one delivery per enabled webhook subscribed to the notification's type, in the caller's transaction. */
  async function notify(trx: Trx, batch: WriteBatch, n: Notification): Promise<void> {
    const hooks = (await repo.enabledWebhooks(trx)).filter((h) => subscribes(JSON.parse(h.events) as string[], n.type));
    if (hooks.length === 0) return;
    const time = clock.now().toISOString();
    const event: WebhookEvent = { id: newId(), type: n.type, time, data: n.data, ...(n.recipients?.length ? { recipients: n.recipients } : {}) };
    await repo.insertDeliveries(trx, hooks.map((h) => deliveryRow(h, event, time)));
    batch.afterCommit(kick);
  }

  /** Queues an event to one webhook, already claimed by the caller (which attempts it after the commit). */
  async function queueClaimed(trx: Trx, hook: WebhooksTable, type: string, data: Record<string, unknown>): Promise<Claimed> {
    const now = clock.now();
    const event: WebhookEvent = { id: newId(), type, time: now.toISOString(), data };
    const leasedUntil = leaseEnd(now);
    const row = deliveryRow(hook, event, leasedUntil);
    await repo.insertDeliveries(trx, [row]);
    return {
      id: row.id, webhookId: hook.id, webhookName: hook.name, url: hook.url, secretSealed: hook.secret_sealed,
      eventId: event.id, eventType: type, payload: row.payload, attempts: 0, leasedUntil,
    };
  }

  async function send(c: Claimed): Promise<{ status: number | null; error: string | null }> {
    const hide: Array<[string, string]> = [[c.url, urlOrigin(c.url)]];
    try {
      const secret = keys.open(c.secretSealed, secretContext(c.webhookId));
      const headers: Record<string, string> = {
        'Content-Type': 'application/json',
        'User-Agent': `Custos-Webhooks/${VERSION}`,
        'Custos-Signature': signatureHeader(secret, clock.now().getTime() / 1000, c.payload),
        'Custos-Event-Id': c.eventId,
        'Custos-Event-Type': c.eventType,
        'Custos-Delivery-Id': c.id,
      };
      secret.fill(0);
      const abort = new AbortController();
      const timeout = setTimeout(() => abort.abort(), DELIVERY_TIMEOUT_MS);
      let status: number;
      try {
        status = await transport(c.url, c.payload, headers, abort.signal);
      } finally {
        clearTimeout(timeout);
      }
      if (isDelivered(status)) return { status, error: null };
      const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
      return { status, error: `the receiver answered ${status}${redirect}` };
    } catch (error) {
      return { status: null, error: errorText(describeFailure(error), hide) };
    }
  }

  /** One attempt at a claimed delivery, its outcome recorded while the claim still holds. */
  async function attempt(c: Claimed): Promise<void> {
    const run = (async () => {
      const { status, error } = await send(c);
      const now = clock.now();
      const attempts = c.attempts + 1;
      const change = error === null
        ? { status: 'delivered' as const, attempts, next_attempt_at: null, last_status: status, last_error: null, delivered_at: now.toISOString() }
        : { ...afterFailure(attempts, now), attempts, last_status: status, last_error: error, delivered_at: null };
      const held = await db.write((trx) => repo.finishAttempt(trx, c.id, c.leasedUntil, change));
      const where = { webhook: c.webhookName, delivery: c.id, event_type: c.eventType, attempts };
      if (!held) logger.info(where, 'webhook delivery outcome not recorded: the delivery or its webhook is gone');
      else if (change.status === 'dead') logger.warn({ ...where, last_status: status, last_error: error }, `webhook delivery given up after ${MAX_ATTEMPTS} attempts (dead)`);
      else if (error !== null) logger.info({ ...where, last_status: status, last_error: error }, 'webhook delivery failed; will retry');
    })();
    inFlight.add(run);
    try {
      await run;
    } finally {
      inFlight.delete(run);
    }
  }

  async function claim(now: Date): Promise<Claimed[]> {
    return db.write(async (trx) => {
      const rows = await repo.dueDeliveries(trx, now.toISOString(), BATCH);
      const leasedUntil = leaseEnd(now);
      await repo.lease(trx, rows.map((r) => r.id), leasedUntil);
      return rows.map((r): Claimed => ({
        id: r.id, webhookId: r.webhook_id, webhookName: r.webhook_name, url: r.url, secretSealed: r.secret_sealed,
        eventId: r.event_id, eventType: r.event_type, payload: r.payload, attempts: r.attempts, leasedUntil,
      }));
    });
  }

  /** Attempts every pending delivery due now, oldest first; how many were attempted. */
  async function deliverDue(): Promise<number> {
    let total = 0;
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const now = clock.now();
      if (!(await repo.anyDue(db.kysely, now.toISOString()))) break;
      const claimed = await claim(now);
      let next = 0;
      const worker = async () => {
        while (next < claimed.length) await attempt(claimed[next++]!);
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL, claimed.length) }, worker));
      total += claimed.length;
      if (claimed.length < BATCH) break;
    }
    return total;
  }

  /** Removes delivered and dead deliveries older than the retention; how many. */
  async function prune(): Promise<number> {
    const before = new Date(clock.now().getTime() - RETENTION_DAYS * 86_400_000).toISOString();
    if (!(await repo.anyPrunable(db.kysely, before))) return 0;
    return db.write((trx) => repo.pruneDeliveries(trx, before, PRUNE_BATCH));
  }

  /** Delivers what is due, on this node, one run at a time (a call during a run makes the run go round once more). */
  function pump(): void {
    if (!started) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = (async () => {
      do {
        again = false;
        await deliverDue();
      } while (again && started);
    })().catch((error: unknown) => logger.warn({ err: error }, 'webhook deliveries failed'))
      .finally(() => { pumping = undefined; });
  }

  /** After a commit that queued or revived deliveries: deliver soon (only on a started node; tests drive deliverDue). */
  function kick(): void {
    if (started) setImmediate(pump);
  }

  /**
   * The module's sweep: on a started node it only wakes the pump (slow receivers must not hold up request expiry and
   * review notices, which the same sweep runs); otherwise (tests, a node without timers) it delivers what is due.
   * Then it prunes the log.
   */
  async function sweep(): Promise<void> {
    if (started) kick();
    else await deliverDue();
    await prune();
  }

  return {
    notify,
    sweep,
    queueClaimed,
    attempt,
    deliverDue,
    prune,
    kick,
    start(): void {
      if (started) return;
      started = true;
      timer = setInterval(pump, POLL_MS);
      timer.unref();
      kick();
    },
    async stop(): Promise<void> {
      started = false;
      if (timer) clearInterval(timer);
      timer = undefined;
      await pumping;
      await Promise.all([...inFlight]);
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
