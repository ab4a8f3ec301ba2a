import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.js';
import { pageSchema } from '../../platform/http/pagination.js';
import { limitSchema, limitTargetParams, limitWithUsageSchema, listLimitsQuery, removeLimitQuery, setLimitBody } from './limits.schemas.js';
import type { LimitService } from './limits.service.js';

// /v1/limits: requests and tokens per minute and token budgets per day and month, set on a principal, a team or a
// resource, and enforced by the gateway on every call. Changing them needs limit.write (admins, security), reading
// them limit.read (admins, security, auditors).

const tags = ['limits'];

export function registerLimitRoutes(app: HttpApp, limits: LimitService): void {
  app.get('/v1/limits', {
    config: { permission: 'limit.read' },
    schema: { tags, summary: 'List limits (optionally of one kind of target)', querystring: listLimitsQuery, response: { 200: pageSchema(limitSchema) } },
  }, async (req) => limits.list(req.query));

  app.get('/v1/limits/:kind/:ref', {
    config: { permission: 'limit.read', errors: ['not_found'] },
    schema: { tags, summary: 'Show the limit set on a principal, team or resource, with this node\'s usage in the current windows', params: limitTargetParams, response: { 200: limitWithUsageSchema } },
  }, async (req) => limits.get(req.params.kind, req.params.ref));

  app.put('/v1/limits/:kind/:ref', {
    config: { permission: 'limit.write', errors: ['invalid_limit'] },
    schema: {
      tags, summary: 'Set (create or change) the limit on a principal, team or resource; null clears one value; applies to the next call',
      params: limitTargetParams, body: setLimitBody, response: { 200: limitSchema, 201: limitSchema },
    },
  }, async (req, reply) => {
    const { limit, created } = await limits.set(req.actor, req.params.kind, req.params.ref, req.body);
    return reply.code(created ? 201 : 200).send(limit);
  });

  app.delete('/v1/limits/:kind/:ref', {
    config: { permission: 'limit.write', errors: ['not_found'] },
    schema: { tags, summary: 'Remove the limit on a principal, team or resource (applies to the next call)', params: limitTargetParams, querystring: removeLimitQuery, response: { 204: z.null() } },
  }, async (req, reply) => { await limits.remove(req.actor, req.params.kind, req.params.ref, req.query.reason); return reply.code(204).send(null); });
}
