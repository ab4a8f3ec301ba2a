// The break-glass part of the approvals module: emergency access without prior approval for the members of the
// break-glass team, recorded, reported and kept under a post-incident review (break-glass.service.ts; rules in
// break-glass.ts; docs/break-glass.md). Nothing here is time-driven: the grant ends by its own expiry in the
// decision point, and an open review stays open until someone closes it.
import type { HttpApp } from '../../platform/http/app.js';
import type { ApprovalsPart, ApprovalsPartContext } from '../parts.js';
import { registerBreakGlassRoutes } from './break-glass.routes.js';
import { createBreakGlassService } from './break-glass.service.js';

export function createBreakGlassPart(ctx: ApprovalsPartContext): ApprovalsPart {
  const service = createBreakGlassService(ctx);
  return {
    registerRoutes(app: HttpApp) { registerBreakGlassRoutes(app, service); },
  };
}
