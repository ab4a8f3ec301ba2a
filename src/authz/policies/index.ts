// Placeholder while the policies part is being built (issue 11); replaced by its real factory.
import type { AuthzPart, AuthzPartContext } from '../parts.js';

export function createPoliciesPart(_ctx: AuthzPartContext): AuthzPart {
  return { registerRoutes() {} };
}
