import type { HttpApp } from '../../platform/http/app.js';
import { accessParams, accessQuery, accessSchema } from './access.schemas.js';
import type { AccessService } from './access.service.js';

export function registerAccessRoutes(app: HttpApp, access: AccessService): void {
  app.get('/v1/principals/:ref/access', { config: { permission: 'principal.read', errors: ['not_found', 'invalid_cursor'] }, schema: { tags: ['principals', 'grants'], summary: 'What a principal can do on which resources now: each resource and asset action decided by the PDP (one audit event per page)', params: accessParams, querystring: accessQuery, response: { 200: accessSchema } } },
    async (req) => access.list(req.actor, req.params.ref, req.query));
}
