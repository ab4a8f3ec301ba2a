import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allCommands, buildProgram } from '../../src/cli/program.js';
import { VERSION } from '../../src/version.js';
import { CUSTOS_BIN, runCustos, type CliResult } from '../support/cli-process.js';
import { startHarness, type Harness } from '../support/harness.js';

// What a user trips over at the terminal: versions, usage errors before any request, secrets kept out of
// logs, pipes closed early, files written private.

async function custos(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCustos(args, { CUSTOS_DATA_DIR: '/nonexistent', ...env });
}

let h: Harness;
let url: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-cli-'));

beforeAll(async () => {
  h = await startHarness('sqlite');
  url = await h.cp.listen();
});
afterAll(async () => {
  await h.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('CLI hygiene', () => {
  it('--version prints the package version', async () => {
    const r = await custos(['--version']);
    expect([r.code, r.stdout.trim()]).toEqual([0, VERSION]);
  });

  it('init with its output going to a file or pipe does not print the bootstrap token, only where it is', async () => {
    const dir = path.join(tmp, 'data');
    const r = await custos(['init', '--data-dir', dir, '--log-level', 'silent']);
    expect(r.code).toBe(0);
    const token = fs.readFileSync(path.join(dir, 'bootstrap-admin.token'), 'utf8').trim();
    expect(token).toMatch(/^custos_op_/);
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(r.stderr).toContain(path.join(dir, 'bootstrap-admin.token'));
  });

  it('usage errors exit 2 before any request is made (the server here is unreachable)', async () => {
    const env = { CUSTOS_SERVER: 'http://127.0.0.1:9', CUSTOS_TOKEN: h.adminToken };
    for (const args of [['token', 'create', 'x', '--role', 'admin', '--ttl', '5'], ['token', 'create', 'x', '--role', 'admin', '--ttl', '1h'],
      ['principal', 'list', '--limit', '0'], ['token', 'revoke', 'NOT-AN-ID'], ['token', 'create', 'x', '--role', 'king']]) {
      const r = await custos(args, env);
      expect([r.code, r.stderr.includes('cannot reach')], args.join(' ')).toEqual([2, false]);
    }
    const help = await custos(['token', 'create', '--help']);
    expect(help.stdout).toMatch(/60 \(1 minute\) to 7776000 \(90 days\)/);
    expect(help.stdout).toMatch(/Example:/);
  });

  it('an early-closed pipe ends quietly: no EPIPE stack trace', async () => {
    // Enough output to overflow the pipe's buffer after head has gone.
    for (let i = 0; i < 300; i++) await h.call('POST', '/v1/principals', { name: `pipe-${i}`, kind: 'human', description: 'x'.repeat(200) });
    const { execFile: ef } = await import('node:child_process');
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = ef('/bin/sh', ['-c', `"${process.execPath}" "${CUSTOS_BIN}" --json principal list --all | head -c 10 > /dev/null; exit 0`], {
        env: { PATH: process.env.PATH ?? '', CUSTOS_SERVER: url, CUSTOS_TOKEN: h.adminToken },
      }, (error, _stdout, stderr) => resolve({ code: error ? (error as { code?: number }).code ?? 1 : 0, stderr }));
      void child;
    });
    expect(result.stderr).not.toMatch(/EPIPE|Error:|at /);
  });

  it('--output files are created 0600 and the CLI says what it wrote', async () => {
    const file = path.join(tmp, 'principals.csv');
    const r = await custos(['principal', 'export', '--format', 'csv', '--output', file], { CUSTOS_SERVER: url, CUSTOS_TOKEN: h.adminToken });
    expect(r.code).toBe(0);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(r.stderr).toMatch(new RegExp(`wrote .* to ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('every command describes every option and shows an example in --help', async () => {
    const sink = { write: () => true } as unknown as NodeJS.WritableStream;
    const program = buildProgram({ stdout: sink, stderr: sink, stdoutIsTTY: false, env: {} });
    const commands = allCommands(program).filter((c) => c !== program && c.name() !== 'scan' && c.commands.length === 0);
    expect(commands.length).toBeGreaterThan(40);
    const undescribed = commands.flatMap((c) => c.options.filter((o) => !o.description).map((o) => `${c.parent?.name()} ${c.name()} ${o.flags}`));
    expect(undescribed).toEqual([]);
    const paths = commands.map((c) => {
      const path: string[] = [];
      for (let p: typeof c | null = c; p && p !== program; p = p.parent) path.unshift(p.name());
      return path;
    });
    paths.push(['scan', 'dir'], ['scan', 'git'], ['scan', 'image']);
    // One process per command, a few at a time: there are many commands and each start costs a Node boot.
    const missing: string[] = [];
    for (let i = 0; i < paths.length; i += 4) {
      await Promise.all(paths.slice(i, i + 4).map(async (path) => {
        const r = await custos([...path, '--help']);
        if (r.code !== 0 || !/\nExamples?:\n {2}\S/.test(r.stdout)) missing.push(path.join(' '));
      }));
    }
    expect(missing.sort()).toEqual([]);
  }, 180_000);
});
