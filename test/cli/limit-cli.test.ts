import { sql } from 'kysely';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/client.js';
import { grouped, parseLimitValue, registerLimitCommands } from '../../src/cli/commands/limit.js';
import type { CliIo } from '../../src/cli/output.js';
import { allCommands, buildProgram, runCommands } from '../../src/cli/program.js';
import { createLimitsPart } from '../../src/gateway/limits/index.js';
import { newId } from '../../src/platform/ids.js';
import { capture } from '../support/cli-capture.js';
import { startHarness, type Harness } from '../support/harness.js';

// `custos limit set|list|show|remove` against a real server over HTTP, in-process: values checked before any
// request (exit 2, nothing sent), the server's refusals (exit 1: a role that may not change limits, a target that
// does not exist), `none` clearing one value, and what show prints of the counters.

/** runCommands when the program has the `limit` noun; until then the same handling around a program with only it. */
async function run(args: string[], io: CliIo): Promise<number> {
  if (buildProgram(io).commands.some((c) => c.name() === 'limit')) return runCommands(args, io);
  const program = new Command('custos')
    .option('--server <url>', 'control plane URL').option('--token <token>', 'credential').option('--json', 'JSON output')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s), outputError: (s, write) => write(s.replace(/^error: /, 'custos: ')) });
  registerLimitCommands(program, io);
  for (const cmd of allCommands(program)) cmd.exitOverride();
  try {
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code) ? 0 : 2;
    io.stderr.write(`custos: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}

let h: Harness;
let url: string;
let auditor: string;
async function custos(args: string[], token = h.adminToken) {
  const c = capture({ CUSTOS_SERVER: url, CUSTOS_TOKEN: token, CUSTOS_DATA_DIR: '/nonexistent' });
  const code = await run(args, c.io);
  return { code, stdout: c.out(), stderr: c.err() };
}
const limitRows = async () => Number((await sql<{ n: number | string }>`select count(*) as n from gateway_limits`.execute(h.cp.db.kysely)).rows[0]!.n);

beforeAll(async () => {
  h = await startHarness('sqlite');
  // The limits part as the gateway module composes it (until it does), its routes on the control plane's app.
  if (!(h.cp.gateway as { limits?: unknown }).limits) createLimitsPart({ db: h.cp.db, audit: h.cp.audit, clock: h.clock, newId }).registerRoutes(h.cp.http);
  url = await h.cp.http.listen({ host: '127.0.0.1', port: 0 });
  h.clock.set('2026-06-15T09:30:05.000Z');
  auditor = await h.operator('aud-ann', 'auditor');
  await h.call('POST', '/v1/principals', { name: 'keeper', kind: 'human' });
  await h.call('POST', '/v1/principals', { name: 'support-bot', kind: 'agent', owner: 'keeper', status: 'active' });
  await h.call('POST', '/v1/teams', { name: 'ml' });
});
afterAll(async () => { await h?.close(); });

describe('custos limit', () => {
  it('every command describes every option and argument and shows an example', async () => {
    const program = new Command('custos');
    registerLimitCommands(program, capture().io);
    const commands = allCommands(program).slice(1);
    expect(commands.flatMap((c) => c.options.filter((o) => !o.description).map((o) => `${c.name()} ${o.flags}`))).toEqual([]);
    expect(commands.flatMap((c) => c.registeredArguments.filter((a) => !a.description).map((a) => `${c.name()} ${a.name()}`))).toEqual([]);
    for (const path of [['limit'], ['limit', 'set'], ['limit', 'list'], ['limit', 'show'], ['limit', 'remove']]) {
      const r = await custos([...path, '--help']);
      expect(r.code, path.join(' ')).toBe(0);
      expect(r.stdout, path.join(' ')).toMatch(/\nExamples?:\n {2}custos /);
    }
  });

  it('values: whole numbers with k or M, none to clear; anything else is a usage error', () => {
    const p = parseLimitValue('--tokens-per-day');
    expect([p('5000'), p('250k'), p('10M'), p('1_000'), p('none'), p('NONE'), p('2147483647')]).toEqual([5000, 250_000, 10_000_000, 1000, 'none', 'none', 2_147_483_647]);
    for (const bad of ['0', '-5', '1.5', 'abc', '3G', '2147483648', '3000M', '', 'k']) expect(() => p(bad), bad).toThrow(/--tokens-per-day takes a whole number/);
    expect([grouped(5), grouped(1234), grouped(2_147_483_647)]).toEqual(['5', '1,234', '2,147,483,647']);
  });

  it('set, change, clear one value, list, show with usage, remove', async () => {
    const set = await custos(['limit', 'set', 'principal', 'support-bot', '--requests-per-minute', '60', '--tokens-per-day', '500k', '--reason', 'pilot quota']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe("limit on principal 'support-bot': 60 requests/min, 500,000 tokens/day (applies to the next call)\n");
    const changed = await custos(['limit', 'set', 'principal', 'support-bot', '--tokens-per-day', 'none', '--tokens-per-month', '10M', '--reason', 'monthly']);
    expect(changed.stdout).toBe("limit on principal 'support-bot': 60 requests/min, 10,000,000 tokens/month (applies to the next call)\n");
    expect((await custos(['limit', 'set', 'team', 'ml', '--tokens-per-minute', '40k', '--reason', 'team'])).code).toBe(0);

    const list = await custos(['limit', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/KIND +│? *TARGET/);
    expect(list.stdout).toMatch(/principal .*support-bot .*60 .*- .*- .*10,000,000/);
    expect(list.stdout).toMatch(/team .*ml .*- .*40,000/);
    const teams = JSON.parse((await custos(['--json', 'limit', 'list', '--kind', 'team'])).stdout);
    expect(teams.items.map((l: any) => l.target.name)).toEqual(['ml']);

    const shown = await custos(['limit', 'show', 'principal', 'support-bot'], auditor);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/requests_per_minute +60\n/);
    expect(shown.stdout).toMatch(/tokens_per_day +-\n/);
    expect(shown.stdout).toMatch(/used requests\/min +0 of 60 \(0%\), resets at 2026-06-15T09:31:00.000Z\n/);
    expect(shown.stdout).toMatch(/used tokens\/month +0 of 10,000,000 \(0%\), resets at 2026-07-01T00:00:00.000Z\n/);

    const removed = await custos(['limit', 'remove', 'principal', 'support-bot', '--reason', 'pilot over']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe("removed the limit on principal 'support-bot' (applies to the next call)\n");
    const gone = await custos(['limit', 'show', 'principal', 'support-bot']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("no limit is set on principal 'support-bot'");
    await custos(['limit', 'remove', 'team', 'ml', '--reason', 'cleanup']);
  });

  it('bad values, kinds and missing options never leave the CLI (exit 2); server refusals are exit 1', async () => {
    const before = await limitRows();
    for (const args of [
      ['limit', 'set', 'principal', 'support-bot', '--tokens-per-day', '0', '--reason', 'x'],
      ['limit', 'set', 'principal', 'support-bot', '--tokens-per-day', 'lots', '--reason', 'x'],
      ['limit', 'set', 'principal', 'support-bot', '--requests-per-minute', '2147483648', '--reason', 'x'],
      ['limit', 'set', 'group', 'ml', '--tokens-per-day', '5', '--reason', 'x'],
      ['limit', 'set', 'principal', 'support-bot', '--tokens-per-day', '5'], // no reason
      ['limit', 'set', 'principal', 'support-bot', '--reason', 'x'], // nothing to set
      ['limit', 'remove', 'principal', 'support-bot'], // no reason
      ['limit', 'list', '--kind', 'robot'],
    ]) {
      const r = await custos(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n').length, args.join(' ')).toBeLessThanOrEqual(2);
    }
    const forbidden = await custos(['limit', 'set', 'principal', 'support-bot', '--tokens-per-day', '5', '--reason', 'x'], auditor);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toContain('forbidden');
    const ghost = await custos(['limit', 'set', 'principal', 'ghost', '--tokens-per-day', '5', '--reason', 'x']);
    expect(ghost.code).toBe(1);
    expect(ghost.stderr).toContain("principal 'ghost' does not exist");
    expect(await limitRows()).toBe(before);
  });
});
