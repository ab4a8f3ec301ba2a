// PLACEHOLDER (replaced by the break-glass part).
import type { ApprovalsPart, ApprovalsPartContext } from '../parts.js';
export function createBreakGlassPart(_ctx: ApprovalsPartContext): ApprovalsPart {
  return { registerRoutes() {} };
}
