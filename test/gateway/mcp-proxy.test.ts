import crypto from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { PrivateKeyJwtProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import * as mcp2 from '@modelcontextprotocol/client';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/gateway/mcp/mcp.js';
import { activate } from '../support/authz.js';
import { startHarness, type Harness } from '../support/harness.js';
import { startMcpUpstream, type McpUpstream } from '../support/mcp-upstream.js';
import { eventsSince, lastSeq } from '../identity/store-probe.js';

// The MCP gateway end to end with the official MCP TypeScript SDK 1.x client, over real HTTP, in front of an
// SDK-built MCP server (test/support/mcp-upstream.ts) that refuses — and records — anything but its own upstream
// token. The client is given only the gateway's /mcp/<server> URL and its own private key: it discovers the
// authorization server from the 401 (RFC 9728), gets a token by client_credentials with private_key_jwt for that
// resource (RFC 8707), and then works. Real Cedar policies decide: a permitted tool works, a forbidden one is absent
// from the list and refused on call, argument-restricted calls (read-only queries, files under a path) are refused
// with other arguments, resources and prompts are governed, every call is in the audit log with its argument hash.
// SQLite only: the store is not what is under test (the registration routes run on both, mcp-servers.test.ts).

interface Agent { id: string; name: string; privateKey: CryptoKey; privateJwk: JWK }

const POLICY = `
@id("mcp-echo")
permit (principal == Custos::Agent::"mcp-agent", action == Custos::Action::"call_tool", resource == Custos::Tool::"db-echo");

@id("mcp-query-read-only")
permit (principal == Custos::Agent::"mcp-agent", action == Custos::Action::"call_tool", resource == Custos::Tool::"db-query")
when { context.request.getTag("method") == "tools/list" ||
       (context.request.hasTag("arguments.read_only") && context.request.getTag("arguments.read_only") == "true") };

@id("mcp-read-public-files")
permit (principal == Custos::Agent::"mcp-agent", action == Custos::Action::"call_tool", resource == Custos::Tool::"db-read-file")
when { context.request.getTag("method") == "tools/list" ||
       (context.request.hasTag("arguments.path") && context.request.getTag("arguments.path") like "/srv/public/*"
        && !(context.request.getTag("arguments.path") like "*..*")) };

@id("mcp-public-resources")
permit (principal == Custos::Agent::"mcp-agent", action == Custos::Action::"read", resource == Custos::Endpoint::"mcp-db")
when { context.request.getTag("method") == "resources/list" ||
       (context.request.hasTag("uri") && context.request.getTag("uri") like "file:///public/*") };
`;

async function caught(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('the MCP gateway with the MCP SDK 1.x client', () => {
  let h: Harness;
  let up: McpUpstream;
  let gw: string;
  let issuer: string;
  let agent: Agent;
  let narrow: Agent;
  const clients: Client[] = [];

  async function makeAgent(name: string, scopes: string[]): Promise<Agent> {
    const p = await h.call('POST', '/v1/principals', { name, kind: 'agent', owner: 'mcp-owner', status: 'active', scopes, purposes: ['support'] });
    if (p.status !== 201) throw new Error(p.text);
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const kid = `${name}-1`;
    const k = await h.call('POST', '/v1/client-keys', { principal: name, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA' } });
    if (k.status !== 201) throw new Error(k.text);
    return { id: p.body.id, name, privateKey, privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA' } };
  }

  /** A token by hand (client_credentials, private_key_jwt) for any resource indicator. */
  async function tokenFor(a: Agent, resource: string, scope?: string): Promise<{ status: number; body: any }> {
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ jti: crypto.randomUUID() }).setProtectedHeader({ alg: 'EdDSA', kid: a.privateJwk.kid! })
      .setIssuer(a.id).setSubject(a.id).setAudience(issuer).setIssuedAt(now).setExpirationTime(now + 60).sign(a.privateKey);
    const form = new URLSearchParams({
      grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion, resource,
      ...(scope ? { scope } : {}),
    });
    const res = await fetch(`${issuer}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    return { status: res.status, body: await res.json() };
  }

  async function rpc(token: string | undefined, body: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${gw}/mcp/db`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, body: json };
  }

  async function connect(a: Agent): Promise<Client> {
    const provider = new PrivateKeyJwtProvider({ clientId: a.id, privateKey: a.privateJwk as Record<string, unknown>, algorithm: 'EdDSA', expectedIssuer: issuer });
    const client = new Client({ name: 'custos-mcp-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gw}/mcp/db`), { authProvider: provider }));
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    h = await startHarness('sqlite');
    await h.cp.listen();
    gw = h.cp.gatewayUrl();
    issuer = h.cp.issuer();
    up = await startMcpUpstream();
    expect((await h.call('POST', '/v1/principals', { name: 'mcp-owner', kind: 'human' })).status).toBe(201);
    const created = await h.call('POST', '/v1/mcp-servers', { name: 'db', upstream_url: up.url, credential: { type: 'bearer', token: up.token }, owner: 'mcp-owner' });
    expect(created.status, created.text).toBe(201);
    agent = await makeAgent('mcp-agent', ['mcp:tools', 'mcp:resources', 'mcp:prompts']);
    narrow = await makeAgent('mcp-narrow', ['mcp:tools']);
    await activate(h, POLICY);
  });
  afterEach(() => expect(up.violations).toEqual([]));
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await up?.close();
    await h?.close();
  });

  it('the 401 names the protected-resource metadata, which names the issuer; registration made every tool a resource', async () => {
    const r = await rpc(undefined, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${gw}/.well-known/oauth-protected-resource/mcp/db", scope="mcp:tools mcp:resources mcp:prompts"`);
    const prm = await (await fetch(`${gw}/.well-known/oauth-protected-resource/mcp/db`)).json();
    expect(prm).toMatchObject({ resource: `${gw}/mcp/db`, authorization_servers: [issuer], scopes_supported: ['mcp:tools', 'mcp:resources', 'mcp:prompts'] });
    expect((await fetch(`${gw}/.well-known/oauth-protected-resource/mcp/nope`)).status).toBe(404);
    for (const [name, tool] of [['db-echo', 'echo'], ['db-query', 'query'], ['db-read-file', 'read_file'], ['db-delete-everything', 'delete_everything']]) {
      const res = await h.call('GET', `/v1/resources/${name}`);
      expect(res.status, name).toBe(200);
      expect(res.body).toMatchObject({ kind: 'tool', owner: { name: 'mcp-owner' }, parent: { name: 'mcp-db' }, labels: { 'mcp-server': 'db', 'mcp-tool': tool } });
    }
    expect((await h.call('GET', '/v1/resources/mcp-db')).body).toMatchObject({ kind: 'endpoint', owner: { name: 'mcp-owner' }, labels: { 'mcp-server': 'db' } });
  });

  it('the SDK discovers the issuer from the 401, gets a token for the endpoint, and sees only the tools it may call', async () => {
    const seq = await lastSeq(h);
    const client = await connect(agent);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['echo', 'query', 'read_file']);
    const listed = (await eventsSince(h, seq)).filter((e) => e.type === 'mcp.tools_listed');
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ actor: { principal_name: 'mcp-agent' }, details: { server: 'db', method: 'tools/list', hidden: 1 } });
    expect([...listed[0]!.details.shown].sort()).toEqual(['echo', 'query', 'read_file']);
  });

  it('a permitted tool works; the upstream gets its own token; the call and its answer are audited with the argument hash', async () => {
    const client = await connect(agent);
    const seq = await lastSeq(h);
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
    expect(result.content).toEqual([{ type: 'text', text: 'echo: hello' }]);
    const seen = up.requests.filter((r) => r.method === 'tools/call' && r.tool === 'echo');
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)!.headers.authorization).toBe(`Bearer ${up.token}`);
    const events = await eventsSince(h, seq);
    const types = events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['authz.decision', 'mcp.call', 'mcp.call_completed']));
    const call = events.find((e) => e.type === 'mcp.call')!;
    expect(call).toMatchObject({
      actor: { principal_name: 'mcp-agent' }, target: { type: 'resource', name: 'db-echo' },
      details: { server: 'db', method: 'tools/call', tool: 'echo', outcome: 'allowed', arguments_sha256: crypto.createHash('sha256').update(canonicalJson({ text: 'hello' })).digest('hex') },
    });
    const decision = events.find((e) => e.type === 'authz.decision')!;
    expect(call.details.decision_event).toBeTruthy();
    expect(decision.seq).toBeLessThan(call.seq);
    const done = events.find((e) => e.type === 'mcp.call_completed')!;
    expect(done.details).toMatchObject({ tool: 'echo', outcome: 'completed', is_error: false });
    expect(typeof done.details.latency_ms).toBe('number');
    // No event holds the argument text: the gateway's carry its hash, and the decision event keeps only a digest of
    // what was asserted (tool arguments can carry anything: SQL, file contents, personal data).
    expect(JSON.stringify(events)).not.toContain('hello');
    expect(decision.details.request.asserted).toBeUndefined();
    expect(decision.details.request.asserted_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a forbidden tool is refused on call with a stable reason, and never reaches the upstream', async () => {
    const client = await connect(agent);
    const seq = await lastSeq(h);
    const error = await caught(client.callTool({ name: 'delete_everything', arguments: {} }));
    expect(error.code).toBe(-32003);
    expect(error.data).toMatchObject({ reason: 'mcp_tool_denied', decision: 'no_permit' });
    expect(up.requests.some((r) => r.tool === 'delete_everything')).toBe(false);
    const call = (await eventsSince(h, seq)).find((e) => e.type === 'mcp.call')!;
    expect(call).toMatchObject({ outcome: 'failure', details: { tool: 'delete_everything', outcome: 'denied' } });
    const unknown = await caught(client.callTool({ name: 'no_such_tool', arguments: {} }));
    expect(unknown.code).toBe(-32602);
    expect(unknown.data).toMatchObject({ reason: 'mcp_unknown_tool' });
  });

  it('argument-restricted calls: a read-only query and a file under /srv/public pass; other arguments are refused', async () => {
    const client = await connect(agent);
    expect((await client.callTool({ name: 'query', arguments: { sql: 'select 1', read_only: true } })).content).toEqual([{ type: 'text', text: 'ran read-only: select 1' }]);
    const write = await caught(client.callTool({ name: 'query', arguments: { sql: 'drop table t', read_only: false } }));
    expect(write.data).toMatchObject({ reason: 'mcp_tool_denied' });
    expect((await client.callTool({ name: 'read_file', arguments: { path: '/srv/public/a.txt' } })).content).toEqual([{ type: 'text', text: 'contents of /srv/public/a.txt' }]);
    for (const path of ['/etc/passwd', '/srv/public/../../etc/passwd', '/srv/private/x']) {
      const denied = await caught(client.callTool({ name: 'read_file', arguments: { path } }));
      expect(denied.data, path).toMatchObject({ reason: 'mcp_tool_denied' });
    }
    expect(up.requests.some((r) => r.tool === 'query' && (r.arguments as { read_only?: boolean }).read_only === false)).toBe(false);
    expect(up.requests.some((r) => r.tool === 'read_file' && String((r.arguments as { path?: string }).path).includes('etc'))).toBe(false);
  });

  it('resources and prompts are governed: public resources read, prompts refused (no policy allows them)', async () => {
    const client = await connect(agent);
    expect((await client.listResources()).resources.map((r) => r.uri)).toEqual(['file:///public/readme.txt']);
    expect((await client.readResource({ uri: 'file:///public/readme.txt' })).contents).toEqual([{ uri: 'file:///public/readme.txt', text: 'the public readme' }]);
    const secret = await caught(client.readResource({ uri: 'file:///private/keys.txt' }));
    expect(secret.data).toMatchObject({ reason: 'mcp_access_denied' });
    const prompts = await caught(client.listPrompts());
    expect(prompts.data).toMatchObject({ reason: 'mcp_access_denied' });
    const prompt = await caught(client.getPrompt({ name: 'greeting', arguments: { name: 'ann' } }));
    expect(prompt.data).toMatchObject({ reason: 'mcp_access_denied' });
    expect(up.requests.some((r) => r.method.startsWith('prompts/'))).toBe(false);
  });

  it('a token for the model gateway (or none of this endpoint) is refused; the upstream never sees a Custos credential', async () => {
    const forModels = await tokenFor(agent, gw);
    expect(forModels.status).toBe(200);
    const r = await rpc(forModels.body.access_token, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    const forApi = await tokenFor(agent, issuer);
    expect((await rpc(forApi.body.access_token, { jsonrpc: '2.0', id: 1, method: 'ping' })).status).toBe(401);
    expect((await rpc(h.adminToken, { jsonrpc: '2.0', id: 1, method: 'ping' })).status).toBe(401);
    for (const req of up.requests) expect(JSON.stringify(req.headers)).not.toMatch(/custos_|eyJ/);
  });

  it('403 insufficient_scope names the scope a method needs', async () => {
    const t = await tokenFor(narrow, `${gw}/mcp/db`);
    expect(t.status, JSON.stringify(t.body)).toBe(200);
    const r = await rpc(t.body.access_token, { jsonrpc: '2.0', id: 3, method: 'prompts/list' });
    expect(r.status).toBe(403);
    expect(r.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
    expect(r.headers.get('www-authenticate')).toMatch(/scope="mcp:prompts"/);
    expect(r.body.error).toMatchObject({ code: -32003, data: { reason: 'insufficient_scope', scopes: ['mcp:prompts'] } });
  });

  it('a session is bound to its principal: another principal presenting it is told the session does not exist', async () => {
    const mine = await tokenFor(agent, `${gw}/mcp/db`);
    const init = await rpc(mine.body.access_token, {
      jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    expect(init.status).toBe(200);
    const sid = init.headers.get('mcp-session-id')!;
    expect(sid).toMatch(/\./);
    const theirs = await tokenFor(narrow, `${gw}/mcp/db`);
    const stolen = await rpc(theirs.body.access_token, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    expect(stolen.status).toBe(404);
    expect(stolen.body.error.data.reason).toBe('mcp_session_not_found');
    const forged = await rpc(mine.body.access_token, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'mcp-session-id': sid.split('.')[0]!, 'mcp-protocol-version': '2025-11-25' });
    expect(forged.status).toBe(404);
  });

  it('methods outside the table and batches are refused before the upstream sees them', async () => {
    const t = await tokenFor(agent, `${gw}/mcp/db`);
    const before = up.requests.length;
    const unknown = await rpc(t.body.access_token, { jsonrpc: '2.0', id: 9, method: 'tasks/list' });
    expect(unknown.body.error).toMatchObject({ code: -32601, data: { reason: 'mcp_method_not_served' } });
    const batch = await rpc(t.body.access_token, [{ jsonrpc: '2.0', id: 1, method: 'ping' }]);
    expect(batch.status).toBe(400);
    expect(batch.body.error.data.reason).toBe('mcp_batch_not_supported');
    expect(up.requests.length).toBe(before);
  });

  it('the MCP client 2.x: the same discovery and token, the same filtered list, the same refusals', async () => {
    const provider = new mcp2.PrivateKeyJwtProvider({ clientId: agent.id, privateKey: agent.privateJwk as Record<string, unknown>, algorithm: 'EdDSA', expectedIssuer: issuer });
    const client = new mcp2.Client({ name: 'custos-mcp-test-2', version: '2.0.0' });
    await client.connect(new mcp2.StreamableHTTPClientTransport(new URL(`${gw}/mcp/db`), { authProvider: provider }));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['echo', 'query', 'read_file']);
      expect((await client.callTool({ name: 'echo', arguments: { text: 'two' } })).content).toEqual([{ type: 'text', text: 'echo: two' }]);
      const denied = await caught(client.callTool({ name: 'delete_everything', arguments: {} }));
      expect(denied.code).toBe(-32003);
      expect(denied.data).toMatchObject({ reason: 'mcp_tool_denied' });
      const restricted = await caught(client.callTool({ name: 'query', arguments: { sql: 'delete from t', read_only: false } }));
      expect(restricted.data).toMatchObject({ reason: 'mcp_tool_denied' });
      expect(up.requests.some((r) => r.tool === 'delete_everything')).toBe(false);
    } finally {
      await client.close();
    }
  });

  it('a tool the upstream starts listing becomes a tool resource at once, still denied by default', async () => {
    const client = await connect(agent);
    const seq = await lastSeq(h);
    up.addTool('new_tool');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).not.toContain('new_tool');
    const resource = await h.call('GET', '/v1/resources/db-new-tool');
    expect(resource.status).toBe(200);
    expect(resource.body).toMatchObject({ kind: 'tool', labels: { 'mcp-server': 'db', 'mcp-tool': 'new_tool' }, owner: { name: 'mcp-owner' } });
    const events = await eventsSince(h, seq);
    expect(events.find((e) => e.type === 'resource.created' && e.target?.name === 'db-new-tool')).toBeTruthy();
    const synced = events.filter((e) => e.type === 'mcp_server.refreshed');
    expect(synced.length).toBeGreaterThanOrEqual(1);
    expect(synced.flatMap((e) => e.details.added)).toContain('new_tool');
    const denied = await caught(client.callTool({ name: 'new_tool', arguments: {} }));
    expect(denied.data).toMatchObject({ reason: 'mcp_tool_denied' });
  });
});
