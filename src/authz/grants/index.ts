// Placeholder while the grants part is being built (issue 11); replaced by its real factory.
import type { AuthzPart, AuthzPartContext } from '../parts.js';

export function createGrantsPart(_ctx: AuthzPartContext): AuthzPart {
  return { registerRoutes() {} };
}
