import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { runCommands } from '../program.js';
import { parseMapOption } from './federation.js';

// The --map syntax, and usage errors that stop before any request (the server below is unreachable).

function capture() {
  let out = '';
  let err = '';
  const io = {
    stdout: { write: (s: string) => { out += s; return true; } } as unknown as NodeJS.WritableStream,
    stderr: { write: (s: string) => { err += s; return true; } } as unknown as NodeJS.WritableStream,
    stdoutIsTTY: false,
    env: { CUSTOS_SERVER: 'http://127.0.0.1:9', CUSTOS_TOKEN: 'custos_op_unused', CUSTOS_DATA_DIR: '/nonexistent' },
  };
  return { io, out: () => out, err: () => err };
}

describe('parseMapOption', () => {
  it('reads principal and claim conditions, with a|b as alternatives and dotted claim names kept whole', () => {
    expect(parseMapOption('principal=ci-deployer,repository=org/app,ref=refs/heads/main')).toEqual({
      principal: 'ci-deployer', claims: { repository: 'org/app', ref: 'refs/heads/main' },
    });
    expect(parseMapOption('ref=refs/heads/main|refs/heads/release,principal=ci,kubernetes.io.namespace=ci')).toEqual({
      principal: 'ci', claims: { ref: ['refs/heads/main', 'refs/heads/release'], 'kubernetes.io.namespace': 'ci' },
    });
    expect(parseMapOption('principal=ci,sub=repo:org/app:ref:refs/heads/main')).toEqual({ principal: 'ci', claims: { sub: 'repo:org/app:ref:refs/heads/main' } });
    expect(parseMapOption('principal=ci,x=a=b')).toEqual({ principal: 'ci', claims: { x: 'a=b' } });
  });
  it('refuses a mapping without a principal or a condition, repeated names, empty values or alternatives', () => {
    for (const bad of ['repository=org/app', 'principal=ci', 'principal=ci,ref', 'principal=ci,=x', 'principal=ci,ref=', 'principal=a,principal=b,ref=x',
      'principal=ci,ref=a,ref=b', 'principal=ci,ref=a||b', 'principal=ci,,ref=a']) {
      expect(() => parseMapOption(bad), bad).toThrow(InvalidArgumentError);
    }
  });
});

describe('custos federation usage errors', () => {
  const base = ['federation', 'add', 'github', '--issuer', 'https://token.actions.githubusercontent.com', '--audience', 'custos'];
  it('exit 2 before any request: no key source, both key sources, no --map, a bad --map, an unreadable or non-JSON --jwks', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-fed-'));
    const notJson = path.join(dir, 'keys.txt');
    fs.writeFileSync(notJson, 'not json');
    const cases = [
      [...base, '--map', 'principal=ci,repository=org/app'],
      [...base, '--jwks-url', 'https://x.example/jwks', '--jwks', notJson, '--map', 'principal=ci,repository=org/app'],
      [...base, '--jwks-url', 'https://x.example/jwks'],
      [...base, '--jwks-url', 'https://x.example/jwks', '--map', 'repository=org/app'],
      [...base, '--jwks', path.join(dir, 'missing.json'), '--map', 'principal=ci,repository=org/app'],
      [...base, '--jwks', notJson, '--map', 'principal=ci,repository=org/app'],
      [...base, '--jwks-url', 'https://x.example/jwks', '--map', 'principal=ci,repository=org/app', '--max-token-age', '5'],
    ];
    for (const args of cases) {
      const c = capture();
      expect(await runCommands(args, c.io), args.join(' ')).toBe(2);
      expect(c.err(), args.join(' ')).not.toMatch(/cannot reach/);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  it('shows examples in help', async () => {
    const c = capture();
    expect(await runCommands(['federation', 'add', '--help'], c.io)).toBe(0);
    expect(c.out()).toMatch(/Examples:\n {2}custos federation add github/);
  });
});
