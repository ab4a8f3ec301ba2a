import { z } from 'zod';
import type { HttpApp } from '../platform/http/app.js';
import { reasonBody, refParams } from './fields.schemas.js';
import {
  createPrincipalBody, lifecycleParams, listPrincipalsQuery, principalPage, principalSchema, updatePrincipalBody,
} from './principals.schemas.js';
import { toCsv } from './principals.csv.js';
import type { PrincipalService } from './principals.service.js';

const tags = ['principals'];
const ownerErrors = ['human_has_no_owner', 'owner_ambiguous', 'owner_not_found', 'owner_not_active_human', 'owner_required', 'team_not_found'] as const;

export function registerPrincipalRoutes(app: HttpApp, principals: PrincipalService): void {
  app.post('/v1/principals', {
    config: { permission: 'principal.create', errors: [...ownerErrors, 'name_taken', 'principal_not_found'] },
    schema: { tags, summary: 'Register a principal', body: createPrincipalBody, response: { 201: principalSchema } },
  }, async (req, reply) => reply.code(201).send(await principals.create(req.actor, req.body)));

  app.get('/v1/principals', {
    config: { permission: 'principal.read' },
    schema: {
      tags,
      summary: 'List principals (filters, cursor pagination; format=csv exports the inventory)',
      querystring: listPrincipalsQuery,
      response: { 200: principalPage.or(z.string()) },
    },
  }, async (req, reply) => {
    const page = await principals.list(req.actor, req.query);
    if (req.query.format === 'csv') {
      if (page.next_cursor) reply.header('x-next-cursor', page.next_cursor);
      return reply.type('text/csv; charset=utf-8').send(toCsv(page.items));
    }
    return page;
  });

  app.get('/v1/principals/:ref', {
    config: { permission: 'principal.read', errors: ['not_found'] },
    schema: { tags, summary: 'Show a principal', params: refParams, response: { 200: principalSchema } },
  }, async (req) => principals.get(req.actor, req.params.ref));

  app.patch('/v1/principals/:ref', {
    config: { permission: 'principal.update', errors: ['not_found', 'principal_decommissioned', 'version_mismatch', 'principal_not_found', ...ownerErrors] },
    schema: { tags, summary: 'Update a principal (labels replaces the set; labels_add / labels_remove change single keys)', params: refParams, body: updatePrincipalBody, response: { 200: principalSchema } },
  }, async (req) => principals.update(req.actor, req.params.ref, req.body));

  app.post('/v1/principals/:ref/:action', {
    config: { permission: 'principal.lifecycle', errors: ['not_found', 'invalid_transition', 'last_admin'] },
    schema: {
      tags,
      summary: 'Lifecycle: activate, suspend or decommission',
      params: lifecycleParams,
      body: reasonBody,
      response: { 200: principalSchema },
    },
  }, async (req) => principals.transition(req.actor, req.params.ref, req.params.action, req.body?.reason));

  app.post('/v1/principals/:ref/review', {
    config: { permission: 'principal.update', errors: ['not_found', 'principal_decommissioned'] },
    schema: { tags, summary: 'Record an access review and set the next due date', params: refParams, body: reasonBody, response: { 200: principalSchema } },
  }, async (req) => principals.markReviewed(req.actor, req.params.ref, req.body?.reason));
}
