import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

// An MCP server as a third party would write one, for the MCP gateway's tests: the MCP SDK's McpServer on its
// stateful Streamable HTTP transport (one session per initialize, the SDK's own example shape) over node:http on
// 127.0.0.1, protected by one upstream bearer token of its own.
// Rules:
// - Every request must carry exactly `Authorization: Bearer <its token>`. Anything else is refused with 401 and
//   recorded in `violations`; so is any request carrying a Custos credential (a `custos_` value, a JWT, a DPoP or
//   x-api-key header) anywhere in its headers. Tests assert `violations` stays empty: the gateway must only ever
//   send the upstream's own credential.
// - Tools: echo, query (sql, read_only), read_file (path), delete_everything; `addTool` registers more on every live
//   session (the SDK then sends notifications/tools/list_changed) and on every later one.
// - One resource (file:///public/readme.txt) and one prompt (greeting).
// - `requests` records each JSON-RPC method received (and the tool called), so tests see what reached the upstream.

export interface McpUpstream {
  url: string;
  token: string;
  violations: string[];
  requests: Array<{ method: string; tool?: string; arguments?: unknown; headers: http.IncomingHttpHeaders }>;
  addTool(name: string, description?: string): void;
  close(): Promise<void>;
}

const CUSTOS_LIKE = /custos_|eyJ[A-Za-z0-9_-]{10,}\./;

/** `unref`: the server does not keep the process alive (a fixture shared by a whole test file, never closed). */
export async function startMcpUpstream(opts: { unref?: boolean } = {}): Promise<McpUpstream> {
  const token = `upstream-${crypto.randomBytes(16).toString('hex')}`;
  const violations: string[] = [];
  const requests: McpUpstream['requests'] = [];
  const extraTools: Array<{ name: string; description: string }> = [];
  const live = new Map<string, { transport: StreamableHTTPServerTransport; server: McpServer }>();

  function build(): McpServer {
    const server = new McpServer({ name: 'custos-test-upstream', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
    server.registerTool('echo', { description: 'Repeats the text', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text: `echo: ${text}` }] }));
    server.registerTool('query', {
      description: 'Runs SQL against the test database', inputSchema: { sql: z.string(), read_only: z.boolean() },
    }, async ({ sql, read_only }) => ({ content: [{ type: 'text', text: `ran ${read_only ? 'read-only' : 'read-write'}: ${sql}` }] }));
    server.registerTool('read_file', { description: 'Reads a file', inputSchema: { path: z.string() } }, async ({ path }) => ({ content: [{ type: 'text', text: `contents of ${path}` }] }));
    server.registerTool('delete_everything', { description: 'Deletes everything' }, async () => ({ content: [{ type: 'text', text: 'everything deleted' }] }));
    for (const t of extraTools) server.registerTool(t.name, { description: t.description }, async () => ({ content: [{ type: 'text', text: `${t.name} ran` }] }));
    server.registerResource('readme', 'file:///public/readme.txt', { mimeType: 'text/plain' }, async (uri) => ({ contents: [{ uri: uri.href, text: 'the public readme' }] }));
    server.registerPrompt('greeting', { description: 'Greets someone', argsSchema: { name: z.string() } }, ({ name }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Say hello to ${name}` } }],
    }));
    return server;
  }

  function checkCredential(req: http.IncomingMessage): string | undefined {
    for (const [name, value] of Object.entries(req.headers)) {
      const text = Array.isArray(value) ? value.join(',') : value ?? '';
      if (name === 'dpop' || name === 'x-api-key') return `${name} header sent upstream`;
      if (CUSTOS_LIKE.test(text)) return `a Custos-looking credential in ${name}`;
    }
    if (req.headers.authorization !== `Bearer ${token}`) return `authorization was ${req.headers.authorization === undefined ? 'missing' : 'not the upstream token'}`;
    return undefined;
  }

  async function readBody(req: http.IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? JSON.parse(text) : undefined;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    const problem = checkCredential(req);
    if (problem) {
      violations.push(problem);
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_token' }));
      return;
    }
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    if (body && typeof body === 'object' && 'method' in (body as Record<string, unknown>)) {
      const m = body as { method: string; params?: { name?: string; arguments?: unknown } };
      requests.push({ method: m.method, ...(m.method === 'tools/call' ? { tool: m.params?.name, arguments: m.params?.arguments } : {}), headers: req.headers });
    }
    const sid = req.headers['mcp-session-id'];
    let entry = typeof sid === 'string' ? live.get(sid) : undefined;
    if (!entry) {
      if (typeof sid === 'string' || !(req.method === 'POST' && isInitializeRequest(body))) {
        res.writeHead(typeof sid === 'string' ? 404 : 400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: typeof sid === 'string' ? 'Session not found' : 'No session' } }));
        return;
      }
      const server = build();
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => crypto.randomUUID(),
        onsessioninitialized: (id) => { live.set(id, { transport, server }); },
      });
      transport.onclose = () => { if (transport.sessionId) live.delete(transport.sessionId); };
      await server.connect(transport);
      entry = { transport, server };
    }
    await entry.transport.handleRequest(req, res, body);
  }

  const httpServer = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      violations.push(`fixture error: ${(error as Error).message}`);
      if (!res.headersSent) res.writeHead(500).end(); else res.destroy();
    });
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  if (opts.unref) httpServer.unref();
  const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/mcp`;
  return {
    url, token, violations, requests,
    addTool(name, description = `the ${name} tool`) {
      extraTools.push({ name, description });
      for (const { server } of live.values()) {
        server.registerTool(name, { description }, async () => ({ content: [{ type: 'text', text: `${name} ran` }] }));
      }
    },
    async close() {
      for (const { transport } of live.values()) await transport.close().catch(() => undefined);
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}
