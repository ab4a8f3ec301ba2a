import type { RouteCase } from './shared.js';

// Placeholder while the routes are being built (issue 11).
export const AUTHZ_POLICIES_ROUTE_CASES: Record<string, RouteCase> = {};
