// PLACEHOLDER (replaced by the part's author).
import type { RouteCase } from './shared.js';

export const APPROVALS_BREAK_GLASS_ROUTE_CASES: Record<string, RouteCase> = {};
