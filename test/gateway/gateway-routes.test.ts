import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MODEL_ROUTES } from '../../src/gateway/model-routes.js';
import { credentialViolations } from '../support/fake-upstream.js';
import { startGatewayWorld, type GatewayWorld } from '../support/gateway-world.js';

// Every route the gateway's listener serves, walked from outside over HTTP: none answers 2xx without a credential
// (except the RFC 9728 metadata document, which is public by definition and says only where to get a token), none
// forwards anything to the upstream without one, and a credential that is not addressed to the gateway — a token
// issued for the control plane (no `resource`), an operator token, an API key for the management API — is refused
// with 401 and the challenge naming the gateway's metadata. The list of routes is read from the listener itself
// (Fastify's route tree), so a route added later without a case here fails this test rather than going unwalked.
// `/mcp/:server` is walked with a registered MCP server in front of an SDK-built MCP upstream that wants its own
// bearer token and records every request it gets (none may arrive here) and any Custos credential in them.

interface Case {
  /** A request that would succeed with a good credential (so only the credential is missing). */
  body?: unknown;
  /** Anthropic's error shape (else OpenAI's). */
  anthropic?: boolean;
  /** The public metadata document. */
  isPublic?: boolean;
  /** Not a governed model route: its own refusal shape (checked separately). */
  operational?: boolean;
}

const CHAT = { model: 'chat-gpt', messages: [{ role: 'user', content: 'hello' }] };
const CLAUDE = { model: 'claude', max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] };

/** What to send to each route the gateway may serve (`:param` in Fastify's notation). */
const CASES: Record<string, Case> = {
  'POST /v1/chat/completions': { body: CHAT },
  'POST /v1/embeddings': { body: { model: 'embedder', input: 'hello' } },
  'POST /v1/responses': { body: { model: 'chat-gpt', input: 'hello' } },
  'GET /v1/models': {},
  'HEAD /v1/models': {},
  'POST /v1/messages': { body: CLAUDE, anthropic: true },
  'POST /v1/messages/count_tokens': { body: { model: 'claude', messages: CLAUDE.messages }, anthropic: true },
  'GET /.well-known/oauth-protected-resource': { isPublic: true },
  'HEAD /.well-known/oauth-protected-resource': { isPublic: true },
  'GET /metrics': { operational: true },
  'HEAD /metrics': { operational: true },
};
/** MCP endpoints (issue 13's MCP gateway): walked generically once the listener serves them. */
const MCP_INITIALIZE = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

interface McpUpstream { url: string; token: string; requests: Array<{ method: string; headers: http.IncomingHttpHeaders }>; violations: string[]; close(): Promise<void> }

