import type { RouteCase } from './shared.js';

// Placeholder while the routes are being built (issue 11).
export const AUTHZEN_ROUTE_CASES: Record<string, RouteCase> = {};
