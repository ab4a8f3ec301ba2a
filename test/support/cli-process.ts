import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

// The CLI as a user runs it: `node bin/custos.js …` in its own process, with exactly the environment given
// (plus PATH), so nothing from the test runner's environment leaks in.

export const CUSTOS_BIN = path.resolve(import.meta.dirname, '../../bin/custos.js');
const run = promisify(execFile);

export interface CliResult { code: number; stdout: string; stderr: string }

export async function runCustos(args: string[], env: Record<string, string>): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CUSTOS_BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
