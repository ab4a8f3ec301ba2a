import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { durationSeconds, registerGrantCommands } from '../../src/cli/commands/grant.js';
import { runCommands } from '../../src/cli/program.js';
import { capture } from '../support/cli-capture.js';

// `custos grant create|list|show|revoke` against a real server over HTTP, in-process.


let h: Harness;
let url: string;
async function custos(args: string[], token = h.adminToken) {
  const c = capture({ CUSTOS_SERVER: url, CUSTOS_TOKEN: token, CUSTOS_DATA_DIR: '/nonexistent' });
  const code = await runCommands(args, c.io);
  return { code, stdout: c.out(), stderr: c.err() };
}

beforeAll(async () => {
  h = await startHarness('sqlite');
  url = await h.cp.listen();
  await h.call('POST', '/v1/principals', { name: 'agent-keeper', kind: 'human' }); // owns the agents: nobody grants to what they own
  await h.call('POST', '/v1/principals', { name: 'cli-bot', kind: 'agent', owner: 'agent-keeper', status: 'active', purposes: ['support'] });
  await h.call('POST', '/v1/resources', { name: 'cli-kb', kind: 'dataset', owner: 'bootstrap-admin', purposes: ['support'] });
});
afterAll(async () => { await h?.close(); });

describe('custos grant', () => {
  it('every command describes every option and shows an example', async () => {
    const program = new Command('custos');
    registerGrantCommands(program, capture().io);
    const commands = program.commands.flatMap((c) => [c, ...c.commands]);
    expect(commands.flatMap((c) => c.options.filter((o) => !o.description).map((o) => `${c.name()} ${o.flags}`))).toEqual([]);
    for (const path of [['grant'], ['grant', 'create'], ['grant', 'list'], ['grant', 'show'], ['grant', 'revoke']]) {
      const r = await custos([...path, '--help']);
      expect(r.code, path.join(' ')).toBe(0);
      expect(r.stdout, path.join(' ')).toMatch(/\nExamples?:\n {2}custos /);
    }
  });

  it('durations: seconds or a number with s, m, h or d', () => {
    expect(['3600', '90s', '15m', '8h', '7d'].map(durationSeconds)).toEqual([3600, 90, 900, 28_800, 604_800]);
    for (const bad of ['0', '0h', '1w', '-1h', '1.5h', '']) expect(() => durationSeconds(bad), bad).toThrow();
  });

  it('create, list, show and revoke; --json for scripts', async () => {
    const created = await custos(['grant', 'create', 'cli-bot', 'cli-kb', '--action', 'read,invoke', '--action', 'export', '--purpose', 'support', '--for', '8h', '--reason', 'INC-1']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^granted: 'cli-bot' may invoke, read, export on 'cli-kb' for support until \S+Z \([0-9a-f-]{36}\)\n$/);
    const id = /\(([0-9a-f-]{36})\)/.exec(created.stdout)![1]!;

    const listed = await custos(['grant', 'list', '--principal', 'cli-bot', '--active']);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toMatch(/active .*cli-bot .*cli-kb .*invoke,read,export .*support/);
    const json = JSON.parse((await custos(['--json', 'grant', 'list', '--resource', 'cli-kb'])).stdout);
    expect(json.items.map((g: { id: string }) => g.id)).toEqual([id]);

    const shown = await custos(['grant', 'show', id]);
    expect(shown.stdout).toMatch(/status +active/);
    expect(shown.stdout).toMatch(/reason +INC-1/);
    expect(shown.stdout).toMatch(/granted_by +bootstrap-admin/);

    const revoked = await custos(['grant', 'revoke', id, '--reason', 'done']);
    expect(revoked.stdout).toBe(`revoked grant ${id}: 'cli-bot' on 'cli-kb'\n`);
    expect(JSON.parse((await custos(['--json', 'grant', 'show', id])).stdout)).toMatchObject({ status: 'revoked', revoked_reason: 'done' });
    expect((await custos(['grant', 'list', '--principal', 'cli-bot', '--active'])).stdout).toBe('(none)\n');
    expect((await custos(['grant', 'list', '--ended'])).stdout).toContain(id);

    const until = new Date(h.clock.now().getTime() + 3600_000).toISOString();
    const absolute = JSON.parse((await custos(['--json', 'grant', 'create', 'cli-bot', 'cli-kb', '--action', 'read', '--until', until, '--reason', 'x'])).stdout);
    expect(absolute.expires_at).toBe(until.replace(/\.\d{3}Z$/, '.000Z'));
  });

  it('errors are one line and non-zero; usage errors are exit 2 before any request', async () => {
    const twice = await custos(['grant', 'revoke', (JSON.parse((await custos(['--json', 'grant', 'list', '--ended'])).stdout).items[0].id), '--reason', 'again']);
    expect(twice.code).toBe(1);
    expect(twice.stderr.trim().split('\n')).toHaveLength(1);
    const purpose = await custos(['grant', 'create', 'cli-bot', 'cli-kb', '--action', 'read', '--purpose', 'marketing', '--for', '1h', '--reason', 'x']);
    expect(purpose.code).toBe(1);
    expect(purpose.stderr).toMatch(/^custos: .*marketing.*\n$/);
    expect((await custos(['grant', 'create', 'cli-bot', 'cli-kb', '--action', 'read', '--for', '1w', '--reason', 'x'])).code).toBe(2);
    expect((await custos(['grant', 'create', 'cli-bot', 'cli-kb', '--action', 'read', '--reason', 'x'])).code).toBe(2);
    expect((await custos(['grant', 'create', 'cli-bot', 'cli-kb', '--action', 'read', '--for', '1h'])).code).toBe(2); // no reason
    expect((await custos(['grant', 'create', 'cli-bot', 'cli-kb', '--action', 'read', '--for', '1h', '--until', '2030-01-01T00:00:00Z', '--reason', 'x'])).code).toBe(2);
    expect((await custos(['grant', 'list', '--active', '--ended'])).code).toBe(2);
    // Flag-level checks name the flag, before any request: --for 60 s to 90 days, --until a date-time with a zone,
    // --action asset actions only.
    const usage = async (args: string[], flag: RegExp) => {
      const r = await custos(['grant', 'create', 'cli-bot', 'cli-kb', '--reason', 'x', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(flag);
    };
    await usage(['--action', 'read', '--for', '30s'], /--for must be from 60 seconds to 90 days/);
    await usage(['--action', 'read', '--for', '91d'], /--for must be from 60 seconds to 90 days/);
    await usage(['--action', 'read', '--until', '2030-01-01'], /--until must be an ISO 8601 date-time with a zone/);
    await usage(['--action', 'read', '--until', '2030-01-01T00:00:00'], /--until must be an ISO 8601 date-time with a zone/);
    await usage(['--action', 'read,approve', '--for', '1h'], /--action takes asset actions .*not 'approve'/);
    await usage(['--action', 'reed', '--for', '1h'], /--action takes asset actions/);
    expect((await custos(['grant', 'list', '--ended'])).stdout).not.toContain('approve');
    const auditor = await h.operator('cli-aud', 'auditor');
    const refused = await custos(['grant', 'create', 'cli-bot', 'cli-kb', '--action', 'read', '--for', '1h', '--reason', 'x'], auditor);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
  });
});
