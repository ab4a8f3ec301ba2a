import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerReviewCommands } from '../../src/cli/commands/review.js';
import { runCustos, type CliResult } from '../support/cli-process.js';
import { startHarness, type Harness } from '../support/harness.js';

// `custos review start|list|show|decide|status` as a user runs it: the compiled CLI in its own process (npm run build
// first) against a real server over HTTP, whose clock the test moves to make items overdue.

let h: Harness;
let url: string;
const tok: Record<string, string> = {};

async function custos(args: string[], token = h.adminToken): Promise<CliResult> {
  return runCustos(args, { CUSTOS_SERVER: url, CUSTOS_TOKEN: token, CUSTOS_DATA_DIR: '/nonexistent' });
}

const ok = async (method: string, url: string, body?: unknown) => {
  const r = await h.call(method, url, body);
  if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
  return r.body;
};

beforeAll(async () => {
  h = await startHarness('sqlite', { settings: { approvalsSweepSeconds: '0' } });
  url = await h.cp.listen();
  for (const name of ['olga', 'oscar']) {
    await ok('POST', '/v1/principals', { name, kind: 'human' });
    tok[name] = (await ok('POST', '/v1/operator-tokens', { principal: name, role: 'owner', ttl_seconds: 90 * 86_400 })).token;
  }
  for (const name of ['cli-bot', 'cli-bot2']) {
    await ok('POST', '/v1/principals', { name, kind: 'agent', owner: 'olga', status: 'active', risk_tier: 'low', scopes: ['model:invoke', 'data:read'], purposes: ['support'] });
  }
  await ok('POST', '/v1/resources', { name: 'cli-kb', kind: 'dataset', owner: 'bootstrap-admin', purposes: ['support'] });
  h.clock.advance(60_000);
});
afterAll(async () => { await h?.close(); });

