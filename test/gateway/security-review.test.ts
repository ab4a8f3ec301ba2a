import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayWorld, worldPolicy, type GatewayWorld } from '../support/gateway-world.js';
import { eventsSince, lastSeq } from '../identity/store-probe.js';
import { createAgent, type TestAgent } from '../support/oauth.js';

// A security reviewer's regression tests for the gateway (model API and MCP), from outside over plain HTTP, for
// what docs/gateway.md, the MCP proxy's rules (src/gateway/mcp/proxy.ts) and SECURITY-TESTS.md "Gateway" promise
// and the other gateway tests do not cover yet:
// - budgets are never under-counted: a call that asks for `n` choices reserves what it can really use; a client
//   that goes away (before the headers, or mid-stream after reading the text) is charged what the upstream may have
//   done, not nothing or one token;
// - a tool the caller may not call never leaks through an MCP answer the filter did not see: a resumed GET stream
//   (Last-Event-ID), a request id the filter cannot match, an answer shape it cannot read;
// - an MCP refusal after authentication (a stolen session) is recorded before it is answered;
// - tokens of one MCP endpoint are refused at another and at the model API; an API key for an MCP endpoint can be
//   issued without deadlocking the store (placed last: when it fails, the store's one SQLite connection stays held).
// The MCP upstream here is a raw HTTP server (not the SDK) so that it can do what the Streamable HTTP transport
// allows a server to do (replay events on resumption, answer in a batch array) and what a sloppy one does (echo any
// id). SQLite only: the store is not under test.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------
// A raw Streamable HTTP MCP server: tools `echo` and `secret_tool`, its own bearer token, and switchable answers.

type ListMode = 'json' | 'sse' | 'json-array';

interface RawMcp {
  url: string;
  token: string;
  /** How the next tools/list requests from clients (not the gateway's own registration session) are answered. */
  mode: ListMode;
  close(): Promise<void>;
}

const RAW_TOOLS = [
  { name: 'echo', description: 'Repeats the text', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } },
  { name: 'secret_tool', description: 'Nobody may even see this one', inputSchema: { type: 'object', properties: {} } },
];

