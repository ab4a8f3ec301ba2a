// The access-reviews part of the approvals module (recertification): campaigns and their items
// (reviews.service.ts), the scheduler, reminders and lapses run by the module's sweep (reviews-sweep.service.ts),
// and the routes. The pure rules are in reviews.ts; docs/reviews.md describes the model.
import type { ApprovalsPart, ApprovalsPartContext } from '../parts.js';
import { registerReviewRoutes } from './reviews.routes.js';
import { createReviewSweep } from './reviews-sweep.service.js';
import { createReviewService } from './reviews.service.js';

export function createReviewsPart(ctx: ApprovalsPartContext): ApprovalsPart {
  const reviews = createReviewService(ctx);
  const sweeper = createReviewSweep(ctx, reviews);
  return {
    registerRoutes(app) {
      registerReviewRoutes(app, reviews);
    },
    sweep: () => sweeper.sweep(),
  };
}
