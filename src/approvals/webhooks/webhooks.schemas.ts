import { z } from 'zod';
import { nameSchema } from '../../identity/index.js';
import { paginationQuery } from '../../platform/http/pagination.js';
import { NOTIFICATION_TYPES } from '../notifications.js';
import { MAX_SECRET_LENGTH, MIN_SECRET_LENGTH, SECRET_PATTERN } from './delivery-rules.js';
import { MAX_WEBHOOK_URL_LENGTH } from './webhook-url.js';

// Request and response shapes of /v1/webhooks; the OpenAPI document is generated from them. Shapes bound every
// field; the URL rule (https, loopback-only http) is the service's (webhook-url.ts). The secret appears in exactly
// one response: the one that creates it (or rotates it). Nothing else here has a place for it.

export const MAX_WEBHOOKS = 100;

const reason = z.string().min(1).max(1000).optional().describe('Why: recorded in the audit log');
const url = z.string().min(1).max(MAX_WEBHOOK_URL_LENGTH)
  .describe('Where deliveries are POSTed: https, or plain http only to a loopback address (127.0.0.0/8, [::1], localhost); no user information or fragment');
const events = z.array(z.enum(NOTIFICATION_TYPES)).max(NOTIFICATION_TYPES.length * 2)
  .describe(`The event types delivered (${NOTIFICATION_TYPES.join(', ')}); empty or absent: all of them`);
const format = z.enum(['json', 'slack']).describe('json: {id, type, time, data, recipients?}; slack: a Slack incoming-webhook message');
const secret = z.string().min(MIN_SECRET_LENGTH).max(MAX_SECRET_LENGTH).regex(SECRET_PATTERN, 'printable ASCII without spaces')
  .describe(`The HMAC key the receiver verifies with, ${MIN_SECRET_LENGTH}-${MAX_SECRET_LENGTH} printable characters; absent: a random one is generated`);

export const createWebhookBody = z.strictObject({
  name: nameSchema,
  url,
  events: events.optional(),
  format: format.optional().describe('Default json'),
  secret: secret.optional(),
  enabled: z.boolean().optional().describe('Default true'),
  reason,
});
export type CreateWebhookInput = z.infer<typeof createWebhookBody>;

export const updateWebhookBody = z.strictObject({
  url: url.optional(),
  events: events.optional(),
  format: format.optional().describe('Applies to events queued from now on; queued deliveries keep their body'),
  enabled: z.boolean().optional().describe('false: nothing is queued for it, and what is queued waits until it is enabled again'),
  secret: secret.optional().describe('A new secret (shown in this response only); queued deliveries are signed with it from now on'),
  rotate_secret: z.literal(true).optional().describe('Generate a new random secret (shown in this response only)'),
  reason,
});
export type UpdateWebhookInput = z.infer<typeof updateWebhookBody>;

export const webhookRefParams = z.strictObject({ ref: z.string().min(1).max(200).describe('id or name') });
export const deliveryParams = z.strictObject({ ref: z.string().min(1).max(200).describe('the webhook: id or name'), id: z.uuid().describe('the delivery id') });
export const listWebhooksQuery = z.strictObject({ ...paginationQuery });
export type ListWebhooksQuery = z.infer<typeof listWebhooksQuery>;
export const deleteWebhookQuery = z.strictObject({ reason });

export const DELIVERY_STATUSES = ['pending', 'delivered', 'dead'] as const;
export const listDeliveriesQuery = z.strictObject({
  ...paginationQuery,
  status: z.enum(DELIVERY_STATUSES).optional().describe('Only deliveries in this state'),
});
export type ListDeliveriesQuery = z.infer<typeof listDeliveriesQuery>;

export const webhookSchema = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  events: z.array(z.string()).describe('Empty: every event type'),
  format: z.enum(['json', 'slack']),
  enabled: z.boolean(),
  deliveries: z.object({ pending: z.number().int(), dead: z.number().int() }).describe('Deliveries waiting to go out, and given up'),
  created_at: z.string(),
  created_by: z.string().nullable(),
  updated_at: z.string(),
});
export type WebhookView = z.infer<typeof webhookSchema>;

export const webhookWithSecretSchema = webhookSchema.extend({
  secret: z.string().describe('Shown only in this response: store it where the receiver reads it'),
});
export const updatedWebhookSchema = webhookSchema.extend({
  secret: z.string().optional().describe('Present only when the secret was changed, and only in this response'),
});

export const deliverySchema = z.object({
  id: z.string(),
  webhook_id: z.string(),
  event_id: z.string().describe('The event\'s id (the body\'s `id`; the same at every webhook it went to)'),
  event_type: z.string(),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number().int(),
  next_attempt_at: z.string().nullable().describe('When it is tried next (pending only)'),
  last_status: z.number().int().nullable().describe('The receiver\'s HTTP status at the last attempt (null: no answer)'),
  last_error: z.string().nullable(),
  created_at: z.string(),
  delivered_at: z.string().nullable(),
  payload: z.record(z.string(), z.unknown()).describe('The body as sent (the signature covers its exact bytes)'),
});
export type DeliveryView = z.infer<typeof deliverySchema>;
