// PLACEHOLDER (replaced by the part's author).
import type { RouteCase } from './shared.js';

export const GATEWAY_LIMITS_ROUTE_CASES: Record<string, RouteCase> = {};
