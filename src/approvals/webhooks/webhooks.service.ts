import crypto from 'node:crypto';
import type { AuditWriter } from '../../audit/index.js';
import type { Actor } from '../../platform/actor.js';
import type { Clock } from '../../platform/clock.js';
import { AppError, errors } from '../../platform/http/errors.js';
import { decodeCursor, pageOf } from '../../platform/http/pagination.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { KeyRing } from '../../platform/keys.js';
import type { Database, Trx, WriteBatch } from '../../platform/store/db.js';
import { isUniqueViolation } from '../../platform/store/errors.js';
import type { WebhookDeliveriesTable, WebhooksTable } from '../../platform/store/schema.js';
import { NOTIFICATION_TYPES } from '../notifications.js';
import { normaliseEvents } from './delivery-rules.js';
import { secretContext, type Outbox } from './outbox.js';
import { TEST_EVENT_TYPE } from './payload.js';
import { urlOrigin, webhookUrlProblem } from './webhook-url.js';
import * as repo from './webhooks.repo.js';
import {
  MAX_WEBHOOKS,
  type CreateWebhookInput, type DeliveryView, type ListDeliveriesQuery, type ListWebhooksQuery, type UpdateWebhookInput, type WebhookView,
} from './webhooks.schemas.js';

// Webhook subscriptions and their delivery log: the use cases behind /v1/webhooks. Admins change them
// (`webhook.write`), admins and security read them (`webhook.read`); the role table decides, nothing here widens it.
//
// Rules:
// - URL: webhookUrlProblem (https; plain http only to loopback) → 422 invalid_webhook_url. Names are DNS labels,
//   unique (409 name_taken). At most MAX_WEBHOOKS webhooks (every notification is matched against each).
// - The secret: given (32-256 printable characters) or 32 random bytes (base64url); sealed with the master key under
//   a context naming the webhook, so the sealed value cannot be moved to another row; opened only to sign (outbox).
//   It is in the response that creates or rotates it and nowhere else: no other response, no audit event, no log.
// - The audit log gets every change (`webhook.created`, `.updated`, `.deleted`, `.tested`, `.delivery_retried`) in
//   the change's transaction, naming the URL only by origin and a keyed hash (an incoming-webhook URL such as
//   Slack's is itself a credential, and auditors read the audit log but not webhooks).
// - Deleting a webhook deletes its delivery log with it (the rows reference it, and without the webhook they could
//   never be sent); the audit event counts what was pending and dead.
// - Test: one `webhook.test` event to this webhook only, attempted at once (whatever `enabled` says); the answer
//   is the delivery as it stands after that attempt. Retry: a dead delivery back to pending with a fresh count of
//   attempts, due now; anything else is 409 invalid_transition.

export interface WebhookServiceDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  keys: KeyRing;
  outbox: Outbox;
}

const invalidUrl = (problem: string) => new AppError('invalid_webhook_url', `url ${problem}`);

export function generateSecret(): string {
  return crypto.randomBytes(32).toString('base64url');
}

function deliveryView(row: WebhookDeliveriesTable): DeliveryView {
  return {
    id: row.id, webhook_id: row.webhook_id, event_id: row.event_id, event_type: row.event_type, status: row.status, attempts: row.attempts,
    next_attempt_at: row.status === 'pending' ? row.next_attempt_at : null, last_status: row.last_status, last_error: row.last_error,
    created_at: row.created_at, delivered_at: row.delivered_at, payload: JSON.parse(row.payload) as Record<string, unknown>,
  };
}

function by(actor: Actor): string | null {
  return actor.principal?.id ?? actor.label;
}