async function startRawMcp(): Promise<RawMcp> {
  const token = `raw-upstream-${Math.random().toString(36).slice(2)}`;
  // Events of each session's POST streams, in order, for replay on a GET with Last-Event-ID.
  const events = new Map<string, Array<{ id: string; data: string }>>();
  // Sessions opened by the tests' clients (through the gateway), as opposed to the gateway's own (registration).
  const clientSessions = new Set<string>();
  let sessions = 0;
  let eventSeq = 0;
  const state: RawMcp = { url: '', token, mode: 'json', close: async () => undefined };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.headers.authorization !== `Bearer ${token}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
        return;
      }
      const sid = typeof req.headers['mcp-session-id'] === 'string' ? req.headers['mcp-session-id'] : undefined;
      if (req.method === 'DELETE') { res.writeHead(200).end(); return; }
      if (req.method === 'GET') {
        // Resumption (Streamable HTTP): replay what followed the last event the client saw, on this stream.
        const last = req.headers['last-event-id'];
        const log = (sid && events.get(sid)) || [];
        const from = log.findIndex((e) => e.id === last);
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        for (const e of from >= 0 ? log.slice(from + 1) : []) res.write(`id: ${e.id}\ndata: ${e.data}\n\n`);
        res.end();
        return;
      }
      let msg: any;
      try { msg = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { res.writeHead(400).end(); return; }
      if (msg.method === 'initialize') {
        const id = `sess-${++sessions}`;
        events.set(id, []);
        if (msg.params?.clientInfo?.name === 'review') clientSessions.add(id);
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': id });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { protocolVersion: '2025-11-25', capabilities: { tools: { listChanged: true } }, serverInfo: { name: 'raw', version: '1' } } }));
        return;
      }
      if (msg.id === undefined) { res.writeHead(202).end(); return; }
      if (msg.method === 'tools/list') {
        const answer = { jsonrpc: '2.0', id: msg.id, result: { tools: RAW_TOOLS } };
        const mode: ListMode = sid && clientSessions.has(sid) ? state.mode : 'json';
        if (mode === 'sse') {
          const log = (sid && events.get(sid)) || [];
          const priming = { id: `ev-${++eventSeq}`, data: '' };
          const reply = { id: `ev-${++eventSeq}`, data: JSON.stringify(answer) };
          log.push(priming, reply);
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          res.write(`id: ${priming.id}\ndata: \n\n`);
          res.end(`id: ${reply.id}\ndata: ${reply.data}\n\n`);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(mode === 'json-array' ? [answer] : answer));
        return;
      }
      if (msg.method === 'tools/call') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text: `ran ${msg.params?.name}` }] } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: {} }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  state.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}

// ---------------------------------------------------------------------------------------------------------------

const MCP_POLICY = `
@id("review-raw-echo")
permit (principal == Custos::Agent::"mcp-review-agent", action == Custos::Action::"call_tool", resource == Custos::Tool::"raw-echo");
`;

describe('gateway security review', () => {
  let w: GatewayWorld;
  let raw: RawMcp;
  let mcpAgent: TestAgent;
  let narrowAgent: TestAgent;

  const post = (path: string, body: unknown, credential: string, init: { signal?: AbortSignal; headers?: Record<string, string> } = {}) => fetch(`${w.gatewayUrl}${path}`, {
    method: 'POST', body: JSON.stringify(body), signal: init.signal,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}`, ...init.headers },
  });

  async function rpc(token: string, body: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${w.gatewayUrl}/mcp/raw`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  const ping = (server: string, headers: Record<string, string>) => fetch(`${w.gatewayUrl}/mcp/${server}`, {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  }).then(async (r) => ({ status: r.status, headers: r.headers, text: await r.text() }));

  async function mcpSession(token: string): Promise<string> {
    const init = await rpc(token, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'review', version: '1' } } });
    expect(init.status, init.text).toBe(200);
    const sid = init.headers.get('mcp-session-id');
    expect(sid).toBeTruthy();
    return sid!;
  }

  /** A budget-holding agent with its own API key for the gateway (agents named sdk-* may invoke the world's models). */
  async function budgetAgent(name: string, limits: Record<string, number>): Promise<string> {
    await w.newAgent(name);
    const key = (await w.apiKey({ principal: name })).key;
    await w.admin('PUT', `/v1/limits/principal/${name}`, { ...limits, reason: 'security review' });
    return key;
  }

  beforeAll(async () => {
    w = await startGatewayWorld('sqlite', { policy: `${worldPolicy()}\n${MCP_POLICY}` });
    raw = await startRawMcp();
    await w.admin('POST', '/v1/principals', { name: 'mcp-review-owner', kind: 'human' });
    await w.admin('POST', '/v1/mcp-servers', { name: 'raw', upstream_url: raw.url, credential: { type: 'bearer', token: raw.token }, owner: 'mcp-review-owner' });
    mcpAgent = await createAgent(w.h, 'mcp-review-agent', { scopes: ['mcp:tools', 'mcp:resources', 'mcp:prompts'] });
    narrowAgent = await createAgent(w.h, 'mcp-review-narrow', { scopes: ['mcp:tools'] });
  });
  afterEach(() => {
    w.fake.defaults({});
    w.assertUpstreamClean();
    raw.mode = 'json';
  });
  afterAll(async () => {
    await raw?.close();
    // Bounded: a deadlocked store (the last test's finding) never lets close() finish.
    await Promise.race([w?.close(), sleep(10_000)]);
  });

  // ----- budgets -------------------------------------------------------------------------------------------------

  it('a chat completion asking for n choices reserves n times its output maximum: a burst overruns a budget by at most one call', async () => {
    const budget = 1_000;
    const key = await budgetAgent('sdk-review-n', { tokens_per_day: budget });
    // What the provider does with `n`: n choices, each up to max_tokens, all charged (OpenAI API reference).
    const n = 8;
    const maxTokens = 100;
    const body = { model: 'chat-gpt', messages: [{ role: 'user', content: 'hi' }], max_tokens: maxTokens, n };
    const oneCallMax = n * maxTokens + Buffer.byteLength(JSON.stringify(body));
    w.fake.defaults({ delayMs: 150, usage: { input: 12, output: n * maxTokens } });
    const results = await Promise.all(Array.from({ length: 6 }, async () => {
      const r = await post('/v1/chat/completions', body, key);
      const b = (await r.json()) as { usage?: { prompt_tokens: number; completion_tokens: number } };
      return r.status === 200 && b.usage ? b.usage.prompt_tokens + b.usage.completion_tokens : 0;
    }));
    const used = results.reduce((a, v) => a + v, 0);
    expect(results.filter((v) => v > 0).length).toBeGreaterThan(0);
    expect(used, `served ${results.filter((v) => v > 0).length} calls of ${n} choices`).toBeLessThanOrEqual(budget + oneCallMax);
  });

  it('an Anthropic stream the client leaves after reading the text (before message_delta) is charged its maximum, not input + 1', async () => {
    const maxTokens = 1_000;
    // Room for three calls' maxima (1,000 + the body's ~110 bytes each), not four.
    const key = await budgetAgent('sdk-review-anthropic-abort', { tokens_per_day: 3_400 });
    const body = { model: 'claude', max_tokens: maxTokens, stream: true, messages: [{ role: 'user', content: 'tell me everything' }] };
    const agentId = (await w.admin('GET', '/v1/principals/sdk-review-anthropic-abort')).id as string;
    for (let i = 0; i < 3; i++) {
      const from = await w.lastSeq();
      // The provider generates 900 tokens; the gateway's client reads all the text and leaves before the usage event.
      w.fake.next({ chunks: 3, chunkDelayMs: 400, usage: { input: 10, output: 900 }, text: 'the whole answer, in three parts' });
      const abort = new AbortController();
      const res = await post('/v1/messages', body, key, { signal: abort.signal, headers: { 'anthropic-version': '2023-06-01' } });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      while ((text.match(/^event: content_block_delta$/gm) ?? []).length < 3) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      expect(text).not.toContain('message_delta');
      abort.abort();
      await w.waitForAudit('gateway.call_completed', from, (e) => e.actor.principal_id === agentId);
    }
    // Three calls of up to ~1,110 tokens each really ran (2,730 tokens by the provider's count): a fourth does not fit.
    const next = await post('/v1/messages', { ...body, stream: false }, key, { headers: { 'anthropic-version': '2023-06-01' } });
    expect(next.status, 'three streams the client cut short were charged 11 tokens each').toBe(429);
    expect(((await next.json()) as { error: { custos_code: string } }).error.custos_code).toBe('budget_exhausted');
  });

  it('a call the client abandons after the upstream received it still counts against a request limit', async () => {
    const key = await budgetAgent('sdk-review-abandon', { requests_per_minute: 2 });
    const agentId = (await w.admin('GET', '/v1/principals/sdk-review-abandon')).id as string;
    const body = { model: 'chat-gpt', messages: [{ role: 'user', content: 'a long job' }] };
    for (let i = 0; i < 2; i++) {
      const from = await w.lastSeq();
      const n = w.fake.requests.length;
      w.fake.next({ delayMs: 600 });
      const abort = new AbortController();
      const pending = post('/v1/chat/completions', body, key, { signal: abort.signal }).catch(() => undefined);
      // The upstream has the request (and is working on it, and will bill for it) when the client goes away.
      await w.fake.waitForRequest((r) => w.fake.requests.indexOf(r) >= n);
      abort.abort();
      await pending;
      await w.waitForAudit('gateway.call_completed', from, (e) => e.actor.principal_id === agentId);
    }
    const next = await post('/v1/chat/completions', body, key);
    expect(next.status, 'two calls the upstream received were given back as if never made').toBe(429);
    await next.text();
  });

  // ----- MCP: what the tool filter does not see ----------------------------------------------------------------

  it('MCP: a GET stream resumed with Last-Event-ID never replays an unfiltered tools/list answer', async () => {
    const token = await w.accessToken({ agent: mcpAgent, resource: `${w.gatewayUrl}/mcp/raw` });
    const sid = await mcpSession(token);
    raw.mode = 'sse';
    const listed = await rpc(token, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    expect(listed.status).toBe(200);
    expect(listed.text).toContain('"echo"');
    expect(listed.text).not.toContain('secret_tool');
    const priming = /^id: (\S+)$/m.exec(listed.text)?.[1];
    expect(priming, listed.text).toBeTruthy();
    // The client "lost" the stream after the priming event and resumes it, as the transport allows.
    const resumed = await fetch(`${w.gatewayUrl}/mcp/raw`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${token}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25', 'last-event-id': priming! },
      signal: AbortSignal.timeout(5_000),
    });
    const replay = await resumed.text();
    expect(replay, 'the denied tool came back on the resumed stream').not.toContain('secret_tool');
  });

  it('MCP: a tools/list whose JSON-RPC id is not a string or number is refused or filtered, never passed through', async () => {
    const token = await w.accessToken({ agent: mcpAgent, resource: `${w.gatewayUrl}/mcp/raw` });
    const sid = await mcpSession(token);
    raw.mode = 'sse';
    const listed = await rpc(token, { jsonrpc: '2.0', id: { n: 2 }, method: 'tools/list' }, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    expect(listed.text, 'an object id did not match the filter, so the whole list went back').not.toContain('secret_tool');
  });

  it('MCP: a tools/list answer the filter cannot read (a batch array) is not passed through', async () => {
    const token = await w.accessToken({ agent: mcpAgent, resource: `${w.gatewayUrl}/mcp/raw` });
    const sid = await mcpSession(token);
    raw.mode = 'json-array';
    const listed = await rpc(token, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    expect(listed.text, 'an answer in a batch array skipped the filter').not.toContain('secret_tool');
  });

  it('MCP: the filtered list and a denied call hold on the raw transport (JSON answers)', async () => {
    const token = await w.accessToken({ agent: mcpAgent, resource: `${w.gatewayUrl}/mcp/raw` });
    const sid = await mcpSession(token);
    const h = { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
    const listed = await rpc(token, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, h);
    expect(JSON.parse(listed.text).result.tools.map((t: { name: string }) => t.name)).toEqual(['echo']);
    const denied = await rpc(token, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'secret_tool', arguments: {} } }, h);
    expect(JSON.parse(denied.text).error).toMatchObject({ code: -32003, data: { reason: 'mcp_tool_denied' } });
    // A duplicated key: the gateway decides on what it forwards (JSON.parse keeps the last), so both see one name.
    const dup = await fetch(`${w.gatewayUrl}/mcp/raw`, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`, ...h },
      body: '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","name":"secret_tool","arguments":{}}}',
    });
    expect(JSON.parse(await dup.text()).error).toMatchObject({ data: { reason: 'mcp_tool_denied' } });
  });

  it('MCP: a token for one MCP endpoint is refused at another, and one for the model API at both', async () => {
    await w.admin('POST', '/v1/mcp-servers', { name: 'raw2', upstream_url: raw.url, credential: { type: 'bearer', token: raw.token }, owner: 'mcp-review-owner' });
    const forRaw = await w.accessToken({ agent: mcpAgent, resource: `${w.gatewayUrl}/mcp/raw` });
    const forModels = await w.accessToken({ agent: mcpAgent });
    expect((await ping('raw', { authorization: `Bearer ${forRaw}` })).status).toBe(200);
    const other = await ping('raw2', { authorization: `Bearer ${forRaw}` });
    expect(other.status).toBe(401);
    expect(other.headers.get('www-authenticate')).toContain(`resource_metadata="${w.gatewayUrl}/.well-known/oauth-protected-resource/mcp/raw2"`);
    expect((await ping('raw2', { authorization: `Bearer ${forModels}` })).status).toBe(401);
    // An MCP endpoint's token is not a token for the model API either.
    const chat = await post('/v1/chat/completions', { model: 'chat-gpt', messages: [{ role: 'user', content: 'x' }] }, forRaw);
    expect(chat.status).toBe(401);
    await chat.text();
  });

  // ----- MCP: refusals are recorded ------------------------------------------------------------------------------

  it('MCP: another principal presenting a session id, or a token without the scope, is refused and the refusal is recorded', async () => {
    const mine = await w.accessToken({ agent: mcpAgent, resource: `${w.gatewayUrl}/mcp/raw` });
    const sid = await mcpSession(mine);
    const theirs = await w.accessToken({ agent: narrowAgent, resource: `${w.gatewayUrl}/mcp/raw` });
    const seq = await lastSeq(w.h);
    const stolen = await rpc(theirs, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    expect(stolen.status).toBe(404);
    const events = (await eventsSince(w.h, seq)).filter((e) => e.type.startsWith('mcp.') && e.actor.principal_id === narrowAgent.id);
    expect(events.map((e) => [e.type, e.outcome]), 'a session presented by a principal it is not bound to left no trace').toContainEqual(['mcp.call', 'failure']);
  });

  // ----- last: a failure here leaves the store's one SQLite connection held ------------------------------------

  it('an API key addressed to an MCP endpoint can be issued, and it works there only (the store does not deadlock)', async () => {
    const issued = await Promise.race([
      w.apiKey({ principal: 'mcp-review-agent', audience: [`${w.gatewayUrl}/mcp/raw`] }),
      sleep(5_000).then(() => 'no answer within 5 s' as const),
    ]);
    expect(issued, 'POST /v1/api-keys with an MCP endpoint audience never answered (and every later write waits behind it)').not.toBe('no answer within 5 s');
    const key = (issued as { key: string }).key;
    expect((await ping('raw', { 'x-api-key': key })).status).toBe(200);
    expect((await ping('raw2', { 'x-api-key': key })).status).toBe(401);
    const chat = await post('/v1/chat/completions', { model: 'chat-gpt', messages: [{ role: 'user', content: 'x' }] }, key);
    expect(chat.status).toBe(401);
    await chat.text();
  });
});