/** A plain MCP server (the SDK's McpServer, stateless Streamable HTTP) that wants `Authorization: Bearer <token>`. */
async function startMcpUpstream(): Promise<McpUpstream> {
  const token = `mcp-upstream-${crypto.randomBytes(12).toString('hex')}`;
  const requests: McpUpstream['requests'] = [];
  const violations: string[] = [];
  const server = http.createServer((req, res) => {
    void (async () => {
      requests.push({ method: req.method ?? '', headers: req.headers });
      violations.push(...credentialViolations('unknown', req.headers, '', { openai: '', anthropic: '' }));
      if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end();
      const mcp = new McpServer({ name: 'routes-probe', version: '1.0.0' });
      mcp.registerTool('echo', { description: 'echo', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => { void transport.close(); void mcp.close(); });
      await mcp.connect(transport);
      await transport.handleRequest(req, res);
    })().catch(() => { if (!res.headersSent) res.writeHead(500).end(); else res.destroy(); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, token, requests, violations,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const MCP_SERVER = 'probe';

/** Method + path of every route in Fastify's printRoutes({ commonPrefix: false }) tree. */
function routesOfTree(tree: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('');
    for (const method of m[3]?.split(',').map((s) => s.trim()) ?? []) out.push(`${method} ${path}`);
  }
  return out;
}

describe('every route of the gateway listener', () => {
  let w: GatewayWorld;
  let mcp: McpUpstream;
  let routes: string[];
  const metadataUrl = () => `${w.gatewayUrl}/.well-known/oauth-protected-resource`;
  const mcpMetadataUrl = () => `${w.gatewayUrl}/.well-known/oauth-protected-resource/mcp/${MCP_SERVER}`;
  const isMcp = (route: string) => / \/mcp\//.test(route);

  const send = async (route: string, opts: { headers?: Record<string, string>; body?: unknown; rawBody?: string } = {}) => {
    const [method, path] = route.split(' ') as [string, string];
    const url = `${w.gatewayUrl}${path.replace(':server', MCP_SERVER)}`;
    const hasBody = method !== 'GET' && method !== 'HEAD';
    const res = await fetch(url, {
      method,
      headers: {
        ...(hasBody ? { 'content-type': 'application/json' } : {}),
        ...(path.startsWith('/mcp/') ? { accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' } : {}),
        ...(opts.headers ?? {}),
      },
      body: hasBody ? opts.rawBody ?? JSON.stringify(opts.body ?? {}) : undefined,
    });
    const text = await res.text();
    let body: any;
    try { body = JSON.parse(text); } catch { body = undefined; }
    return { status: res.status, headers: res.headers, body, text };
  };
  const caseOf = (route: string): Case | undefined => {
    if (CASES[route]) return CASES[route];
    if (/ \/mcp\//.test(route) || / \/\.well-known\/oauth-protected-resource\/mcp\//.test(route)) {
      return route.includes('.well-known') ? { isPublic: true } : { body: MCP_INITIALIZE };
    }
    return undefined;
  };

  beforeAll(async () => {
    w = await startGatewayWorld('sqlite');
    mcp = await startMcpUpstream();
    await w.admin('POST', '/v1/mcp-servers', { name: MCP_SERVER, upstream_url: mcp.url, credential: { type: 'bearer', token: mcp.token }, owner: 'agent-owner' });
    mcp.requests.length = 0; // registration lists the tools, with the server's own token
    expect(mcp.violations).toEqual([]);
    await w.h.cp.gateway.app().ready();
    routes = routesOfTree(w.h.cp.gateway.app().printRoutes({ commonPrefix: false }));
  });
  afterEach(() => {
    // Nothing reached the upstream in this file: every call here is uncredentialed or wrongly addressed.
    expect(w.fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([]);
    w.assertUpstreamClean();
    expect(mcp.requests.map((r) => r.method), 'the MCP upstream was reached').toEqual([]);
    expect(mcp.violations).toEqual([]);
  });
  afterAll(async () => {
    await mcp?.close();
    await w?.close();
  });

  it('the listener serves the model routes and nothing this file does not know how to walk', () => {
    for (const r of MODEL_ROUTES) expect(routes).toContain(`${r.method} ${r.url}`);
    expect(routes).toContain('GET /.well-known/oauth-protected-resource');
    const unknown = routes.filter((r) => !caseOf(r));
    expect(unknown, 'a route of the gateway with no case in gateway-routes.test.ts').toEqual([]);
  });

  it('without a credential, no route answers 2xx (but the public metadata) and none forwards', async () => {
    for (const route of routes) {
      const c = caseOf(route)!;
      const res = await send(route, { body: c.body });
      if (c.isPublic) {
        expect(res.status, route).toBe(200);
        continue;
      }
      expect(res.status, `${route}: ${res.text}`).toBe(401);
      if (c.operational) continue;
      expect(res.headers.get('www-authenticate'), route).toMatch(/^Bearer /);
      if (isMcp(route)) {
        expect(res.headers.get('www-authenticate'), route).toContain(`resource_metadata="${mcpMetadataUrl()}"`);
        continue;
      }
      expect(res.headers.get('x-custos-reason'), route).toBe('missing_credential');
      expect(res.headers.get('server-timing'), route).toMatch(/custos;dur=/);
      if (route.startsWith('HEAD')) continue;
      expect(res.headers.get('www-authenticate'), route).toContain(`resource_metadata="${metadataUrl()}"`);
      if (c.anthropic) expect(res.body, route).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: expect.any(String), custos_code: 'missing_credential' } });
      else expect(res.body, route).toEqual({ error: { message: expect.any(String), type: expect.any(String), code: 'missing_credential', param: null } });
    }
  });

  it('a malformed body or a bad path without a credential is never 2xx and never forwarded', async () => {
    for (const route of routes.filter((r) => r.startsWith('POST'))) {
      for (const rawBody of ['', 'not json', '[]', '{"model": 5}', '{"messages": []}']) {
        const res = await send(route, { rawBody });
        expect(res.status, `${route} ${rawBody}`).toBeGreaterThanOrEqual(400);
      }
    }
    for (const path of ['/v1/chat/completions/', '/V1/chat/completions', '/v1//chat/completions', '/v1/chat%2Fcompletions', '/v1/chat/completions/../completions', '/chat/completions', '/v1/completions', '/v1/messages/batches', '/v1/files', '/v1/models/chat-gpt']) {
      for (const method of ['GET', 'POST']) {
        const res = await send(`${method} ${path}`, { body: CHAT });
        expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      }
    }
    const unknown = await send('POST /v1/completions', { body: CHAT });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-custos-reason')).toBe('route_not_found');
    expect(unknown.body).toMatchObject({ error: { code: 'route_not_found' } });
    // A query string does not make a governed route ungoverned.
    expect((await send('POST /v1/chat/completions?api-version=2024-10-21', { body: CHAT })).status).toBe(401);
  });

  it('a token issued for the control plane (no resource parameter) is refused on every governed route, with the route\'s challenge', async () => {
    const cpToken = await w.accessToken({ resource: null });
    // It is a good token, for the control plane: the management API's own introspection-free check accepts its audience.
    const claims = JSON.parse(Buffer.from(cpToken.split('.')[1]!, 'base64url').toString());
    expect(claims.aud === w.cpUrl || (Array.isArray(claims.aud) && claims.aud.includes(w.cpUrl))).toBe(true);
    const gwToken = await w.accessToken();
    const gwClaims = JSON.parse(Buffer.from(gwToken.split('.')[1]!, 'base64url').toString());
    expect(gwClaims.aud === w.gatewayUrl || (Array.isArray(gwClaims.aud) && gwClaims.aud.includes(w.gatewayUrl))).toBe(true);

    const mgmtKey = (await w.apiKey({ audience: [w.cpUrl] })).key;
    for (const route of routes) {
      const c = caseOf(route)!;
      if (c.isPublic || c.operational) continue;
      if (isMcp(route)) {
        // An MCP endpoint is its own resource: neither a control-plane token nor one for the model API will do.
        for (const [label, headers] of [
          ['control-plane token', { authorization: `Bearer ${cpToken}` }],
          ['model-gateway token', { authorization: `Bearer ${gwToken}` }],
          ['operator token', { authorization: `Bearer ${w.h.adminToken}` }],
          ['API key for the management API', { authorization: `Bearer ${mgmtKey}` }],
        ] as const) {
          const res = await send(route, { body: c.body, headers });
          expect(res.status, `${route} with ${label}: ${res.text}`).toBe(401);
          if (route.startsWith('HEAD')) continue;
          expect(res.headers.get('www-authenticate'), `${route} with ${label}`).toContain(`resource_metadata="${mcpMetadataUrl()}"`);
        }
        continue;
      }
      for (const [label, headers] of [
        ['control-plane token as Bearer', { authorization: `Bearer ${cpToken}` }],
        ['control-plane token as x-api-key', { 'x-api-key': cpToken }],
        ['operator token', { authorization: `Bearer ${w.h.adminToken}` }],
        ['API key for the management API', { authorization: `Bearer ${mgmtKey}` }],
        ['garbage', { authorization: 'Bearer not-a-credential' }],
        ['two different credentials', { authorization: `Bearer ${gwToken}`, 'x-api-key': cpToken }],
        ['a scheme that is not Bearer or DPoP', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
      ] as const) {
        const res = await send(route, { body: c.body, headers });
        expect(res.status, `${route} with ${label}: ${res.text}`).toBe(401);
        expect(res.headers.get('x-custos-reason'), `${route} with ${label}`).toBe('invalid_token');
        if (route.startsWith('HEAD')) continue;
        const challenge = res.headers.get('www-authenticate') ?? '';
        expect(challenge, `${route} with ${label}`).toMatch(/^Bearer /);
        expect(challenge, `${route} with ${label}`).toContain(`resource_metadata="${metadataUrl()}"`);
        expect(challenge, `${route} with ${label}`).toContain('error="invalid_token"');
        const code = c.anthropic ? res.body?.error?.custos_code : res.body?.error?.code;
        expect(code, `${route} with ${label}`).toBe('invalid_token');
      }
    }
  });

  it('the metadata document names the gateway as the resource and the control plane as its authorization server', async () => {
    const res = await send('GET /.well-known/oauth-protected-resource');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ resource: w.gatewayUrl, authorization_servers: [w.cpUrl], bearer_methods_supported: ['header'] });
    expect(res.text).not.toMatch(/custos_|sk-/);
  });

  it('/metrics needs an operator credential: not a gateway token, not nothing', async () => {
    const gwToken = await w.accessToken();
    expect((await send('GET /metrics')).status).toBe(401);
    expect((await send('GET /metrics', { headers: { authorization: `Bearer ${gwToken}` } })).status).toBe(401);
    const ok = await send('GET /metrics', { headers: { authorization: `Bearer ${w.h.adminToken}` } });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('# TYPE');
    expect(ok.text).not.toContain(w.fake.keys.openai);
  });
});
