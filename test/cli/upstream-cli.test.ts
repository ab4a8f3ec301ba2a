import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/client.js';
import { collectModel, registerUpstreamCommands } from '../../src/cli/commands/upstream.js';
import type { CliIo } from '../../src/cli/output.js';
import { allCommands, buildProgram, runCommands } from '../../src/cli/program.js';
import { startHarness, type Harness } from '../support/harness.js';

// `custos upstream add|list|show|update|remove|route|unroute` against a real server over HTTP, in-process. The key
// is read from a file, stdin or an environment variable, checked before any request and never printed; rotating it
// from the CLI changes what the gateway's catalog hands the forwarding step on the next call.

function capture(env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) => new Writable({ write(chunk, _enc, done) { append(String(chunk)); done(); } });
  const io: CliIo = { stdout: sink((s) => { out += s; }), stderr: sink((s) => { err += s; }), stdoutIsTTY: false, env };
  return { io, out: () => out, err: () => err };
}

/** runCommands once program.ts registers the noun; until then the same program with the noun added here. */
async function run(argv: string[], io: CliIo): Promise<number> {
  if (buildProgram(io).commands.some((c) => c.name() === 'upstream')) return runCommands(argv, io);
  const program = buildProgram(io);
  registerUpstreamCommands(program, io);
  for (const cmd of allCommands(program)) cmd.exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code) ? 0 : 2;
    io.stderr.write(`custos: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}

let h: Harness;
let url: string;
let auditor: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-upstream-cli-'));
async function custos(args: string[], opts: { token?: string; env?: Record<string, string>; server?: string } = {}) {
  const c = capture({ CUSTOS_SERVER: opts.server ?? url, CUSTOS_TOKEN: opts.token ?? h.adminToken, CUSTOS_DATA_DIR: '/nonexistent', ...opts.env });
  const code = await run(args, c.io);
  return { code, stdout: c.out(), stderr: c.err() };
}
const secretKey = (label: string) => `sk-${label}-${crypto.randomBytes(18).toString('hex')}`;

beforeAll(async () => {
  h = await startHarness('sqlite');
  url = await h.cp.listen();
  auditor = await h.operator('aud-ann', 'auditor');
  for (const name of ['gpt', 'gpt-mini', 'llama']) await h.call('POST', '/v1/resources', { name, kind: 'model', owner: 'bootstrap-admin' });
  await h.call('POST', '/v1/resources', { name: 'kb', kind: 'dataset', owner: 'bootstrap-admin' });
});
afterAll(async () => {
  await h?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('custos upstream', () => {
  it('every command describes every option and shows an example', async () => {
    const program = new Command('custos');
    registerUpstreamCommands(program, capture().io);
    const commands = program.commands.flatMap((c) => [c, ...c.commands]);
    expect(commands.flatMap((c) => c.options.filter((o) => !o.description).map((o) => `${c.name()} ${o.flags}`))).toEqual([]);
    for (const sub of ['', 'add', 'list', 'show', 'update', 'remove', 'route', 'unroute']) {
      const r = await custos(['upstream', ...(sub ? [sub] : []), '--help']);
      expect(r.code, sub).toBe(0);
      expect(r.stdout, sub).toMatch(/\nExamples?:\n {2}custos /);
    }
  });

  it('usage errors exit 2 before any request (the server here is unreachable), and never echo a key', async () => {
    const short = path.join(tmp, 'short.key');
    fs.writeFileSync(short, 'sk-1\n');
    const spaced = path.join(tmp, 'spaced.key');
    const spacedKey = secretKey('spaced');
    fs.writeFileSync(spaced, `${spacedKey} trailing words\n`);
    const add = ['upstream', 'add', 'x', '--provider', 'openai', '--base-url', 'https://api.openai.com/v1'];
    for (const args of [
      ['upstream', 'add', 'x', '--base-url', 'https://api.openai.com/v1'],
      ['upstream', 'add', 'x', '--provider', 'gemini', '--base-url', 'https://g.example.com'],
      ['upstream', 'add', 'x', '--provider', 'openai'],
      [...add, '--timeout-ms', '999'],
      [...add, '--timeout-ms', '600001'],
      [...add, '--retries', '6'],
      [...add, '--model', 'gpt'],
      [...add, '--model', 'gpt=gpt 4o'],
      [...add, '--model', 'gpt=a', '--model', 'gpt=b'],
      [...add, '--key-file', short],
      [...add, '--key-file', spaced],
      [...add, '--key-file', path.join(tmp, 'missing')],
      [...add, '--key-env', 'CUSTOS_TEST_NO_SUCH_VARIABLE'],
      [...add, '--key-file', short, '--key-env', 'HOME'],
      ['upstream', 'update', 'x'],
      ['upstream', 'update', 'x', '--reason', 'only a reason'],
      ['upstream', 'update', 'x', '--remove-key', '--key-env', 'HOME'],
      ['upstream', 'update', 'x', '--api-version', '1', '--clear-api-version'],
      ['upstream', 'list', '--provider', 'nope'],
      ['upstream', 'route', 'x', 'gpt', 'gpt 4o'],
      ['upstream', 'route', 'x', 'gpt'],
    ]) {
      const r = await custos(args, { server: 'http://127.0.0.1:9' });
      expect([r.code, r.stderr.includes('cannot reach')], args.join(' ')).toEqual([2, false]);
      expect(r.stderr + r.stdout).not.toContain(spacedKey.slice(3));
    }
    expect(collectModel('gpt=gpt-4o', collectModel('llama=llama3.1:8b'))).toEqual({ llama: 'llama3.1:8b', gpt: 'gpt-4o' });
  });

  it('add with a key from a file or the environment; list and show never print it; rotation reaches the catalog at once', async () => {
    const first = secretKey('cli-1');
    const keyFile = path.join(tmp, 'openai.key');
    fs.writeFileSync(keyFile, `${first}\n`);
    const added = await custos(['upstream', 'add', 'openai', '--provider', 'openai', '--base-url', 'https://api.openai.com/v1/', '--key-file', keyFile,
      '--model', 'gpt=gpt-4o', '--timeout-ms', '30000', '--retries', '2', '--reason', 'CHG-7']);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toBe('added upstream \'openai\': openai at https://api.openai.com/v1, key stored, timeout 30000 ms, 2 retries, version 1; models: gpt→gpt-4o\n');
    expect((await h.cp.gateway.upstreams.routeFor('gpt'))!.key).toBe(first);

    const local = await custos(['upstream', 'add', 'ollama', '--provider', 'openai-compatible', '--base-url', 'http://127.0.0.1:11434/v1', '--model', 'llama=llama3.1:8b']);
    expect(local.stdout).toMatch(/^added upstream 'ollama': openai-compatible at http:\/\/127\.0\.0\.1:11434\/v1, no key, timeout 60000 ms, 1 retry, version 1; models: llama→llama3\.1:8b\n$/);

    const list = await custos(['upstream', 'list'], { token: auditor });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/openai +│ +openai +│ +https:\/\/api\.openai\.com\/v1 +│ +stored +│ +30000 +│ +2 +│ +gpt→gpt-4o/);
    expect(list.stdout).toMatch(/ollama +│ +openai-compatible +│ +http:\/\/127\.0\.0\.1:11434\/v1 +│ +none/);
    const shown = await custos(['upstream', 'show', 'openai']);
    expect(shown.stdout).toMatch(/key +stored \(write-only\)/);
    expect(shown.stdout).toMatch(/gpt +│ +model +│ +gpt-4o/);
    const json = JSON.parse((await custos(['--json', 'upstream', 'show', 'openai'])).stdout);
    expect(json).toMatchObject({ name: 'openai', has_key: true, version: 1 });

    // Rotation from an environment variable: the catalog's next answer carries the new key.
    const second = secretKey('cli-2');
    const rotated = await custos(['upstream', 'update', 'openai', '--key-env', 'NEW_OPENAI_KEY', '--reason', 'rotation'], { env: { NEW_OPENAI_KEY: second } });
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(/^updated upstream 'openai' \(new key stored\): .*version 2\n$/);
    expect((await h.cp.gateway.upstreams.routeFor('gpt'))!.key).toBe(second);

    // From stdin ('-') is the same path as a file; here a file again, with the version guard.
    const third = secretKey('cli-3');
    fs.writeFileSync(keyFile, third);
    expect((await custos(['upstream', 'update', 'openai', '--key-file', keyFile, '--expected-version', '1'])).stderr).toMatch(/version_mismatch|version 2, not 1/);
    expect((await custos(['upstream', 'update', 'openai', '--key-file', keyFile, '--expected-version', '2'])).code).toBe(0);
    expect((await h.cp.gateway.upstreams.routeFor('gpt'))!.key).toBe(third);

    const outputs = [added, local, list, shown, rotated].map((r) => r.stdout + r.stderr).join('\n') + JSON.stringify(json);
    for (const k of [first, second, third]) expect(outputs).not.toContain(k.slice(3));
  });

  it('route, unroute and remove; the server\'s refusals exit 1 with their code', async () => {
    const routed = await custos(['upstream', 'route', 'openai', 'gpt-mini', 'gpt-4o-mini', '--reason', 'new alias']);
    expect(routed.code, routed.stderr).toBe(0);
    expect(routed.stdout).toBe('model \'gpt-mini\' is served by upstream \'openai\' as gpt-4o-mini\n');
    expect(await h.cp.gateway.upstreams.routeFor('gpt-mini')).toMatchObject({ providerModel: 'gpt-4o-mini', upstream: { name: 'openai' } });

    const elsewhere = await custos(['upstream', 'route', 'ollama', 'gpt-mini', 'qwen2.5']);
    expect([elsewhere.code, elsewhere.stderr.includes('model_already_routed') || elsewhere.stderr.includes('served by upstream \'openai\'')]).toEqual([1, true]);
    const dataset = await custos(['upstream', 'route', 'ollama', 'kb', 'x']);
    expect([dataset.code, /dataset/.test(dataset.stderr)]).toEqual([1, true]);
    const plain = await custos(['upstream', 'add', 'plain', '--provider', 'openai-compatible', '--base-url', 'http://vllm.example.com/v1']);
    expect([plain.code, /https/.test(plain.stderr)]).toEqual([1, true]);
    const auditorWrite = await custos(['upstream', 'route', 'openai', 'gpt-mini', 'gpt-4.1'], { token: auditor });
    expect(auditorWrite.code).toBe(1);
    expect(auditorWrite.stderr).toMatch(/forbidden|not allowed|403/i);

    const unrouted = await custos(['upstream', 'unroute', 'openai', 'gpt-mini', '--reason', 'retired']);
    expect(unrouted.stdout).toBe('model \'gpt-mini\' is no longer served by upstream \'openai\'\n');
    expect(await h.cp.gateway.upstreams.routeFor('gpt-mini')).toBeUndefined();

    const refused = await custos(['upstream', 'remove', 'ollama']);
    expect([refused.code, /still serves 1 model/.test(refused.stderr)]).toEqual([1, true]);
    const removed = await custos(['upstream', 'remove', 'ollama', '--unroute-models', '--reason', 'moved']);
    expect(removed.stdout).toBe('removed upstream \'ollama\' and its model aliases\n');
    expect(await h.cp.gateway.upstreams.routeFor('llama')).toBeUndefined();
    const json = JSON.parse((await custos(['--json', 'upstream', 'list', '--all'])).stdout);
    expect(json.items.map((u: { name: string }) => u.name)).toEqual(['openai']);
  });
});
