import { describe, expect, it } from 'vitest';
import { allCommands, buildProgram, runCommands } from '../program.js';
import type { CliIo } from '../output.js';

// custos apikey: every verb is described and shows an example, and a malformed id or number is a usage error
// (exit 2) before any request (the server here is unreachable, which would be exit 3).

function captured(): { io: CliIo; out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    stdout: { write: (s: string) => { out.push(s); return true; } },
    stderr: { write: (s: string) => { err.push(s); return true; } },
    stdoutIsTTY: false,
    env: { CUSTOS_SERVER: 'http://127.0.0.1:9', CUSTOS_TOKEN: 'custos_op_x' },
  } as unknown as CliIo;
  return { io, out: () => out.join(''), err: () => err.join('') };
}

describe('custos apikey', () => {
  it('has create, list, rotate and revoke, each described with every option and an example', async () => {
    const verbs = allCommands(buildProgram(captured().io)).filter((c) => c.parent?.name() === 'apikey');
    expect(verbs.map((c) => c.name()).sort()).toEqual(['create', 'list', 'revoke', 'rotate']);
    for (const verb of verbs) {
      expect(verb.description(), verb.name()).not.toBe('');
      expect(verb.options.filter((o) => !o.description).map((o) => o.flags), verb.name()).toEqual([]);
      const c = captured();
      expect(await runCommands(['apikey', verb.name(), '--help'], c.io)).toBe(0);
      expect(c.out(), verb.name()).toMatch(/\nExamples?:\n {2}custos apikey /);
    }
    const create = captured();
    await runCommands(['apikey', 'create', '--help'], create.io);
    expect(create.out()).toMatch(/default 86400 \(24\s+hours\)/);
  });

  it('refuses a malformed id, a short ttl and an overlap beyond 7 days before any request', async () => {
    for (const args of [
      ['apikey', 'revoke', 'NOT-AN-ID'], ['apikey', 'rotate', 'short'], ['apikey', 'create', 'bot', '--ttl', '59'],
      ['apikey', 'create', 'bot', '--ttl', '1h'], ['apikey', 'rotate', 'abcdefghijklmnop', '--overlap', '604801'], ['apikey', 'list', '--limit', '0'],
    ]) {
      const c = captured();
      expect(await runCommands(args, c.io), args.join(' ')).toBe(2);
      expect(c.err(), args.join(' ')).not.toMatch(/cannot reach/);
    }
  });
});
