import { Writable } from 'node:stream';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { registerFindingCommands } from '../../src/cli/commands/findings.js';
import { registerPrincipalCommands } from '../../src/cli/commands/principal.js';
import { registerResourceCommands } from '../../src/cli/commands/resource.js';
import { registerTeamCommands } from '../../src/cli/commands/team.js';
import type { CliIo } from '../../src/cli/output.js';
import { runCommands } from '../../src/cli/program.js';

// The registry's CLI nouns (principal, team, resource, findings): help that explains every option and shows an
// example, label flags that add and remove single labels, and messages that read well. In-process, against a
// real server over HTTP.

function capture(env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) => new Writable({ write(chunk, _enc, done) { append(String(chunk)); done(); } });
  const io: CliIo = { stdout: sink((s) => { out += s; }), stderr: sink((s) => { err += s; }), stdoutIsTTY: false, env };
  return { io, out: () => out, err: () => err };
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

let h: Harness;
let url: string;
async function custos(args: string[]) {
  const c = capture({ CUSTOS_SERVER: url, CUSTOS_TOKEN: h.adminToken, CUSTOS_DATA_DIR: '/nonexistent' });
  const code = await runCommands(args, c.io);
  return { code, stdout: c.out(), stderr: c.err() };
}

beforeAll(async () => {
  h = await startHarness('sqlite');
  url = await h.cp.listen();
});
afterAll(async () => { await h?.close(); });

describe('registry CLI', () => {
  it('every principal, team, resource and findings command describes every option and shows an example in --help', async () => {
    const program = new Command('custos');
    const { io } = capture();
    registerPrincipalCommands(program, io);
    registerTeamCommands(program, io);
    registerResourceCommands(program, io);
    registerFindingCommands(program, io);
    const commands = allCommands(program).filter((c) => c !== program);
    expect(commands.length).toBeGreaterThan(20);
    const undescribed = commands.flatMap((c) => c.options.filter((o) => !o.description).map((o) => `${c.name()} ${o.flags}`));
    expect(undescribed).toEqual([]);
    for (const c of commands) {
      const path: string[] = [];
      for (let p: Command | null = c; p && p !== program; p = p.parent) path.unshift(p.name());
      const r = await custos([...path, '--help']);
      expect(r.code, path.join(' ')).toBe(0);
      expect(r.stdout, path.join(' ')).toMatch(/\nExamples?:\n {2}custos /);
    }
  });

  it('says "an agent" and "a service account"', async () => {
    await custos(['principal', 'add', 'ivy', '--kind', 'human']);
    expect((await custos(['principal', 'add', 'ivy-bot', '--kind', 'agent', '--owner', 'ivy'])).stdout).toMatch(/^registered an agent 'ivy-bot'/);
    expect((await custos(['principal', 'add', 'ivy-svc', '--kind', 'service_account', '--owner', 'ivy'])).stdout).toMatch(/^registered a service account 'ivy-svc'/);
    expect((await custos(['team', 'add', 'ivy-team'])).code).toBe(0);
    expect((await custos(['team', 'add-member', 'ivy-team', 'ivy'])).stdout).toBe("'ivy' is a member of 'ivy-team'\n");
  });

  it('--add-label and --remove-label change single labels; --label replaces them all; mixing is a usage error before any request', async () => {
    await custos(['principal', 'update', 'ivy-bot', '--label', 'app=a', '--label', 'env=prod']);
    await custos(['principal', 'update', 'ivy-bot', '--add-label', 'tier=gold', '--remove-label', 'env']);
    expect(JSON.parse((await custos(['--json', 'principal', 'show', 'ivy-bot'])).stdout).labels).toEqual({ app: 'a', tier: 'gold' });
    const before = JSON.parse((await custos(['--json', 'principal', 'show', 'ivy-bot'])).stdout).version;
    const mixed = await custos(['principal', 'update', 'ivy-bot', '--label', 'x=y', '--add-label', 'z=w']);
    expect(mixed.code).toBe(2);
    expect(JSON.parse((await custos(['--json', 'principal', 'show', 'ivy-bot'])).stdout).version).toBe(before);
    await custos(['principal', 'update', 'ivy-bot', '--clear-labels']);
    expect(JSON.parse((await custos(['--json', 'principal', 'show', 'ivy-bot'])).stdout).labels).toEqual({});

    await custos(['resource', 'add', 'ivy-proj', '--kind', 'dataset', '--owner', 'ivy']);
    await custos(['resource', 'add', 'ivy-data', '--kind', 'dataset', '--owner', 'ivy', '--parent', 'ivy-proj', '--label', 'a=1', '--label', 'b=2']);
    await custos(['resource', 'update', 'ivy-data', '--add-label', 'c=3', '--remove-label', 'a']);
    const shown = JSON.parse((await custos(['--json', 'resource', 'show', 'ivy-data'])).stdout);
    expect([shown.labels, shown.parent?.name]).toEqual([{ b: '2', c: '3' }, 'ivy-proj']);
    expect(JSON.parse((await custos(['--json', 'resource', 'update', 'ivy-data', '--no-parent'])).stdout).parent).toBeNull();
    expect((await custos(['resource', 'delete', 'ivy-data', '--reason', 'retired'])).stdout).toBe("deleted 'ivy-data'\n");
  });

  it('--may-delegate-to takes a comma-separated list of principals and kind: entries; "" clears it', async () => {
    const show = async (name: string) => JSON.parse((await custos(['--json', 'principal', 'show', name])).stdout);
    expect((await custos(['principal', 'add', 'ivy-planner', '--kind', 'agent', '--owner', 'ivy', '--may-delegate-to', 'ivy-bot, kind:workload'])).code).toBe(0);
    expect((await show('ivy-planner')).may_delegate_to).toEqual(['ivy-bot', 'kind:workload']);
    expect((await custos(['principal', 'update', 'ivy-planner', '--may-delegate-to', 'ivy-svc,kind:agent'])).code).toBe(0);
    expect((await show('ivy-planner')).may_delegate_to).toEqual(['ivy-svc', 'kind:agent']);
    const unknown = await custos(['principal', 'update', 'ivy-planner', '--may-delegate-to', 'nobody']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('nobody');
    expect((await custos(['principal', 'update', 'ivy-planner', '--may-delegate-to', ''])).code).toBe(0);
    expect((await show('ivy-planner')).may_delegate_to).toEqual([]);
  });

  it('--uri and --served-by set a resource\'s audience and serving principal; --no-uri and --no-served-by clear them', async () => {
    const added = JSON.parse((await custos(['--json', 'resource', 'add', 'ivy-gw', '--kind', 'endpoint', '--owner', 'ivy', '--uri', 'https://gw.example.com', '--served-by', 'ivy-svc'])).stdout);
    expect(added).toMatchObject({ uri: 'https://gw.example.com', audience: 'https://gw.example.com', server: { name: 'ivy-svc' } });
    expect((await custos(['resource', 'show', 'ivy-gw'])).stdout).toMatch(/^server +ivy-svc$/m);
    const moved = JSON.parse((await custos(['--json', 'resource', 'update', 'ivy-gw', '--uri', 'urn:example:ivy-gw'])).stdout);
    expect(moved).toMatchObject({ uri: 'urn:example:ivy-gw', server: { name: 'ivy-svc' } });
    const cleared = JSON.parse((await custos(['--json', 'resource', 'update', 'ivy-gw', '--no-uri', '--no-served-by'])).stdout);
    expect(cleared).toMatchObject({ uri: null, audience: 'urn:custos:resource:ivy-gw', server: null });
  });
});
