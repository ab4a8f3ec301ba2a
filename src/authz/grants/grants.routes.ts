import type { HttpApp } from '../../platform/http/app.js';
import { pageSchema } from '../../platform/http/pagination.js';
import { createGrantBody, grantIdParams, grantSchema, listGrantsQuery, revokeGrantBody } from './grants.schemas.js';
import type { GrantService } from './grants.service.js';

const tags = ['grants'];

export function registerGrantRoutes(app: HttpApp, grants: GrantService): void {
  app.post('/v1/grants', { config: { permission: 'grant.write', errors: ['forbidden', 'approval_required', 'principal_not_found', 'principal_decommissioned', 'purpose_not_allowed', 'grant_too_long', 'resource_not_found'] }, schema: { tags, summary: 'Grant a principal asset actions on a resource (and its children) until a time, optionally for one purpose (admins)', body: createGrantBody, response: { 201: grantSchema } } },
    async (req, reply) => reply.code(201).send(await grants.create(req.actor, req.body)));
  app.get('/v1/grants', { config: { permission: 'grant.read' }, schema: { tags, summary: 'List grants, per principal or resource, in force or ended', querystring: listGrantsQuery, response: { 200: pageSchema(grantSchema) } } },
    async (req) => grants.list(req.actor, req.query));
  app.get('/v1/grants/:id', { config: { permission: 'grant.read', errors: ['not_found'] }, schema: { tags, summary: 'Show a grant', params: grantIdParams, response: { 200: grantSchema } } },
    async (req) => grants.get(req.actor, req.params.id));
  app.post('/v1/grants/:id/revoke', { config: { permission: 'grant.revoke', errors: ['not_found', 'forbidden', 'grant_already_revoked'] }, schema: { tags, summary: 'Revoke a grant: the next decision no longer sees it (admin, security, the resource owner, the approvers, the grantee)', params: grantIdParams, body: revokeGrantBody, response: { 200: grantSchema } } },
    async (req) => grants.revoke(req.actor, req.params.id, req.body));
}
