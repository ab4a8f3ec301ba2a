import { startMcpUpstream, type McpUpstream } from '../../support/mcp-upstream.js';
import { adminOnly, readers, type RouteCase, type World } from './shared.js';

// MCP servers (/v1/mcp-servers): admins register, change, refresh and remove them (mcp_server.write); admins,
// security and auditors read them (mcp_server.read); owners see none of it. Registering
// and refreshing ask the upstream for its tools, so the cases share one SDK-built MCP server (started on first use,
// never holding the process open); each case registers its own server under a fresh name.

let upstream: Promise<McpUpstream> | undefined;
const fixture = () => (upstream ??= startMcpUpstream({ unref: true }));

async function body(w: World) {
  const up = await fixture();
  return { name: w.uniq('mcp'), upstream_url: up.url, credential: { type: 'bearer', token: up.token }, owner: w.names.owner };
}

async function server(w: World): Promise<string> {
  return (await w.admin('POST', '/v1/mcp-servers', await body(w))).name as string;
}

export const GATEWAY_MCP_SERVERS_ROUTE_CASES: Record<string, RouteCase> = {
  'POST /v1/mcp-servers': { expect: adminOnly, build: async (w) => ({ method: 'POST', url: '/v1/mcp-servers', body: await body(w) }) },
  'GET /v1/mcp-servers': { expect: readers, build: async () => ({ method: 'GET', url: '/v1/mcp-servers?limit=5' }) },
  'GET /v1/mcp-servers/{ref}': { expect: readers, build: async (w) => ({ method: 'GET', url: `/v1/mcp-servers/${await server(w)}` }) },
  'PATCH /v1/mcp-servers/{ref}': {
    expect: adminOnly,
    build: async (w) => ({ method: 'PATCH', url: `/v1/mcp-servers/${await server(w)}`, body: { description: `matrix ${w.uniq('d')}`, timeout_ms: 5_000, reason: 'matrix' } }),
  },
  'DELETE /v1/mcp-servers/{ref}': { expect: adminOnly, build: async (w) => ({ method: 'DELETE', url: `/v1/mcp-servers/${await server(w)}?reason=matrix` }) },
  'POST /v1/mcp-servers/{ref}/refresh': {
    expect: adminOnly,
    build: async (w) => ({ method: 'POST', url: `/v1/mcp-servers/${await server(w)}/refresh`, body: { reason: 'matrix' } }),
  },
};
