import type { HttpApp } from '../../platform/http/app.js';
import { checkBody, checkSchema } from './check.schemas.js';
import type { CheckService } from './check.service.js';

export function registerCheckRoutes(app: HttpApp, check: CheckService): void {
  app.post('/v1/authz/check', { config: { permission: 'authz.evaluate', errors: ['forbidden', 'principal_not_found'] }, schema: { tags: ['authz'], summary: 'Decide and explain one request on facts the operator states (simulated): which policies permitted, forbade or errored, per principal, with the context used (admin, security; recorded)', body: checkBody, response: { 200: checkSchema } } },
    async (req) => check.check(req.actor, req.body));
}
