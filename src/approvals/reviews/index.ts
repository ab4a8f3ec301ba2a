// PLACEHOLDER (replaced by the reviews part).
import type { ApprovalsPart, ApprovalsPartContext } from '../parts.js';
export function createReviewsPart(_ctx: ApprovalsPartContext): ApprovalsPart {
  return { registerRoutes() {} };
}
