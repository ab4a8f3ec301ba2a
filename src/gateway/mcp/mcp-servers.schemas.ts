import { z } from 'zod';
import { paginationQuery } from '../../platform/http/pagination.js';
import { MAX_BASE_URL_LENGTH } from '../upstreams/upstream-url.js';
import { HEADER_NAME_PATTERN, MAX_CREDENTIAL_LENGTH, MAX_SERVER_NAME_LENGTH, MIN_TOKEN_LENGTH, SERVER_NAME_PATTERN, TIMEOUT_MS, TOKEN_PATTERN } from './mcp.js';

// Request and response shapes of /v1/mcp-servers; the OpenAPI document is generated from them. Shapes bound every
// field (out of bounds: 400 validation_failed); rules across fields and against the store are the service's
// (422 invalid_mcp_server).
//
// The upstream credential is write-only: it has a place in the create and update bodies and in no response shape,
// so no serialiser can emit it; views say only its kind (and a custom header's name).

const reason = z.string().min(1).max(1000).optional().describe('Why: recorded in the audit log');
const ref = z.string().min(1).max(200).describe('id or name');
const name = z.string().min(1).max(MAX_SERVER_NAME_LENGTH).regex(SERVER_NAME_PATTERN, `a DNS label of at most ${MAX_SERVER_NAME_LENGTH} characters`)
  .describe(`The endpoint's name: /mcp/<name> on the gateway, and the prefix of its tools' resource names (<name>-<tool>). A DNS label of at most ${MAX_SERVER_NAME_LENGTH} characters; never changes`);
const upstreamUrl = z.string().min(1).max(MAX_BASE_URL_LENGTH)
  .describe('The MCP server\'s Streamable HTTP endpoint, e.g. https://mcp.example.com/mcp: https, or plain http only to a loopback or private address; no user information, query or fragment');
const credential = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('bearer'),
    token: z.string().min(MIN_TOKEN_LENGTH).max(MAX_CREDENTIAL_LENGTH).regex(TOKEN_PATTERN, 'printable ASCII without spaces'),
  }),
  z.strictObject({
    type: z.literal('header'),
    name: z.string().regex(HEADER_NAME_PATTERN, 'an HTTP header name'),
    value: z.string().min(1).max(MAX_CREDENTIAL_LENGTH),
  }),
]).describe('What the gateway sends the MCP server (never the caller\'s token): `Authorization: Bearer <token>`, or one header. Write-only: sealed with the master key, never returned, logged or audited');
const timeoutMs = z.number().int().min(TIMEOUT_MS.min).max(TIMEOUT_MS.max)
  .describe(`How long the MCP server may take to answer, in milliseconds (${TIMEOUT_MS.min}-${TIMEOUT_MS.max})`);
const description = z.string().max(2000);

export const createMcpServerBody = z.strictObject({
  name,
  upstream_url: upstreamUrl,
  credential: credential.optional(),
  owner: ref.describe('The accountable person (a human principal, id or name): owns the server\'s and its tools\' resources'),
  description: description.optional(),
  timeout_ms: timeoutMs.optional().describe(`Default ${TIMEOUT_MS.default}`),
  reason,
});
export type CreateMcpServerInput = z.infer<typeof createMcpServerBody>;

export const updateMcpServerBody = z.strictObject({
  upstream_url: upstreamUrl.optional(),
  credential: credential.optional().describe('A new upstream credential (write-only): the next call uses it'),
  remove_credential: z.literal(true).optional().describe('Forget the stored credential'),
  owner: ref.optional().describe('A new owner (a human): its resources move to them too'),
  description: description.nullable().optional().describe('null removes it'),
  timeout_ms: timeoutMs.optional(),
  expected_version: z.number().int().min(1).optional().describe('Optimistic concurrency: refuse (409 version_mismatch) if the registration changed since'),
  reason,
});
export type UpdateMcpServerInput = z.infer<typeof updateMcpServerBody>;

export const refreshMcpServerBody = z.strictObject({ reason }).optional();
export const mcpServerRefParams = z.strictObject({ ref: ref.describe('the MCP server: id or name') });
export const listMcpServersQuery = z.strictObject({ ...paginationQuery });
export type ListMcpServersQuery = z.infer<typeof listMcpServersQuery>;
export const deleteMcpServerQuery = z.strictObject({ reason });

const refView = z.object({ id: z.string(), name: z.string() });

export const mcpToolSchema = z.object({
  name: z.string().describe('The tool\'s name at the MCP server'),
  resource: refView.describe('The `tool` resource decisions are made on'),
  present: z.boolean().describe('Whether the MCP server\'s last full list had it (absent tools are not served)'),
  first_seen_at: z.string(),
  last_seen_at: z.string(),
});

export const mcpServerSchema = z.object({
  id: z.string(),
  name: z.string(),
  endpoint: z.string().describe('Where clients connect: <gateway>/mcp/<name>; also the audience (RFC 8707 resource) of tokens for it'),
  upstream_url: z.string(),
  credential: z.union([z.null(), z.object({ type: z.literal('bearer') }), z.object({ type: z.literal('header'), header_name: z.string() })])
    .describe('Which kind of upstream credential is stored (never the credential itself); null: none'),
  owner: refView,
  description: z.string().nullable(),
  timeout_ms: z.number().int(),
  resource: refView.describe('The server\'s own `endpoint` resource (mcp-<name>): resources and prompts are decided on it; its tools are its children'),
  protocol_version: z.string().nullable().describe('The protocol revision the MCP server answered last'),
  tools: z.array(mcpToolSchema),
  tools_synced_at: z.string().nullable(),
  created_at: z.string(),
  created_by: z.string().nullable(),
  updated_at: z.string(),
  version: z.number().int(),
});
export type McpServerView = z.infer<typeof mcpServerSchema>;

export const refreshResultSchema = z.object({
  server: mcpServerSchema,
  added: z.array(z.string()).describe('Tools new to the registry (each now a tool resource)'),
  changed: z.array(z.string()).describe('Tools whose definition changed'),
  removed: z.array(z.string()).describe('Tools no longer listed (no longer served; their resources stay)'),
  refused: z.array(z.object({ tool: z.string(), problem: z.string() })).describe('Tools not served, and why'),
});
export type RefreshResult = z.infer<typeof refreshResultSchema>;
