import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { CliError } from '../client.js';
import { collectMapping, parseGroupMapping, registerIdpCommands } from './idp.js';

// The repeatable --group-role / --group-team syntax, and usage errors that stop before any request (the server
// below is unreachable, so reaching it would fail differently).

function program() {
  const sink = { write: () => true } as unknown as NodeJS.WritableStream;
  const io = { stdout: sink, stderr: sink, stdoutIsTTY: false, env: { CUSTOS_SERVER: 'http://127.0.0.1:9', CUSTOS_TOKEN: 'custos_op_unused', CUSTOS_DATA_DIR: '/nonexistent' } };
  const root = new Command('custos').option('--server <url>').option('--token <token>').option('--json').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerIdpCommands(root, io);
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(root)) c.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  return root;
}

const add = ['idp', 'add', 'okta', '--issuer', 'https://example.okta.com', '--client-id', 'c'];

describe('group mapping flags', () => {
  it('split at the last =, so a group name may hold =', () => {
    expect(parseGroupMapping('--group-role', 'custos-admins=admin')).toEqual(['custos-admins', 'admin']);
    expect(parseGroupMapping('--group-team', 'CN=ML,OU=Groups=ml-platform')).toEqual(['CN=ML,OU=Groups', 'ml-platform']);
  });
  it('refuse a flag without a group or a value', () => {
    for (const bad of ['admin', '=admin', 'group=', '']) expect(() => parseGroupMapping('--group-role', bad), bad).toThrow(InvalidArgumentError);
  });
  it('accumulate repeated flags into one map, refusing a group named twice and a bad value', () => {
    const collect = collectMapping('--group-role', (v) => { if (v !== 'admin' && v !== 'auditor') throw new InvalidArgumentError('bad role'); });
    expect(collect('b=auditor', collect('a=admin'))).toEqual({ a: 'admin', b: 'auditor' });
    expect(() => collect('a=auditor', { a: 'admin' })).toThrow(/twice/);
    expect(() => collect('a=root')).toThrow(InvalidArgumentError);
  });
});

describe('custos idp add: usage errors before any request', () => {
  it('refuses an unknown role, a repeated group, and choices outside the lists', async () => {
    for (const extra of [['--group-role', 'g=root'], ['--group-role', 'g=admin', '--group-role', 'g=auditor'], ['--client-auth', 'client_secret_jwt'],
      ['--subject-claim', 'upn'], ['--new-principal-status', 'suspended'], ['--group-team', 'no-equals']]) {
      const error = await program().parseAsync([...add, ...extra], { from: 'user' }).then(() => undefined, (e: unknown) => e);
      expect(error, extra.join(' ')).toBeInstanceOf(CommanderError);
    }
  });
  it('never takes the secret as a flag value', async () => {
    const error = await program().parseAsync([...add, '--client-secret', 's3cret'], { from: 'user' }).then(() => undefined, (e: unknown) => e);
    expect((error as CommanderError).code).toBe('commander.unknownOption');
  });
  it('a missing or empty secret file, or both secret sources, is a usage error (exit 2)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-idp-cli-'));
    try {
      const empty = path.join(dir, 'empty');
      fs.writeFileSync(empty, '\n');
      for (const extra of [['--client-secret-file', path.join(dir, 'missing')], ['--client-secret-file', empty], ['--client-secret-file', empty, '--client-secret-stdin']]) {
        const error = await program().parseAsync([...add, ...extra], { from: 'user' }).then(() => undefined, (e: unknown) => e);
        expect(error, extra.join(' ')).toBeInstanceOf(CliError);
        expect((error as CliError).exitCode, extra.join(' ')).toBe(2);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
