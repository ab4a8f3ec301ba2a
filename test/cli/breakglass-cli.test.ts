import { Writable } from 'node:stream';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { breakGlassFor, registerBreakGlassCommands } from '../../src/cli/commands/breakglass.js';
import type { CliIo } from '../../src/cli/output.js';
import { runCommands } from '../../src/cli/program.js';
import { runCustos } from '../support/cli-process.js';
import { startHarness, type Harness } from '../support/harness.js';

// `custos breakglass open|list|show|close|end` as a user runs it — `node bin/custos.js` in its own process (the
// compiled dist/, so `npm run build` first) — against a real server listening on a port; help and usage checks
// in-process.

function capture() {
  const sink = () => new Writable({ write(_chunk, _enc, done) { done(); } });
  const io: CliIo = { stdout: sink(), stderr: sink(), stdoutIsTTY: false, env: {} };
  return io;
}

let h: Harness;
let url: string;
let olga: string;
let sam: string;
async function custos(args: string[], token: string) {
  return runCustos(args, { CUSTOS_SERVER: url, CUSTOS_TOKEN: token, CUSTOS_DATA_DIR: '/nonexistent' });
}
async function inProcess(args: string[]) {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) => new Writable({ write(chunk, _enc, done) { append(String(chunk)); done(); } });
  const io: CliIo = { stdout: sink((s) => { out += s; }), stderr: sink((s) => { err += s; }), stdoutIsTTY: false, env: { CUSTOS_SERVER: 'http://127.0.0.1:9', CUSTOS_TOKEN: 'x', CUSTOS_DATA_DIR: '/nonexistent' } };
  const code = await runCommands(args, io);
  return { code, stdout: out, stderr: err };
}

beforeAll(async () => {
  h = await startHarness('sqlite');
  url = await h.cp.listen();
  olga = await h.operator('oncall-olga', 'owner');
  sam = await h.operator('sec-sam', 'security');
  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await h.call(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  };
  await ok('POST', '/v1/teams', { name: 'break-glass' });
  await ok('POST', '/v1/teams', { name: 'security' });
  await ok('PUT', '/v1/teams/break-glass/members/oncall-olga', { role: 'member' });
  await ok('PUT', '/v1/teams/security/members/sec-sam', { role: 'member' });
  await ok('POST', '/v1/principals', { name: 'model-owner', kind: 'human' });
  await ok('POST', '/v1/resources', { name: 'prod-model', kind: 'model', owner: 'model-owner', risk_tier: 'high' });
});
afterAll(async () => { await h?.close(); });

describe('custos breakglass', () => {
  it('every command describes every option and shows an example', async () => {
    const program = new Command('custos');
    registerBreakGlassCommands(program, capture());
    const commands = program.commands.flatMap((c) => [c, ...c.commands]);
    expect(commands.flatMap((c) => c.options.filter((o) => !o.description).map((o) => `${c.name()} ${o.flags}`))).toEqual([]);
    for (const path of [['breakglass'], ['breakglass', 'open'], ['breakglass', 'list'], ['breakglass', 'show'], ['breakglass', 'close'], ['breakglass', 'end']]) {
      const r = await inProcess([...path, '--help']);
      expect(r.code, path.join(' ')).toBe(0);
      expect(r.stdout, path.join(' ')).toMatch(/\nExamples?:\n {2}custos /);
    }
  });

  it('usage errors are exit 2 before any request (the server here is unreachable)', async () => {
    const base = ['breakglass', 'open', 'prod-model', '--action', 'read'];
    const usage = async (args: string[], message: RegExp) => {
      const r = await inProcess(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    };
    await usage(base, /--justification/); // required
    await usage([...base, '--justification', 'urgent'], /--justification must say what the emergency is, in at least 20 characters/);
    await usage([...base, '--justification', 'INC-1: every customer sees errors', '--for', '30s'], /--for must be from 60 seconds/);
    await usage([...base, '--justification', 'INC-1: every customer sees errors', '--for', '2d'], /--for must be from 60 seconds/);
    await usage(['breakglass', 'open', 'prod-model', '--action', 'approve', '--justification', 'INC-1: every customer sees errors'], /--action takes asset actions/);
    await usage(['breakglass', 'close', 'x'], /--finding/);
    await usage(['breakglass', 'end', 'x'], /--reason/);
    await usage(['breakglass', 'list', '--open', '--closed'], /cannot be used with/);
    expect(['60', '15m', '1h', '24h'].map(breakGlassFor)).toEqual([60, 900, 3600, 86_400]);
  });

  it('open, list, show, close and end through the built CLI; refusals are one line and exit 1', async () => {
    const opened = await custos(['breakglass', 'open', 'prod-model', '--action', 'read,invoke', '--for', '15m', '--ticket', 'INC-42',
      '--justification', 'INC-42: the serving model returns errors for every customer'], olga);
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout).toMatch(/^break-glass open: you may invoke, read on 'prod-model' until \S+Z \(([0-9a-f-]{36})\)\nnotified: .*model-owner.*; the post-incident review stays open until someone else closes it\n$/);
    expect(opened.stdout).toContain('sec-sam');
    const id = /\(([0-9a-f-]{36})\)/.exec(opened.stdout)![1]!;

    const listed = await custos(['breakglass', 'list', '--open'], sam);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${id} +│ oncall-olga +│ prod-model +│ invoke,read +│ \\S+ +│ active +│ open`));
    const shown = await custos(['breakglass', 'show', id], sam);
    expect(shown.stdout).toMatch(/justification +INC-42: the serving model returns errors for every customer/);
    expect(shown.stdout).toMatch(/skipped +resource_owners: model-owner/);
    expect(shown.stdout).toMatch(/review +open/);

    // The user cannot close their own review (nor holds breakglass.review); security can, once.
    const own = await custos(['breakglass', 'close', id, '--finding', 'all fine, I promise'], olga);
    expect(own.code).toBe(1);
    expect(own.stderr.trim().split('\n')).toHaveLength(1);
    const closed = await custos(['breakglass', 'close', id, '--finding', 'needed for INC-42; used as justified'], sam);
    expect([closed.code, closed.stdout], closed.stderr).toEqual([0, `closed the review of ${id}: 'oncall-olga' on 'prod-model'\n`]);
    const twice = await custos(['breakglass', 'close', id, '--finding', 'needed for INC-42; used as justified'], sam);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^custos: .*closed.*\n$/);
    const json = JSON.parse((await custos(['--json', 'breakglass', 'show', id], sam)).stdout);
    expect(json).toMatchObject({ id, review: { status: 'closed', finding: 'needed for INC-42; used as justified', closed_by: { name: 'sec-sam' } }, grant: { status: 'active' } });
    expect((await custos(['breakglass', 'list', '--closed'], sam)).stdout).toContain(id);

    // The user gives the access up; the decision point no longer sees it.
    const ended = await custos(['breakglass', 'end', id, '--reason', 'INC-42 resolved'], olga);
    expect([ended.code, ended.stdout], ended.stderr).toEqual([0, `ended break-glass access ${id}: 'oncall-olga' on 'prod-model'; the review stays open\n`]);
    expect(JSON.parse((await custos(['--json', 'breakglass', 'show', id], olga)).stdout).grant.status).toBe('ended');

    // Someone off the team: refused, one line, exit 1.
    const refused = await custos(['breakglass', 'open', 'prod-model', '--action', 'read', '--justification', 'INC-43: I would like to look around'], sam);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^custos: .*break-glass.*\n$/);
  });
});
