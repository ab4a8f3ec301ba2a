// Placeholder while the authzen part is being built (issue 11); replaced by its real factory.
import type { AuthzPart, AuthzPartContext } from '../parts.js';

export function createAuthzenPart(_ctx: AuthzPartContext): AuthzPart {
  return { registerRoutes() {} };
}
