import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import type { HttpApp } from '../platform/http/app.js';
import {
  createPrincipalBody, lifecycleParams, listPrincipalsQuery, principalPage, principalSchema, reasonBody, refSchema,
  updatePrincipalBody, type PrincipalView,
} from './principals.schemas.js';
import type { PrincipalService } from './principals.service.js';

const tags = ['principals'];
const refParams = z.strictObject({ ref: refSchema });

export function registerPrincipalRoutes(app: HttpApp, principals: PrincipalService): void {
  app.post('/v1/principals', {
    config: { permission: 'principal.create' },
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
    config: { permission: 'principal.read' },
    schema: { tags, summary: 'Show a principal', params: refParams, response: { 200: principalSchema } },
  }, async (req) => principals.get(req.actor, req.params.ref));

  app.patch('/v1/principals/:ref', {
    config: { permission: 'principal.update' },
    schema: { tags, summary: 'Update a principal', params: refParams, body: updatePrincipalBody, response: { 200: principalSchema } },
  }, async (req) => principals.update(req.actor, req.params.ref, req.body));

  app.post('/v1/principals/:ref/:action', {
    config: { permission: 'principal.lifecycle' },
    schema: {
      tags,
      summary: 'Lifecycle: activate, suspend or decommission',
      params: lifecycleParams,
      body: reasonBody,
      response: { 200: principalSchema },
    },
  }, async (req) => principals.transition(req.actor, req.params.ref, req.params.action, req.body?.reason));

  app.post('/v1/principals/:ref/review', {
    config: { permission: 'principal.update' },
    schema: { tags, summary: 'Record an access review and set the next due date', params: refParams, body: reasonBody, response: { 200: principalSchema } },
  }, async (req) => principals.markReviewed(req.actor, req.params.ref, req.body?.reason));
}

export const CSV_COLUMNS = [
  'id', 'name', 'kind', 'status', 'owner', 'owner_team', 'team', 'environment', 'autonomy', 'risk_tier', 'data_ceiling',
  'platform', 'framework', 'scopes', 'purposes', 'orphaned', 'review_due_at', 'labels', 'created_at', 'updated_at',
] as const;

export function toCsv(items: PrincipalView[]): string {
  const rows = items.map((p) => [
    p.id, p.name, p.kind, p.status, p.owner?.name ?? '', p.owner_team?.name ?? '', p.team?.name ?? '', p.environment ?? '',
    p.autonomy ?? '', p.risk_tier, p.data_ceiling ?? '', p.platform ?? '', p.framework ?? '', p.scopes.join(' '),
    p.purposes.join(' '), String(p.orphaned), p.review_due_at ?? '', JSON.stringify(p.labels), p.created_at, p.updated_at,
  ]);
  // Cells starting with = + - @ are quoted with a leading apostrophe so spreadsheets do not run them as formulas.
  const safe = rows.map((r) => r.map((c) => (/^[=+\-@\t\r]/.test(c) ? `'${c}` : c)));
  return stringify([[...CSV_COLUMNS], ...safe]);
}
