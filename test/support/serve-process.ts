import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CUSTOS_BIN } from './cli-process.js';

// A control plane as an operator runs it: `node bin/custos.js serve` in its own process (the compiled dist/, so
// `npm run build` first, as `npm test` does), on a free port, with a fresh data dir and exactly the environment
// given (plus PATH). Used where something only a fresh process reads matters, e.g. NODE_EXTRA_CA_CERTS.
// Rules:
// - Ready once it prints "listening on <url>" on stderr; the bootstrap admin token is then read from
//   <data dir>/bootstrap-admin.token. Not ready within `startMs` (default 30 s), or exited first: the process is
//   killed and the error carries what it printed.
// - stop(): SIGTERM (a clean shutdown), SIGKILL after `stopMs` (default 10 s); the data dir is removed.

export interface ServedCustos {
  /** The listener's address, which is also the issuer (no --public-url). */
  url: string;
  dataDir: string;
  adminToken: string;
  /** Everything printed on stderr so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

const MAIN = path.resolve(path.dirname(CUSTOS_BIN), '../dist/cli/main.js');

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function serveCustos(args: string[], env: Record<string, string> = {}, opts: { startMs?: number; stopMs?: number } = {}): Promise<ServedCustos> {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` before the process-level tests`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-serve-'));
  const child = spawn(process.execPath, [CUSTOS_BIN, 'serve', '--port', '0', '--gateway-port', '0', '--data-dir', dataDir, '--log-level', 'warn', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.stopMs ?? 10_000);
      await exited(child);
      clearTimeout(timer);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`custos serve did not start within ${opts.startMs ?? 30_000} ms`)), opts.startMs ?? 30_000);
      child.stderr!.on('data', (chunk: string) => {
        stderr += chunk;
        const m = /listening on (http\S+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('error', (error) => { clearTimeout(timer); reject(error); });
      child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`custos serve exited (${code ?? signal}) before listening`)); });
    });
    const adminToken = fs.readFileSync(path.join(dataDir, 'bootstrap-admin.token'), 'utf8').trim();
    return { url, dataDir, adminToken, output: () => stderr, stop };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- its stderr ---\n${stderr}`);
  }
}
