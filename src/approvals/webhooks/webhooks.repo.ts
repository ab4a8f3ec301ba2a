import type { Kysely } from 'kysely';
import { isUuid } from '../../platform/ids.js';
import type { DB, WebhookDeliveriesTable, WebhooksTable } from '../../platform/store/schema.js';

// Thin queries over webhooks and webhook_deliveries (the outbox); the only SQL of the webhooks part. No rules live
// here, except that every statement that moves a delivery names the state it expects (a claimed row is finished
// only by the holder of its lease), so two nodes never both act on one row.

type Q = Kysely<DB>;

/** A delivery with what sending it needs of its webhook. */
export type DueDelivery = WebhookDeliveriesTable & { url: string; secret_sealed: string; webhook_name: string };

/** By id or name (a UUID is an id). */
export async function findWebhook(db: Q, ref: string): Promise<WebhooksTable | undefined> {
  return db.selectFrom('webhooks').selectAll().where(isUuid(ref) ? 'id' : 'name', '=', ref).executeTakeFirst();
}

export async function countWebhooks(db: Q): Promise<number> {
  const row = await db.selectFrom('webhooks').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function listWebhooks(db: Q, f: { afterId?: string; limit: number }): Promise<WebhooksTable[]> {
  let q = db.selectFrom('webhooks').selectAll();
  if (f.afterId !== undefined) q = q.where('id', '>', f.afterId);
  return q.orderBy('id').limit(f.limit).execute();
}

export async function enabledWebhooks(db: Q): Promise<WebhooksTable[]> {
  return db.selectFrom('webhooks').selectAll().where('enabled', '=', 1).orderBy('id').execute();
}

export async function insertWebhook(db: Q, row: WebhooksTable): Promise<void> {
  await db.insertInto('webhooks').values(row).execute();
}

export async function updateWebhook(db: Q, id: string, change: Partial<Omit<WebhooksTable, 'id' | 'name' | 'created_at' | 'created_by'>>): Promise<void> {
  await db.updateTable('webhooks').set(change).where('id', '=', id).execute();
}

/** Removes a webhook and its delivery log. */
export async function deleteWebhook(db: Q, id: string): Promise<void> {
  await db.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
  await db.deleteFrom('webhooks').where('id', '=', id).execute();
}

/** Pending and dead deliveries per webhook, for the given webhooks. */
export async function deliveryCounts(db: Q, webhookIds: string[]): Promise<Map<string, { pending: number; dead: number }>> {
  const out = new Map<string, { pending: number; dead: number }>();
  if (webhookIds.length === 0) return out;
  const rows = await db.selectFrom('webhook_deliveries')
    .select(['webhook_id', 'status', (eb) => eb.fn.countAll().as('n')])
    .where('webhook_id', 'in', webhookIds).where('status', 'in', ['pending', 'dead'])
    .groupBy(['webhook_id', 'status']).execute();
  for (const r of rows) {
    const c = out.get(r.webhook_id) ?? { pending: 0, dead: 0 };
    c[r.status as 'pending' | 'dead'] = Number(r.n);
    out.set(r.webhook_id, c);
  }
  return out;
}

export async function insertDeliveries(db: Q, rows: WebhookDeliveriesTable[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('webhook_deliveries').values(rows).execute();
}

export async function findDelivery(db: Q, webhookId: string, id: string): Promise<WebhookDeliveriesTable | undefined> {
  return db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).where('webhook_id', '=', webhookId).executeTakeFirst();
}

/** Newest first (ids are time-ordered). */
export async function listDeliveries(db: Q, f: { webhookId: string; beforeId?: string; status?: WebhookDeliveriesTable['status']; limit: number }): Promise<WebhookDeliveriesTable[]> {
  let q = db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', f.webhookId);
  if (f.beforeId !== undefined) q = q.where('id', '<', f.beforeId);
  if (f.status !== undefined) q = q.where('status', '=', f.status);
  return q.orderBy('id', 'desc').limit(f.limit).execute();
}

function dueQuery(db: Q, now: string) {
  return db.selectFrom('webhook_deliveries as d')
    .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
    .where('d.status', '=', 'pending').where('d.next_attempt_at', '<=', now).where('w.enabled', '=', 1);
}

/** Whether anything is due (a cheap read before taking the write lock to claim). */
export async function anyDue(db: Q, now: string): Promise<boolean> {
  return (await dueQuery(db, now).select('d.id').limit(1).executeTakeFirst()) !== undefined;
}

/** Pending deliveries of enabled webhooks due at `now`, oldest first. */
export async function dueDeliveries(db: Q, now: string, limit: number): Promise<DueDelivery[]> {
  return dueQuery(db, now).selectAll('d').select(['w.url', 'w.secret_sealed', 'w.name as webhook_name'])
    .orderBy('d.next_attempt_at').orderBy('d.id').limit(limit).execute();
}

/** Claims rows for one attempt: their next attempt moves to the lease's end, so nobody else picks them meanwhile. */
export async function lease(db: Q, ids: string[], until: string): Promise<void> {
  if (ids.length > 0) await db.updateTable('webhook_deliveries').set({ next_attempt_at: until }).where('id', 'in', ids).where('status', '=', 'pending').execute();
}

/** Records an attempt's outcome on a delivery still held under `leasedUntil`; whether it was. */
export async function finishAttempt(db: Q, id: string, leasedUntil: string, change: Pick<WebhookDeliveriesTable, 'status' | 'attempts' | 'next_attempt_at' | 'last_status' | 'last_error' | 'delivered_at'>): Promise<boolean> {
  const r = await db.updateTable('webhook_deliveries').set(change)
    .where('id', '=', id).where('status', '=', 'pending').where('next_attempt_at', '=', leasedUntil).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** A dead delivery back to pending, due at `now`, with a fresh count of attempts; whether it was dead. */
export async function revive(db: Q, id: string, now: string): Promise<boolean> {
  const r = await db.updateTable('webhook_deliveries').set({ status: 'pending', attempts: 0, next_attempt_at: now })
    .where('id', '=', id).where('status', '=', 'dead').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Deletes up to `limit` delivered or dead deliveries created before `before`; how many. */
export async function pruneDeliveries(db: Q, before: string, limit: number): Promise<number> {
  const old = await db.selectFrom('webhook_deliveries').select('id')
    .where('status', 'in', ['delivered', 'dead']).where('created_at', '<', before).limit(limit).execute();
  if (old.length === 0) return 0;
  await db.deleteFrom('webhook_deliveries').where('id', 'in', old.map((r) => r.id)).execute();
  return old.length;
}

/** Whether any delivery is old enough to prune (a cheap read before taking the write lock). */
export async function anyPrunable(db: Q, before: string): Promise<boolean> {
  return (await db.selectFrom('webhook_deliveries').select('id').where('status', 'in', ['delivered', 'dead']).where('created_at', '<', before).limit(1).executeTakeFirst()) !== undefined;
}
