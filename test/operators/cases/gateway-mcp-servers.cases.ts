import type { RouteCase } from './shared.js';

// PLACEHOLDER (issue 13, MCP gateway): role-matrix cases for /v1/mcp-servers.
export const GATEWAY_MCP_SERVERS_ROUTE_CASES: Record<string, RouteCase> = {};