describe('custos review', () => {
  it('every command describes its options and shows an example', async () => {
    const program = new Command('custos');
    registerReviewCommands(program, { stdout: process.stdout, stderr: process.stderr, stdoutIsTTY: false, env: {} });
    const commands = program.commands.flatMap((c) => [c, ...c.commands]);
    expect(commands.flatMap((c) => c.options.filter((o) => !o.description).map((o) => `${c.name()} ${o.flags}`))).toEqual([]);
    const paths = [['review'], ['review', 'start'], ['review', 'list'], ['review', 'show'], ['review', 'decide'], ['review', 'status']];
    const results = await Promise.all(paths.map((path) => custos([...path, '--help'])));
    results.forEach((r, n) => {
      expect(r.code, paths[n]!.join(' ')).toBe(0);
      expect(r.stdout, paths[n]!.join(' ')).toMatch(/\nExamples?:\n {2}custos /);
    });
  }, 120_000);

  it('start, list, decide and status: a campaign from start to closed', async () => {
    const grant = (await ok('POST', '/v1/grants', { principal: 'cli-bot', resource: 'cli-kb', actions: ['read'], purpose: 'support', duration_seconds: 30 * 86_400, reason: 'cli test' })).id as string;
    const started = await custos(['review', 'start', 'q-cli', '--principal', 'cli-bot,cli-bot2', '--due-in', '3']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(/^started campaign 'q-cli' \([0-9a-f-]{36}\): 2 items, due \S+Z, undecided items lapse after \S+Z\n$/);
    const campaign = /\(([0-9a-f-]{36})\)/.exec(started.stdout)![1]!;

    const listed = await custos(['review', 'list', '--mine', '--status', 'pending'], tok.olga);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/q-cli .*cli-bot .*low .*olga .*pending/);
    expect((await custos(['review', 'list', '--mine'], tok.oscar)).stdout).toBe('(none)\n');
    const items = JSON.parse((await custos(['--json', 'review', 'list', '--campaign', campaign], tok.olga)).stdout).items as Array<{ id: string; principal: { name: string } }>;
    const item = (name: string) => items.find((i) => i.principal.name === name)!.id;

    const shown = await custos(['review', 'show', item('cli-bot')], tok.olga);
    expect(shown.stdout).toMatch(/reviewer +olga/);
    expect(shown.stdout).toMatch(/scopes +model:invoke, data:read/);
    expect(shown.stdout).toContain(`${grant} read on cli-kb for support`);

    const reduced = await custos(['review', 'decide', item('cli-bot'), 'reduce', '--scope', 'model:invoke', '--revoke-grant', grant, '--reason', 'no more reading'], tok.olga);
    expect(reduced.code, reduced.stderr).toBe(0);
    expect(reduced.stdout).toMatch(new RegExp(`^item ${item('cli-bot')}: reduced 'cli-bot'; scopes now model:invoke; 1 grant revoked; next review due \\S+Z\\n$`));
    expect((await ok('GET', '/v1/principals/cli-bot')).scopes).toEqual(['model:invoke']);
    expect((await ok('GET', `/v1/grants/${grant}`)).status).toBe('revoked');

    const status = await custos(['review', 'status'], tok.olga);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`q-cli .*${campaign} .*open .*│ 2 .*│ 0 .*│ 1 .*│ 0 .*│ 1 .*│ 0 .*│ 0 `));

    h.clock.advance(3 * 86_400_000 + 1);
    await h.cp.approvals.sweep();
    expect((await custos(['review', 'status'])).stdout).toMatch(/q-cli .*open .*│ 2 .*│ 0 .*│ 1 .*│ 0 .*│ 1 .*│ 1 .*│ 0 /); // one pending, overdue
    expect((await custos(['review', 'list', '--campaign', campaign, '--status', 'pending'])).stdout).toContain('pending (overdue)');

    const kept = await custos(['review', 'decide', item('cli-bot2'), 'keep', '--reason', 'still needed'], tok.olga);
    expect(kept.stdout).toMatch(/: kept 'cli-bot2'; next review due \S+Z\n$/);
    expect((await custos(['review', 'status'])).stdout).not.toContain('q-cli');
    expect((await custos(['review', 'status', '--closed'])).stdout).toMatch(/q-cli .*closed .*│ 2 .*│ 1 .*│ 1 .*│ 0 .*│ 0 .*│ 0 .*│ 0 /);
    const json = JSON.parse((await custos(['--json', 'review', 'status', '--campaign', campaign])).stdout);
    expect(json.items[0]).toMatchObject({ name: 'q-cli', status: 'closed', progress: { total: 2, kept: 1, reduced: 1, pending: 0 } });
  }, 120_000);

  it('errors are one line and non-zero; usage errors are exit 2 before any request', async () => {
    await ok('POST', '/v1/principals', { name: 'cli-bot3', kind: 'agent', owner: 'olga', status: 'active', risk_tier: 'low' });
    const started = JSON.parse((await custos(['--json', 'review', 'start', 'q-err', '--principal', 'cli-bot3'])).stdout);
    const id = JSON.parse((await custos(['--json', 'review', 'list', '--campaign', started.id])).stdout).items[0].id as string;
    const refused = await custos(['review', 'decide', id, 'keep', '--reason', 'not mine'], tok.oscar);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^custos: .*\(forbidden\)\n$/);
    const owner = await custos(['review', 'start', 'x', '--principal', 'cli-bot3'], tok.olga);
    expect(owner.code).toBe(1);
    expect(owner.stderr.trim().split('\n')).toHaveLength(1);
    const usage: Array<[string[], RegExp]> = [
      [['review', 'decide', id, 'maybe', '--reason', 'x'], /keep, reduce, revoke/],
      [['review', 'decide', id, 'keep'], /--reason/],
      [['review', 'decide', id, 'keep', '--scope', 'a', '--reason', 'x'], /go with reduce only/],
      [['review', 'start', 'x', '--tier', 'extreme'], /--tier takes risk tiers/],
      [['review', 'start', 'x', '--due-in', '0'], /--due-in must be a whole number from 1 to 365/],
      [['review', 'start', 'x', '--all-principals', '--due-only'], /cannot be used with/],
      [['review', 'list', '--status', 'done'], /Allowed choices/],
    ];
    const results = await Promise.all(usage.map(([args]) => custos(args)));
    results.forEach((r, n) => {
      expect(r.code, usage[n]![0].join(' ')).toBe(2);
      expect(r.stderr, usage[n]![0].join(' ')).toMatch(usage[n]![1]);
    });
    expect((await ok('GET', `/v1/review-items/${id}`)).status).toBe('pending');
  }, 120_000);
});