export function createWebhookService(deps: WebhookServiceDeps) {
  const { db, audit, clock, newId, keys, outbox } = deps;

  async function views(q: Trx | Database['kysely'], rows: WebhooksTable[]): Promise<WebhookView[]> {
    const counts = await repo.deliveryCounts(q, rows.map((r) => r.id));
    return rows.map((row) => ({
      id: row.id, name: row.name, url: row.url, events: JSON.parse(row.events) as string[], format: row.format, enabled: row.enabled === 1,
      deliveries: counts.get(row.id) ?? { pending: 0, dead: 0 },
      created_at: row.created_at, created_by: row.created_by, updated_at: row.updated_at,
    }));
  }

  async function found(q: Trx | Database['kysely'], ref: string): Promise<WebhooksTable> {
    const row = await repo.findWebhook(q, ref);
    if (!row) throw errors.notFound('webhook', ref);
    return row;
  }

  async function record(trx: Trx, batch: WriteBatch, actor: Actor, type: string, row: WebhooksTable, details: Record<string, unknown>) {
    await audit.record(trx, batch, {
      type: `webhook.${type}`, action: `webhook.${type}`, actor, target: { type: 'webhook', id: row.id, name: row.name }, outcome: 'success', details,
    });
  }

  const urlFacts = (url: string) => ({ url_origin: urlOrigin(url), url_hmac: audit.hmac(url) });

  return {
    async create(actor: Actor, input: CreateWebhookInput): Promise<WebhookView & { secret: string }> {
      const problem = webhookUrlProblem(input.url);
      if (problem) throw invalidUrl(problem);
      const secret = input.secret ?? generateSecret();
      const events = normaliseEvents(input.events ?? [], NOTIFICATION_TYPES);
      return db.write(async (trx, batch) => {
        if (await repo.countWebhooks(trx) >= MAX_WEBHOOKS) throw errors.validation(`at most ${MAX_WEBHOOKS} webhooks; remove one first`);
        const now = clock.now().toISOString();
        const id = newId();
        const row: WebhooksTable = {
          id, name: input.name, url: input.url, secret_sealed: keys.seal(Buffer.from(secret, 'utf8'), secretContext(id)),
          events: JSON.stringify(events), format: input.format ?? 'json', enabled: input.enabled === false ? 0 : 1,
          created_at: now, created_by: actor.principal?.id ?? null, updated_at: now,
        };
        try {
          await repo.insertWebhook(trx, row);
        } catch (error) {
          if (isUniqueViolation(error)) throw new AppError('name_taken', `a webhook named '${input.name}' already exists`);
          throw error;
        }
        await record(trx, batch, actor, 'created', row, {
          ...urlFacts(row.url), events, format: row.format, enabled: row.enabled === 1, secret: input.secret === undefined ? 'generated' : 'given', reason: input.reason ?? null,
        });
        const [view] = await views(trx, [row]);
        return { ...view!, secret };
      });
    },

    async list(query: ListWebhooksQuery) {
      const after = decodeCursor(query.cursor);
      const rows = await repo.listWebhooks(db.kysely, { afterId: after === undefined ? undefined : String(after), limit: query.limit + 1 });
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: await views(db.kysely, page.items), next_cursor: page.next_cursor };
    },

    async get(ref: string): Promise<WebhookView> {
      return (await views(db.kysely, [await found(db.kysely, ref)]))[0]!;
    },

    async update(actor: Actor, ref: string, input: UpdateWebhookInput): Promise<WebhookView & { secret?: string }> {
      const changes = (['url', 'events', 'format', 'enabled', 'secret', 'rotate_secret'] as const).filter((k) => input[k] !== undefined);
      if (changes.length === 0) throw errors.validation('nothing to change: give url, events, format, enabled, secret or rotate_secret');
      if (input.secret !== undefined && input.rotate_secret) throw errors.validation('give secret or rotate_secret, not both');
      if (input.url !== undefined) {
        const problem = webhookUrlProblem(input.url);
        if (problem) throw invalidUrl(problem);
      }
      const secret = input.secret ?? (input.rotate_secret ? generateSecret() : undefined);
      return db.write(async (trx, batch) => {
        const row = await found(trx, ref);
        const events = input.events === undefined ? undefined : normaliseEvents(input.events, NOTIFICATION_TYPES);
        const change: Partial<WebhooksTable> = {
          ...(input.url !== undefined ? { url: input.url } : {}),
          ...(events !== undefined ? { events: JSON.stringify(events) } : {}),
          ...(input.format !== undefined ? { format: input.format } : {}),
          ...(input.enabled !== undefined ? { enabled: input.enabled ? 1 : 0 } : {}),
          ...(secret !== undefined ? { secret_sealed: keys.seal(Buffer.from(secret, 'utf8'), secretContext(row.id)) } : {}),
          updated_at: clock.now().toISOString(),
        };
        await repo.updateWebhook(trx, row.id, change);
        const after = { ...row, ...change };
        await record(trx, batch, actor, 'updated', after, {
          changed: changes.map((k) => (k === 'rotate_secret' ? 'secret' : k)).filter((k, i, all) => all.indexOf(k) === i),
          ...(input.url !== undefined ? urlFacts(input.url) : {}),
          ...(events !== undefined ? { events } : {}),
          ...(input.format !== undefined ? { format: input.format } : {}),
          ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
          ...(secret !== undefined ? { secret: input.secret === undefined ? 'generated' : 'given' } : {}),
          reason: input.reason ?? null,
        });
        // Enabling releases what waited: deliver it soon.
        if (input.enabled === true) batch.afterCommit(outbox.kick);
        const [view] = await views(trx, [after]);
        return secret === undefined ? view! : { ...view!, secret };
      });
    },

    async remove(actor: Actor, ref: string, reason: string | undefined): Promise<void> {
      await db.write(async (trx, batch) => {
        const row = await found(trx, ref);
        const counts = (await repo.deliveryCounts(trx, [row.id])).get(row.id) ?? { pending: 0, dead: 0 };
        await repo.deleteWebhook(trx, row.id);
        await record(trx, batch, actor, 'deleted', row, { url_origin: urlOrigin(row.url), deliveries_removed: counts, reason: reason ?? null });
      });
    },

    async test(actor: Actor, ref: string): Promise<DeliveryView> {
      const claimed = await db.write(async (trx, batch) => {
        const row = await found(trx, ref);
        const c = await outbox.queueClaimed(trx, row, TEST_EVENT_TYPE, {
          webhook: { id: row.id, name: row.name },
          requested_by: actor.principal ? { id: actor.principal.id, name: actor.principal.name } : { id: null, name: by(actor) },
          message: 'A test delivery from Custos: if its signature verifies with your secret, the webhook is set up.',
        });
        await record(trx, batch, actor, 'tested', row, { delivery_id: c.id, event_id: c.eventId, url_origin: urlOrigin(row.url) });
        return c;
      });
      await outbox.attempt(claimed);
      const row = await repo.findDelivery(db.kysely, claimed.webhookId, claimed.id);
      if (!row) throw errors.notFound('delivery', claimed.id);
      return deliveryView(row);
    },

    async deliveries(ref: string, query: ListDeliveriesQuery) {
      const hook = await found(db.kysely, ref);
      const before = decodeCursor(query.cursor);
      const rows = await repo.listDeliveries(db.kysely, { webhookId: hook.id, beforeId: before === undefined ? undefined : String(before), status: query.status, limit: query.limit + 1 });
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: page.items.map(deliveryView), next_cursor: page.next_cursor };
    },

    async retry(actor: Actor, ref: string, id: string, reason?: string): Promise<DeliveryView> {
      return db.write(async (trx, batch) => {
        const hook = await found(trx, ref);
        const row = await repo.findDelivery(trx, hook.id, id);
        if (!row) throw errors.notFound('delivery', id);
        if (!(await repo.revive(trx, row.id, clock.now().toISOString()))) {
          throw new AppError('invalid_transition', `delivery ${id} is ${row.status}; only a dead delivery is retried`, { status: row.status, allowed: [] });
        }
        await record(trx, batch, actor, 'delivery_retried', hook, { delivery_id: row.id, event_id: row.event_id, event_type: row.event_type, attempts_before: row.attempts, reason: reason ?? null });
        batch.afterCommit(outbox.kick);
        return deliveryView((await repo.findDelivery(trx, hook.id, id))!);
      });
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
