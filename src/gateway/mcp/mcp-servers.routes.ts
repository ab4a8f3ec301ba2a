import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.js';
import { pageSchema } from '../../platform/http/pagination.js';
import {
  createMcpServerBody, deleteMcpServerQuery, listMcpServersQuery, mcpServerRefParams, mcpServerSchema, refreshMcpServerBody, refreshResultSchema,
  updateMcpServerBody,
} from './mcp-servers.schemas.js';
import type { McpServerService } from './mcp-servers.service.js';

// /v1/mcp-servers: the MCP servers the gateway serves at /mcp/<name>, their sealed upstream credentials (write-only)
// and the tools they list (each a `tool` resource). Changing them needs mcp_server.write (admins), reading them
// mcp_server.read (every operator read role). No response has a place for the credential.

const tags = ['mcp-servers'];

export function registerMcpServerRoutes(app: HttpApp, servers: McpServerService): void {
  app.post('/v1/mcp-servers', {
    config: { permission: 'mcp_server.write', errors: ['invalid_mcp_server', 'mcp_server_exists', 'owner_not_found', 'mcp_upstream_unreachable'] },
    schema: { tags, summary: 'Register an MCP server (its tools become tool resources; its credential is write-only)', body: createMcpServerBody, response: { 201: mcpServerSchema } },
  }, async (req, reply) => reply.code(201).send(await servers.create(req.actor, req.body)));

  app.get('/v1/mcp-servers', {
    config: { permission: 'mcp_server.read' },
    schema: { tags, summary: 'List MCP servers and their tools (never their credentials)', querystring: listMcpServersQuery, response: { 200: pageSchema(mcpServerSchema) } },
  }, async (req) => servers.list(req.query));

  app.get('/v1/mcp-servers/:ref', {
    config: { permission: 'mcp_server.read', errors: ['not_found'] },
    schema: { tags, summary: 'Show an MCP server and its tools (never its credential)', params: mcpServerRefParams, response: { 200: mcpServerSchema } },
  }, async (req) => servers.get(req.params.ref));

  app.patch('/v1/mcp-servers/:ref', {
    config: { permission: 'mcp_server.write', errors: ['not_found', 'invalid_mcp_server', 'owner_not_found', 'version_mismatch', 'mcp_upstream_unreachable'] },
    schema: { tags, summary: 'Change an MCP server, its owner or its upstream credential (a new URL or credential must answer first)', params: mcpServerRefParams, body: updateMcpServerBody, response: { 200: mcpServerSchema } },
  }, async (req) => servers.update(req.actor, req.params.ref, req.body));

  app.delete('/v1/mcp-servers/:ref', {
    config: { permission: 'mcp_server.write', errors: ['not_found'] },
    schema: { tags, summary: 'Remove an MCP server (its tool resources go too, unless grants or requests still name them)', params: mcpServerRefParams, querystring: deleteMcpServerQuery, response: { 204: z.null() } },
  }, async (req, reply) => {
    await servers.remove(req.actor, req.params.ref, req.query.reason);
    return reply.code(204).send(null);
  });

  app.post('/v1/mcp-servers/:ref/refresh', {
    config: { permission: 'mcp_server.write', errors: ['not_found', 'mcp_upstream_unreachable'] },
    schema: { tags, summary: 'Read the MCP server\'s tool list now: new tools become resources, absent ones stop being served', params: mcpServerRefParams, body: refreshMcpServerBody, response: { 200: refreshResultSchema } },
  }, async (req) => servers.refresh(req.actor, req.params.ref, req.body?.reason));
}
