// PLACEHOLDER (replaced by the part's author).
import type { RouteCase } from './shared.js';

export const GATEWAY_UPSTREAMS_ROUTE_CASES: Record<string, RouteCase> = {};
