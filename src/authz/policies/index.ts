// The policy lifecycle part of the authorization module: versioned user policy sets with test cases, activation,
// rollback and impact replays (/v1/policies). The offline pieces (validation, diff, offline tests) are used by
// `custos policy` without a server.
import type { AuthzPart, AuthzPartContext } from '../parts.js';
import { registerPolicyRoutes } from './policies.routes.js';
import { createPoliciesService } from './policies.service.js';

export function createPoliciesPart(ctx: AuthzPartContext): AuthzPart {
  const service = createPoliciesService(ctx);
  return { registerRoutes: (app) => registerPolicyRoutes(app, service) };
}

export { createPoliciesService, type PoliciesService } from './policies.service.js';
