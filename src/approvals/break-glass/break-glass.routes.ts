import type { HttpApp } from '../../platform/http/app.js';
import { pageSchema } from '../../platform/http/pagination.js';
import { breakGlassIdParams, breakGlassSchema, closeReviewBody, endBreakGlassBody, listBreakGlassQuery, openBreakGlassBody } from './break-glass.schemas.js';
import type { BreakGlassService } from './break-glass.service.js';

// /v1/break-glass: emergency access without prior approval and its post-incident review. The permissions are the
// role table's (breakglass.use: admin, security, owner; breakglass.review: admin, security; reading: request.read);
// who actually may — team membership, a person acting directly, someone other than the user closing the review —
// is the service's, which sees the caller and the row.

const tags = ['break-glass'];

export function registerBreakGlassRoutes(app: HttpApp, service: BreakGlassService): void {
  app.post('/v1/break-glass', { config: { permission: 'breakglass.use', errors: ['break_glass_not_allowed', 'break_glass_too_long', 'resource_not_found', 'purpose_not_allowed'] }, schema: { tags, summary: 'Open break-glass access for yourself at once, without approval (members of the break-glass team; at most the configured maximum, default one hour); security and the skipped approvers are told and a post-incident review opens', body: openBreakGlassBody, response: { 201: breakGlassSchema } } },
    async (req, reply) => reply.code(201).send(await service.open(req.actor, req.body)));
  app.get('/v1/break-glass', { config: { permission: 'request.read' }, schema: { tags, summary: 'List break-glass accesses and their reviews (owner-role operators: their own)', querystring: listBreakGlassQuery, response: { 200: pageSchema(breakGlassSchema) } } },
    async (req) => service.list(req.actor, req.query));
  app.get('/v1/break-glass/:id', { config: { permission: 'request.read', errors: ['not_found'] }, schema: { tags, summary: 'Show a break-glass access, its grant\'s state and its review', params: breakGlassIdParams, response: { 200: breakGlassSchema } } },
    async (req) => service.get(req.actor, req.params.id));
  app.post('/v1/break-glass/:id/close', { config: { permission: 'breakglass.review', errors: ['not_found', 'self_review', 'review_not_open', 'forbidden'] }, schema: { tags, summary: 'Close the post-incident review with a finding (admin, security; never the person who used the access)', params: breakGlassIdParams, body: closeReviewBody, response: { 200: breakGlassSchema } } },
    async (req) => service.close(req.actor, req.params.id, req.body));
  app.post('/v1/break-glass/:id/end', { config: { permission: 'breakglass.use', errors: ['not_found', 'forbidden', 'grant_already_revoked'] }, schema: { tags, summary: 'Give break-glass access up early: revokes its grant (the user, admin, security); the review stays open', params: breakGlassIdParams, body: endBreakGlassBody, response: { 200: breakGlassSchema } } },
    async (req) => service.end(req.actor, req.params.id, req.body));
}
