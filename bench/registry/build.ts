// Shared by the benches that serve a committed revision (authz, refresh): compile it into bench/.work/<name>
// (git archive + tsc, so other sessions' uncommitted edits are not measured), and read numeric options.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

/** Compiles `rev` (src, bin, package.json, tsconfig.json) into bench/.work/<name>; returns that root. */
export function buildRev(opts: { repoRoot: string; rev: string; name: string; log: (line: string) => void }): string {
  const { repoRoot, rev, name, log } = opts;
  const root = path.join(repoRoot, 'bench', '.work', name);
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  log(`building ${rev} into bench/.work/${name}…`);
  const archive = spawnSync('git', ['archive', rev, 'src', 'bin', 'package.json', 'tsconfig.json'], { cwd: repoRoot, maxBuffer: 1 << 30 });
  if (archive.status !== 0) throw new Error(`git archive failed: ${archive.stderr.toString()}`);
  const untar = spawnSync('tar', ['-x', '-C', root], { input: archive.stdout });
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr.toString()}`);
  const tsc = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.json')], { cwd: root, encoding: 'utf8' });
  // Type errors still emit JavaScript (no noEmitOnError); say so and go on, as `npm run build` output would run too.
  if (tsc.status !== 0) log(`warning: tsc reported errors in ${rev} (JavaScript emitted anyway):\n${(tsc.stdout + tsc.stderr).trim().split('\n').slice(0, 5).join('\n')}`);
  return root;
}

/** A numeric option within bounds, or an error naming it. */
export function num(name: string, value: string | undefined, min: number, max: number, integer = true): number {
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  return n;
}
