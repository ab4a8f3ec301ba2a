import { describe, expect, it } from 'vitest';
import { governanceOf, requestContext, scopeAllows } from './governance.js';
import { canonicalJson, credentialProblem, credentialContext, isServableToolName, safeText, serverNameProblem, toolResourceName } from './mcp.js';
import { sseEvents, sseText } from './upstream.js';

describe('MCP registration rules', () => {
  it('server names are DNS labels of at most 32 characters', () => {
    for (const ok of ['db', 'files-1', 'a'.repeat(32)]) expect(serverNameProblem(ok), ok).toBeUndefined();
    for (const bad of ['', 'Db', '-db', 'db-', 'a'.repeat(33), 'd_b', 'd.b']) expect(serverNameProblem(bad), bad).toMatch(/DNS label/);
  });

  it('credentials: bearer tokens without spaces, headers the gateway does not set itself, never naming the secret', () => {
    expect(credentialProblem({ type: 'bearer', token: 'abcdefgh' })).toBeUndefined();
    expect(credentialProblem({ type: 'bearer', token: 'secret 12345' })).toBe('credential.token must be printable ASCII without spaces');
    expect(credentialProblem({ type: 'bearer', token: 'short' })).toMatch(/8-4096/);
    expect(credentialProblem({ type: 'header', name: 'X-API-Key', value: 'Token abc' })).toBeUndefined();
    for (const name of ['Host', 'content-length', 'Mcp-Session-Id', 'MCP-Protocol-Version', 'Transfer-Encoding']) {
      expect(credentialProblem({ type: 'header', name, value: 'x' }), name).toMatch(/sets itself/);
    }
    expect(credentialProblem({ type: 'header', name: 'x key', value: 'x' })).toMatch(/header name/);
    const split = credentialProblem({ type: 'header', name: 'x-key', value: 'top-secret\r\nX-Evil: 1' });
    expect(split).toMatch(/line breaks/);
    expect(split).not.toContain('top-secret');
    expect(credentialContext('id-1')).toBe('mcp-upstream-credential:id-1');
  });
});

describe('tool resource names', () => {
  it('are <server>-<tool>, sanitised to a DNS label', () => {
    expect(toolResourceName('db', 'query')).toBe('db-query');
    expect(toolResourceName('fs', 'read_file')).toBe('fs-read-file');
    expect(toolResourceName('fs', 'Files.Read/All')).toBe('fs-files-read-all');
  });
  it('a second choice, and anything lossy or too long, ends in a hash of the tool name: stable and within 63', () => {
    const alt = toolResourceName('fs', 'read_file', true);
    expect(alt).toMatch(/^fs-read-file-[0-9a-f]{6}$/);
    expect(toolResourceName('fs', 'read_file', true)).toBe(alt);
    expect(toolResourceName('fs', 'read-file', true)).not.toBe(alt);
    const long = toolResourceName('a'.repeat(32), 'x'.repeat(128));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^a{32}-x+-[0-9a-f]{6}$/);
    expect(toolResourceName('db', '___')).toMatch(/^db-[0-9a-f]{6}$/);
  });
  it('only names in the MCP tool naming rule are served', () => {
    for (const ok of ['query', 'read_file', 'a.b-c/d', 'x'.repeat(128)]) expect(isServableToolName(ok), ok).toBe(true);
    for (const bad of ['', 'has space', 'x'.repeat(129), 'naïve', 'a\nb', 3, null]) expect(isServableToolName(bad), String(bad)).toBe(false);
  });
  it('upstream text loses control and bidi characters and is bounded', () => {
    expect(safeText('plain\u202Etext\u0007', 100)).toBe('plaintext');
    expect(safeText('x'.repeat(50), 10)).toBe('x'.repeat(10));
    expect(safeText('  ', 10)).toBeUndefined();
    expect(safeText(5, 10)).toBeUndefined();
  });
});

describe('governance table', () => {
  it('every method has a rule; unknown methods, tasks and malformed messages are refused', () => {
    expect(governanceOf({ method: 'initialize' })).toEqual({ kind: 'pass', audited: true });
    expect(governanceOf({ method: 'notifications/initialized' })).toEqual({ kind: 'pass', audited: false });
    expect(governanceOf({ id: 1, result: {} })).toEqual({ kind: 'answer' });
    expect(governanceOf({ method: 'tools/list' }).kind).toBe('tools_list');
    expect(governanceOf({ method: 'tools/call' }).kind).toBe('tools_call');
    expect(governanceOf({ method: 'resources/read' })).toEqual({ kind: 'server_read', scope: 'mcp:resources' });
    expect(governanceOf({ method: 'prompts/get' })).toEqual({ kind: 'server_read', scope: 'mcp:prompts' });
    expect(governanceOf({ method: 'completion/complete', params: { ref: { type: 'ref/resource' } } })).toEqual({ kind: 'server_read', scope: 'mcp:resources' });
    for (const method of ['tasks/get', 'tasks/result', 'sampling/createMessage', 'x/y']) expect(governanceOf({ method }).kind, method).toBe('refuse');
    expect(governanceOf({ id: 1 }).kind).toBe('refuse');
  });
  it('scopes: each kind needs its own; a token without scopes gets nothing', () => {
    expect(scopeAllows(['mcp:tools'], governanceOf({ method: 'tools/call' }))).toBe(true);
    expect(scopeAllows(['mcp:tools'], governanceOf({ method: 'prompts/list' }))).toBe(false);
    expect(scopeAllows(['mcp:prompts'], governanceOf({ method: 'ping' }))).toBe(true);
    expect(scopeAllows([], governanceOf({ method: 'ping' }))).toBe(false);
    expect(scopeAllows(null, governanceOf({ method: 'ping' }))).toBe(false);
  });
  it('what policies see of a call: arguments as tags, strings as they are, the rest canonical JSON', () => {
    expect(requestContext('db', { method: 'tools/call', params: { name: 'query', arguments: { sql: 'select 1', read_only: true, opts: { b: 1, a: [2] } } } })).toEqual({
      server: 'db', method: 'tools/call', tool: 'query', arguments: '{"opts":{"a":[2],"b":1},"read_only":true,"sql":"select 1"}',
      'arguments.sql': 'select 1', 'arguments.read_only': 'true', 'arguments.opts': '{"a":[2],"b":1}',
    });
    expect(requestContext('db', { method: 'resources/read', params: { uri: 'file:///a' } })).toEqual({ server: 'db', method: 'resources/read', uri: 'file:///a' });
    expect(canonicalJson({ b: 1, a: 'x', c: [true, null] })).toBe('{"a":"x","b":1,"c":[true,null]}');
  });
});

describe('SSE', () => {
  async function* chunks(...parts: string[]) { for (const p of parts) yield Buffer.from(p); }
  it('parses events split anywhere, with CRLF, comments and multi-line data, and writes them back', async () => {
    const out = [];
    for await (const e of sseEvents(chunks('id: 1\r\nevent: mess', 'age\r\ndata: {"a":\r\n', 'data: 1}\r\n\r\n: comment\n\nid: 2\ndata:\n\n'))) out.push(e);
    expect(out).toEqual([{ id: '1', event: 'message', data: '{"a":\n1}' }, { id: '2', data: '' }]);
    expect(sseText(out[0]!)).toBe('id: 1\nevent: message\ndata: {"a":\ndata: 1}\n\n');
  });
});
