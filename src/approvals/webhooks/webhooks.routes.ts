import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.js';
import { pageSchema } from '../../platform/http/pagination.js';
import {
  createWebhookBody, deleteWebhookQuery, deliveryParams, deliverySchema, listDeliveriesQuery, listWebhooksQuery, updatedWebhookSchema,
  updateWebhookBody, webhookRefParams, webhookSchema, webhookWithSecretSchema,
} from './webhooks.schemas.js';
import type { WebhookService } from './webhooks.service.js';

// /v1/webhooks: signed notifications of approvals events to other systems, and their delivery log. Changing them
// needs webhook.write (admins), reading them webhook.read (admins and security).

const tags = ['webhooks'];
const reasonBody = z.strictObject({ reason: z.string().min(1).max(1000).optional().describe('Why: recorded in the audit log') }).nullish();

export function registerWebhookRoutes(app: HttpApp, webhooks: WebhookService): void {
  app.post('/v1/webhooks', {
    config: { permission: 'webhook.write', errors: ['invalid_webhook_url', 'name_taken'] },
    schema: { tags, summary: 'Subscribe a receiver to approvals events (the secret is in this response only)', body: createWebhookBody, response: { 201: webhookWithSecretSchema } },
  }, async (req, reply) => reply.code(201).send(await webhooks.create(req.actor, req.body)));

  app.get('/v1/webhooks', {
    config: { permission: 'webhook.read' },
    schema: { tags, summary: 'List webhooks', querystring: listWebhooksQuery, response: { 200: pageSchema(webhookSchema) } },
  }, async (req) => webhooks.list(req.query));

  app.get('/v1/webhooks/:ref', {
    config: { permission: 'webhook.read', errors: ['not_found'] },
    schema: { tags, summary: 'Show a webhook (never its secret)', params: webhookRefParams, response: { 200: webhookSchema } },
  }, async (req) => webhooks.get(req.params.ref));

  app.patch('/v1/webhooks/:ref', {
    config: { permission: 'webhook.write', errors: ['not_found', 'invalid_webhook_url'] },
    schema: { tags, summary: 'Change a webhook\'s URL, events, format, state or secret (a new secret is in this response only)', params: webhookRefParams, body: updateWebhookBody, response: { 200: updatedWebhookSchema } },
  }, async (req) => webhooks.update(req.actor, req.params.ref, req.body));

  app.delete('/v1/webhooks/:ref', {
    config: { permission: 'webhook.write', errors: ['not_found'] },
    schema: { tags, summary: 'Remove a webhook and its delivery log', params: webhookRefParams, querystring: deleteWebhookQuery, response: { 204: z.null() } },
  }, async (req, reply) => { await webhooks.remove(req.actor, req.params.ref, req.query.reason); return reply.code(204).send(null); });

  app.post('/v1/webhooks/:ref/test', {
    config: { permission: 'webhook.write', errors: ['not_found'] },
    schema: { tags, summary: 'Send a signed webhook.test event to this webhook now; answers with the delivery after the attempt', params: webhookRefParams, body: reasonBody, response: { 200: deliverySchema } },
  }, async (req) => webhooks.test(req.actor, req.params.ref));

  app.get('/v1/webhooks/:ref/deliveries', {
    config: { permission: 'webhook.read', errors: ['not_found'] },
    schema: { tags, summary: 'The delivery log of a webhook, newest first', params: webhookRefParams, querystring: listDeliveriesQuery, response: { 200: pageSchema(deliverySchema) } },
  }, async (req) => webhooks.deliveries(req.params.ref, req.query));

  app.post('/v1/webhooks/:ref/deliveries/:id/retry', {
    config: { permission: 'webhook.write', errors: ['not_found', 'invalid_transition'] },
    schema: { tags, summary: 'Put a dead delivery back to pending (due now, attempts counted afresh)', params: deliveryParams, body: reasonBody, response: { 200: deliverySchema } },
  }, async (req) => webhooks.retry(req.actor, req.params.ref, req.params.id, req.body?.reason));
}
