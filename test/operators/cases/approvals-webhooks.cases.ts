// PLACEHOLDER (replaced by the part's author).
import type { RouteCase } from './shared.js';

export const APPROVALS_WEBHOOKS_ROUTE_CASES: Record<string, RouteCase> = {};
