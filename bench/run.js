#!/usr/bin/env node
// Benchmark dispatcher: `npm run bench -- <name> [args]` runs bench/<name>/run.ts (through tsx) or
// bench/<name>/run.js (through node), passing the remaining arguments and its exit status through.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const [name, ...args] = process.argv.slice(2);

function available() {
  return fs.readdirSync(benchDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && ['run.ts', 'run.js'].some((f) => fs.existsSync(path.join(benchDir, d.name, f))))
    .map((d) => d.name)
    .sort();
}

if (!name || name === '--help' || name === '-h') {
  const names = available();
  process.stderr.write(`usage: npm run bench -- <name> [args]\navailable: ${names.length ? names.join(', ') : '(none)'}\n`);
  process.exit(name ? 0 : 2);
}
if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
  process.stderr.write(`bench: invalid name '${name}'\n`);
  process.exit(2);
}

const ts = path.join(benchDir, name, 'run.ts');
const js = path.join(benchDir, name, 'run.js');
let argv;
if (fs.existsSync(ts)) {
  // Run tsx's CLI with this node directly: no npx lookup, and signals reach the bench process.
  const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
  argv = [tsxCli, ts, ...args];
} else if (fs.existsSync(js)) {
  argv = [js, ...args];
} else {
  process.stderr.write(`bench: no bench/${name}/run.ts or run.js; available: ${available().join(', ') || '(none)'}\n`);
  process.exit(2);
}

const child = spawn(process.execPath, argv, { stdio: 'inherit', cwd: path.dirname(benchDir) });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
