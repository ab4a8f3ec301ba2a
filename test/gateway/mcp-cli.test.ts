import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommands } from '../../src/cli/program.js';
import { capture } from '../support/cli-capture.js';
import { startHarness, type Harness } from '../support/harness.js';
import { startMcpUpstream, type McpUpstream } from '../support/mcp-upstream.js';

// `custos mcp-server add|list|show|update|refresh|remove` against a real server over HTTP, in-process, with an
// SDK-built MCP server behind it. The credential comes from a file or an environment variable, is checked before any
// request and is never printed.

let h: Harness;
let url: string;
let up: McpUpstream;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-mcp-cli-'));

async function custos(args: string[], env: Record<string, string> = {}) {
  const c = capture({ CUSTOS_SERVER: url, CUSTOS_TOKEN: h.adminToken, CUSTOS_DATA_DIR: '/nonexistent', ...env });
  const code = await runCommands(args, c.io);
  return { code, stdout: c.out(), stderr: c.err() };
}

describe('custos mcp-server', () => {
  beforeAll(async () => {
    h = await startHarness('sqlite');
    url = await h.cp.listen();
    up = await startMcpUpstream();
    expect((await h.call('POST', '/v1/principals', { name: 'cli-owner', kind: 'human' })).status).toBe(201);
    expect((await h.call('POST', '/v1/principals', { name: 'cli-owner-2', kind: 'human' })).status).toBe(201);
  });
  afterAll(async () => {
    expect(up.violations).toEqual([]);
    await up.close();
    await h.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('usage errors are found before any request and never echo the credential', async () => {
    const before = (await h.call('GET', '/v1/mcp-servers')).body.items.length;
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['mcp-server', 'add', 'Bad_Name', '--url', up.url, '--owner', 'cli-owner'], {}, /DNS label/],
      [['mcp-server', 'add', 'x', '--url', up.url, '--owner', 'cli-owner', '--token-env', 'NOPE'], {}, /not set/],
      [['mcp-server', 'add', 'x', '--url', up.url, '--owner', 'cli-owner', '--token-env', 'T'], { T: 'short' }, /token must be/],
      [['mcp-server', 'add', 'x', '--url', up.url, '--owner', 'cli-owner', '--header-env', 'T'], { T: 'some-value-here' }, /need --header-name/],
      [['mcp-server', 'add', 'x', '--url', up.url, '--owner', 'cli-owner', '--token-file', path.join(tmp, 'missing')], {}, /cannot read/],
      [['mcp-server', 'update', 'x'], {}, /nothing to change/],
    ];
    for (const [args, env, message] of cases) {
      const r = await custos(args, env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(r.stderr).not.toContain('short');
    }
    expect((await h.call('GET', '/v1/mcp-servers')).body.items.length).toBe(before);
  });

  it('add, list, show, update, refresh and remove; the credential is never printed', async () => {
    const file = path.join(tmp, 'token');
    fs.writeFileSync(file, `${up.token}\n`);
    const add = await custos(['mcp-server', 'add', 'docs', '--url', up.url, '--owner', 'cli-owner', '--token-file', file, '--description', 'docs tools']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/registered MCP server 'docs': .*\/mcp\/docs → .*credential bearer \(stored\), owner cli-owner, 4 tools/);
    expect(add.stdout).toContain('docs-echo');
    const list = await custos(['mcp-server', 'list']);
    expect(list.stdout).toMatch(/docs\W+http:\/\/127\.0\.0\.1:\d+\/mcp\/docs\W+http:\/\/127\.0\.0\.1:\d+\/mcp\W+bearer \(stored\)\W+cli-owner\W+4/);
    const show = await custos(['mcp-server', 'show', 'docs']);
    expect(show.stdout).toMatch(/read_file\W+docs-read-file\W+yes/);
    const json = await custos(['--json', 'mcp-server', 'show', 'docs']);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'docs', credential: { type: 'bearer' } });
    const update = await custos(['mcp-server', 'update', 'docs', '--owner', 'cli-owner-2', '--token-env', 'UP'], { UP: up.token });
    expect(update.code, update.stderr).toBe(0);
    expect(update.stdout).toMatch(/updated MCP server 'docs' \(new credential stored\): .*owner cli-owner-2/);
    const refused = await custos(['mcp-server', 'update', 'docs', '--token-env', 'UP'], { UP: 'not-the-right-token' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused the gateway's credential/);
    up.violations.splice(0);
    up.addTool('summarise');
    const refresh = await custos(['mcp-server', 'refresh', 'docs']);
    expect(refresh.stdout).toBe("refreshed MCP server 'docs': added summarise; changed -; removed -\n");
    for (const r of [add, list, show, json, update, refresh]) expect(r.stdout + r.stderr).not.toContain(up.token);
    const remove = await custos(['mcp-server', 'remove', 'docs', '--reason', 'done']);
    expect(remove.stdout).toBe("removed MCP server 'docs'\n");
    expect((await custos(['mcp-server', 'show', 'docs'])).code).toBe(1);
  });
});
