import { canonicalJson, type McpScope } from './mcp.js';

// How each MCP method is governed at the gateway (pure; exact tests in mcp.test.ts). No method passes ungoverned:
// every one is in this table, and anything else is refused before the upstream sees it.
//
// | methods | needs scope | decided |
// |---|---|---|
// | initialize, server/discover, ping, logging/setLevel, subscriptions/listen, notifications/*, answers to the upstream's requests | any MCP scope | the credential only |
// | tools/list | mcp:tools | each tool: `call_tool` on its tool resource; the answer shows only the tools allowed |
// | tools/call | mcp:tools | `call_tool` on the tool's resource, the arguments as `context.request` |
// | resources/list, resources/templates/list, resources/read, resources/subscribe, resources/unsubscribe | mcp:resources | `read` on the server's resource |
// | prompts/list, prompts/get | mcp:prompts | `read` on the server's resource |
// | completion/complete | mcp:prompts or mcp:resources, by its ref | `read` on the server's resource |
// | tasks/*, batches, anything else | — | refused |

export type Governance =
  | { kind: 'pass'; audited: boolean }
  | { kind: 'answer' }
  | { kind: 'tools_list' }
  | { kind: 'tools_call' }
  | { kind: 'server_read'; scope: McpScope }
  | { kind: 'refuse'; code: number; reason: string; message: string };

/** JSON-RPC and MCP error codes the gateway answers with. */
export const RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  /** Custos refused the call (a decision, a scope): in the implementation-defined server error range. */
  denied: -32003,
} as const;

const PASS = new Set(['initialize', 'server/discover', 'ping', 'logging/setLevel', 'subscriptions/listen']);
const AUDITED_PASS = new Set(['initialize', 'server/discover']);
const RESOURCES = new Set(['resources/list', 'resources/templates/list', 'resources/read', 'resources/subscribe', 'resources/unsubscribe']);
const PROMPTS = new Set(['prompts/list', 'prompts/get']);

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** How one JSON-RPC message from a client is governed. */
export function governanceOf(message: Record<string, unknown>): Governance {
  const method = message.method;
  if (method === undefined) {
    // An answer to a request the upstream sent the client (sampling, elicitation, roots): it has an id and a result or an error.
    if (message.id !== undefined && ('result' in message || 'error' in message)) return { kind: 'answer' };
    return { kind: 'refuse', code: RPC.invalidRequest, reason: 'mcp_invalid_request', message: 'not a JSON-RPC request, notification or response' };
  }
  if (typeof method !== 'string' || method.length > 200) return { kind: 'refuse', code: RPC.invalidRequest, reason: 'mcp_invalid_request', message: 'method must be a string' };
  if (method.startsWith('notifications/')) return { kind: 'pass', audited: false };
  if (PASS.has(method)) return { kind: 'pass', audited: AUDITED_PASS.has(method) };
  if (method === 'tools/list') return { kind: 'tools_list' };
  if (method === 'tools/call') return { kind: 'tools_call' };
  if (RESOURCES.has(method)) return { kind: 'server_read', scope: 'mcp:resources' };
  if (PROMPTS.has(method)) return { kind: 'server_read', scope: 'mcp:prompts' };
  if (method === 'completion/complete') {
    const ref = isObject(message.params) && isObject(message.params.ref) ? message.params.ref.type : undefined;
    return { kind: 'server_read', scope: ref === 'ref/resource' ? 'mcp:resources' : 'mcp:prompts' };
  }
  return { kind: 'refuse', code: RPC.methodNotFound, reason: 'mcp_method_not_served', message: `method '${method.slice(0, 100)}' is not served by the Custos MCP gateway` };
}

/** The scopes that would do for a governance kind (any one of them): for insufficient_scope answers. */
export function scopesFor(g: Governance): McpScope[] {
  if (g.kind === 'tools_list' || g.kind === 'tools_call') return ['mcp:tools'];
  if (g.kind === 'server_read') return [g.scope];
  return ['mcp:tools', 'mcp:resources', 'mcp:prompts'];
}

/** Whether a credential's scopes cover a governance kind. */
export function scopeAllows(scope: string[] | null, g: Governance): boolean {
  if (scope === null) return false;
  return scopesFor(g).some((s) => scope.includes(s));
}

/** Caller-sent text bounded for a policy's eyes and the audit log. */
const bounded = (v: unknown, max = 2048) => (typeof v === 'string' ? v.slice(0, max) : undefined);

/**
 * What policies see as `context.request` (an Asserted entity: tags, strings): `server`, `method`, and for tools/call
 * `tool`, `arguments` (the canonical JSON of all arguments) and `arguments.<name>` per top-level argument (strings
 * as they are, other values as canonical JSON); for resources `uri`; for prompts `prompt` and its arguments the same
 * way. Everything here is what the caller sent: asserted, not verified.
 */
export function requestContext(server: string, message: Record<string, unknown>): Record<string, string> {
  const method = String(message.method);
  const params = isObject(message.params) ? message.params : {};
  const out: Record<string, string> = { server, method };
  const spread = (args: Record<string, unknown>) => {
    out.arguments = canonicalJson(args);
    for (const [k, v] of Object.entries(args).slice(0, 64)) out[`arguments.${k.slice(0, 100)}`] = typeof v === 'string' ? v : canonicalJson(v);
  };
  if (method === 'tools/call') {
    out.tool = bounded(params.name, 128) ?? '';
    spread(isObject(params.arguments) ? params.arguments : {});
  } else if (method === 'prompts/get') {
    out.prompt = bounded(params.name, 200) ?? '';
    spread(isObject(params.arguments) ? params.arguments : {});
  } else if (typeof params.uri === 'string') {
    out.uri = bounded(params.uri) ?? '';
  } else if (method === 'completion/complete' && isObject(params.ref)) {
    out.ref = canonicalJson(params.ref);
  }
  return out;
}

export function rpcError(id: unknown, code: number, message: string, data?: Record<string, unknown>) {
  return { jsonrpc: '2.0' as const, id: id ?? null, error: { code, message, ...(data ? { data } : {}) } };
}
