// The OpenID AuthZEN Authorization API 1.0 (docs/authzen.md): evaluation, evaluations, the three searches and the
// PDP metadata, a thin HTTP shell on the decision point every other enforcement point calls.
import type { AuthzPart, AuthzPartContext } from '../parts.js';
import { registerAuthzenRoutes } from './authzen.routes.js';
import { createAuthzenService } from './authzen.service.js';

export function createAuthzenPart(ctx: AuthzPartContext): AuthzPart {
  const service = createAuthzenService(ctx);
  return { registerRoutes: (app) => registerAuthzenRoutes(app, service) };
}
