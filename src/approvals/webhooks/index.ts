// PLACEHOLDER (replaced by the webhooks part).
import type { Logger } from '../../platform/logger.js';
import type { Notifier } from '../notifications.js';
import type { ApprovalsPart, ApprovalsPartContext } from '../parts.js';

/** Sends one signed delivery; returns the receiver's status code or throws on a network failure. */
export type WebhookTransport = (url: string, body: string, headers: Record<string, string>, signal: AbortSignal) => Promise<number>;

export function createWebhooksPart(_ctx: Omit<ApprovalsPartContext, 'notify'> & { logger: Logger; transport?: WebhookTransport }): ApprovalsPart & Notifier & { deliverDue(): Promise<number> } {
  return { registerRoutes() {}, async notify() {}, async deliverDue() { return 0; } };
}
