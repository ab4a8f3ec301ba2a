import type { Trx, WriteBatch } from '../platform/store/db.js';

// What the approvals module tells the outside world, and the port it tells it through. A notification is written in
// the same transaction as the change it reports (the webhooks part turns it into one outbox row per subscribed
// webhook), so a change is never reported without having happened, nor happens without being reported. Payloads
// name principals and objects by id and name; they never carry a secret, a token or a webhook's own secret.

export const NOTIFICATION_TYPES = [
  'request.created', 'request.approved', 'request.denied', 'request.cancelled', 'request.expired',
  'grant.revoked', 'break_glass.used', 'review.due', 'review.overdue',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export interface PersonRef {
  id: string;
  name: string;
}

export interface Notification {
  type: NotificationType;
  /** The event's facts: JSON values only, no secrets. */
  data: Record<string, unknown>;
  /** The people this concerns (approvers to ask, security, the skipped approvers), named in the payload. */
  recipients?: PersonRef[];
}

export interface Notifier {
  /** Queues the notification inside the caller's transaction (one delivery per matching webhook). */
  notify(trx: Trx, batch: WriteBatch, notification: Notification): Promise<void>;
}
