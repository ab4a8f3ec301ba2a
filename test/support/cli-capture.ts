import { Writable } from 'node:stream';
import type { CliIo } from '../../src/cli/output.js';

// The CLI's input and output for in-process CLI tests (runCommands with this io): what it wrote to stdout and stderr.
export function capture(env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) => new Writable({ write(chunk, _enc, done) { append(String(chunk)); done(); } });
  const io: CliIo = { stdout: sink((s) => { out += s; }), stderr: sink((s) => { err += s; }), stdoutIsTTY: false, env };
  return { io, out: () => out, err: () => err };
}
