import { z } from 'zod';
import type { HttpApp } from '../platform/http/app.js';
import { pageSchema } from '../platform/http/pagination.js';
import { refParams } from './fields.schemas.js';
import { createResourceBody, deleteResourceQuery, listResourcesQuery, resourceSchema, updateResourceBody } from './resources.schemas.js';
import type { ResourceService } from './resources.service.js';

const tags = ['resources'];
const ownerErrors = ['human_has_no_owner', 'owner_ambiguous', 'owner_not_found', 'owner_not_active_human', 'owner_required', 'team_not_found'] as const;
const parentErrors = ['parent_not_found', 'parent_cycle', 'hierarchy_too_deep'] as const;
const audienceErrors = ['resource_uri_taken', 'principal_not_found', 'principal_decommissioned'] as const;

export function registerResourceRoutes(app: HttpApp, resources: ResourceService): void {
  app.post('/v1/resources', {
    config: { permission: 'resource.write', errors: [...ownerErrors, ...parentErrors, ...audienceErrors, 'name_taken'] },
    schema: { tags, summary: 'Register an AI asset', body: createResourceBody, response: { 201: resourceSchema } },
  }, async (req, reply) => reply.code(201).send(await resources.create(req.actor, req.body)));

  app.get('/v1/resources', {
    config: { permission: 'resource.read' },
    schema: { tags, summary: 'List resources (owner-role operators: only what they or their teams own)', querystring: listResourcesQuery, response: { 200: pageSchema(resourceSchema) } },
  }, async (req) => resources.list(req.actor, req.query));

  app.get('/v1/resources/:ref', {
    config: { permission: 'resource.read', errors: ['not_found'] },
    schema: { tags, summary: 'Show a resource', params: refParams, response: { 200: resourceSchema } },
  }, async (req) => resources.get(req.actor, req.params.ref));

  app.patch('/v1/resources/:ref', {
    config: { permission: 'resource.write', errors: ['not_found', ...ownerErrors, ...parentErrors, ...audienceErrors] },
    schema: { tags, summary: 'Update a resource (labels replaces the set; labels_add / labels_remove change single keys)', params: refParams, body: updateResourceBody, response: { 200: resourceSchema } },
  }, async (req) => resources.update(req.actor, req.params.ref, req.body));

  app.delete('/v1/resources/:ref', {
    config: { permission: 'resource.write', errors: ['not_found', 'resource_has_children', 'resource_in_use'] },
    schema: { tags, summary: 'Delete a resource without children', params: refParams, querystring: deleteResourceQuery, response: { 204: z.null() } },
  }, async (req, reply) => { await resources.remove(req.actor, req.params.ref, req.query.reason); return reply.code(204).send(null); });
}
