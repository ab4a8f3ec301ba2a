// Secret-scanner benchmark: Custos vs secretlint (recommended preset) vs git-secrets, with ripgrep
// over the same keywords as the raw-speed ceiling. Run: `npx tsx bench/scan/run.ts [--mb 200] [--runs 3]`.
// Inputs are generated under bench/.work/scan/ (git-ignored): a source-like corpus with planted
// secrets of every rule, a git repository, and a docker-save image. Custos is compiled first (bench/scan/tsconfig.json).
// Peers are checked first (peers.ts): without them the bench names the packages to install and exits 2.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RULES } from '../../src/scanner/rules/rules.js';
import { generateCorpus, type Plant } from './corpus.js';
import { missingPeersMessage } from './peers.js';
import { makeDockerSave, type TarItem } from '../../test/scanner/fixtures.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const MB = arg('mb', 200);
const RUNS = arg('runs', 3);
const SECRETLINT_RUNS = arg('secretlint-runs', 1);
const WORK = path.join(ROOT, `bench/.work/scan/${MB}mb`);

interface Truth { plants: Plant[]; bytes: number; files: number; decoys: number }
interface Hit { file: string; line: number }
interface Measure { tool: string; input: string; seconds: number[]; bytes: number; hits: Hit[]; note?: string; cpu?: number[] }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** GNU time, when installed, gives a child's CPU seconds (user + system): steadier than wall time on a busy machine. */
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const CPU_MARK = 'custos-bench-cpu';

function time(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; cpu?: boolean } = {}): { seconds: number; stdout: string; stderr: string; status: number | null; cpu?: number } {
  const viaTime = opts.cpu === true && GNU_TIME !== null;
  const [c, a] = viaTime ? [GNU_TIME!, ['-f', `${CPU_MARK} %U %S`, cmd, ...args]] : [cmd, args];
  const t0 = performance.now();
  const r = spawnSync(c, a, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, maxBuffer: 1 << 30, encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (r.error) throw r.error;
  let stderr = r.stderr;
  let cpu: number | undefined;
  if (viaTime) {
    const m = new RegExp(`${CPU_MARK} ([0-9.]+) ([0-9.]+)\\s*$`).exec(stderr);
    if (m) {
      cpu = Number(m[1]) + Number(m[2]);
      stderr = stderr.slice(0, m.index);
    }
    stderr = stderr.replace(/^Command exited with non-zero status \d+\n/m, '');
  }
  return { seconds, stdout: r.stdout, stderr, status: r.status, ...(cpu !== undefined ? { cpu } : {}) };
}

function corpus(): { dir: string; truth: Truth } {
  const dir = path.join(WORK, 'corpus');
  const truthFile = path.join(WORK, `truth-${MB}.json`);
  if (existsSync(truthFile) && existsSync(dir)) return { dir, truth: JSON.parse(readFileSync(truthFile, 'utf8')) as Truth };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  console.error(`generating ${MB} MB corpus…`);
  const truth = generateCorpus({ dir, totalBytes: MB * 1e6, fileBytes: 100_000, plantsPerRule: 10, decoysPerRule: 10, seed: 2024 });
  writeFileSync(truthFile, JSON.stringify(truth));
  return { dir, truth };
}

/** Recall over plants (a plant counts when any hit lies in its line range), precision over distinct hit lines. */
function score(hits: Hit[], plants: Plant[], restrictTo?: Set<string>) {
  const byFile = new Map<string, Plant[]>();
  for (const p of plants) if (!restrictTo || restrictTo.has(p.file)) byFile.set(p.file, [...(byFile.get(p.file) ?? []), p]);
  const lines = new Map<string, Hit>();
  for (const h of hits) lines.set(`${h.file}:${h.line}`, h);
  let tp = 0;
  const found = new Set<Plant>();
  for (const h of lines.values()) {
    const p = (byFile.get(h.file) ?? []).find((x) => h.line >= x.start && h.line <= x.end);
    if (p) {
      tp++;
      found.add(p);
    }
  }
  const total = [...byFile.values()].reduce((a, l) => a + l.length, 0);
  const perRule = new Map<string, [number, number]>();
  for (const l of byFile.values()) for (const p of l) {
    const [f, t] = perRule.get(p.ruleId) ?? [0, 0];
    perRule.set(p.ruleId, [f + (found.has(p) ? 1 : 0), t + 1]);
  }
  return { recall: total ? found.size / total : 0, precision: lines.size ? tp / lines.size : 1, reported: lines.size, falsePositives: lines.size - tp, perRule };
}

const rel = (base: string, p: string) => path.relative(base, path.resolve(base, p)).split(path.sep).join('/');

function runCustos(kind: 'dir' | 'git' | 'image', target: string, workers: number, base: string): { seconds: number; hits: Hit[]; bytes: number; cpu?: number } {
  const out = path.join(WORK, `custos-${kind}.json`);
  const args = [CUSTOS_JS, kind, target, '--format', 'json', '--output', out, '--no-progress'];
  if (kind === 'dir') args.push('--workers', String(workers), '--no-gitignore');
  // The bench's own scan key, not the user's (~/.config/custos/scan-key).
  const r = time(process.execPath, args, { cpu: true, env: { ...process.env, CUSTOS_SCAN_KEY_FILE: path.join(WORK, 'scan-key') } });
  if (r.status !== 0 && r.status !== 1) throw new Error(`custos exited ${r.status}: ${r.stderr}`);
  const res = JSON.parse(readFileSync(out, 'utf8')) as { findings: Array<{ location: { path: string; line: number } }>; stats: { bytes: number } };
  return { seconds: r.seconds, ...(r.cpu !== undefined ? { cpu: r.cpu } : {}), bytes: res.stats.bytes, hits: res.findings.map((f) => ({ file: kind === 'dir' ? f.location.path : f.location.path, line: f.location.line })) };
}

function runSecretlint(dir: string): { seconds: number; hits: Hit[] } {
  const rc = path.join(WORK, 'secretlintrc.json');
  writeFileSync(rc, JSON.stringify({ rules: [{ id: '@secretlint/secretlint-rule-preset-recommend' }] }));
  const out = path.join(WORK, 'secretlint.json');
  // secretlint 13 honours .gitignore unless told not to; 12 (pinned: it still runs on Node 20) never reads it.
  const version = Number(JSON.parse(readFileSync(path.join(ROOT, 'node_modules/secretlint/package.json'), 'utf8')).version.split('.')[0]);
  const gitignore = version >= 13 ? ['--no-gitignore'] : [];
  const r = time(path.join(ROOT, 'node_modules/.bin/secretlint'), ['--secretlintrc', rc, '--format', 'json', '--output', out, ...gitignore, `${dir}/**/*`]);
  if (r.status !== 0 && r.status !== 1) throw new Error(`secretlint exited ${r.status}: ${r.stderr.slice(0, 500)}`);
  const res = JSON.parse(readFileSync(out, 'utf8')) as Array<{ filePath: string; messages: Array<{ loc: { start: { line: number } } }> }>;
  return { seconds: r.seconds, hits: res.flatMap((f) => f.messages.map((m) => ({ file: rel(dir, path.relative(dir, f.filePath)), line: m.loc.start.line }))) };
}

function gitSecretsEnv(home: string): NodeJS.ProcessEnv {
  mkdirSync(home, { recursive: true });
  const env = { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1' };
  if (!existsSync(path.join(home, '.gitconfig'))) execFileSync('git', ['secrets', '--register-aws', '--global'], { env });
  return env;
}

function parseGitSecrets(out: string, stripRev: boolean): Hit[] {
  const hits: Hit[] = [];
  for (const line of out.split('\n')) {
    // "path:line:text" (history: "rev:path:line:text")
    const m = stripRev ? /^[0-9a-f]{40}:([^:]+):(\d+):/.exec(line) : /^([^:]+):(\d+):/.exec(line);
    if (m) hits.push({ file: m[1]!, line: Number(m[2]) });
  }
  return hits;
}

function runGitSecretsDir(dir: string): { seconds: number; hits: Hit[] } {
  const env = gitSecretsEnv(path.join(WORK, 'gs-home'));
  const r = time('git', ['secrets', '--scan', '--no-index'], { cwd: dir, env });
  return { seconds: r.seconds, hits: parseGitSecrets(r.stdout + r.stderr, false) };
}

function runRipgrep(dir: string): { seconds: number } {
  const kw = path.join(WORK, 'keywords.txt');
  writeFileSync(kw, [...new Set(RULES.flatMap((r) => r.keywords))].join('\n') + '\n');
  const r = time('rg', ['-i', '-F', '-c', '--no-ignore', '-f', kw, dir]);
  if (r.status !== 0 && r.status !== 1) throw new Error(`rg exited ${r.status}`);
  return { seconds: r.seconds };
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n += statSync(path.join(e.parentPath, e.name)).size;
  return n;
}

/** A repository built from part of the corpus over several commits and refs, with a merge and removals. */
function gitRepo(corpusDir: string, truth: Truth): { dir: string; files: Set<string>; bytes: number } {
  const dir = path.join(WORK, 'repo');
  const all = readdirSync(corpusDir).filter((d) => d.startsWith('pkg')).sort();
  const files = all.slice(0, Math.min(4, Math.max(2, Math.floor(all.length / 2)))); // ~40 MB
  const stamp = path.join(WORK, 'repo.done');
  const pkgFiles = new Set(truth.plants.map((p) => p.file).filter((f) => files.includes(f.split('/')[0]!)));
  if (existsSync(stamp)) return { dir, files: pkgFiles, bytes: Number(readFileSync(stamp, 'utf8')) };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const env = { ...process.env, HOME: dir, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'b@example.org', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'b@example.org' };
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir, env, maxBuffer: 1 << 28 });
  git('init', '-q', '-b', 'main');
  let bytes = 0;
  files.forEach((pkg, i) => {
    if (i === files.length - 1 && i > 0) git('checkout', '-q', '-b', 'side');
    execFileSync('cp', ['-r', path.join(corpusDir, pkg), dir]);
    bytes += dirBytes(path.join(dir, pkg));
    git('add', pkg);
    git('commit', '-q', '-m', `add ${pkg}`);
  });
  git('checkout', '-q', 'main');
  writeFileSync(path.join(dir, 'README.md'), 'bench repository\n');
  git('add', 'README.md');
  git('commit', '-q', '-m', 'readme');
  git('merge', '-q', '--no-ff', '--no-edit', 'side');
  // Remove the first package's files later: their secrets survive only in history.
  git('rm', '-q', '-r', files[0]!);
  git('commit', '-q', '-m', 'remove');
  writeFileSync(stamp, String(bytes));
  return { dir, files: pkgFiles, bytes };
}

async function image(corpusDir: string, truth: Truth): Promise<{ file: string; files: Set<string>; bytes: number }> {
  const file = path.join(WORK, 'image.tar');
  const all = readdirSync(corpusDir).filter((d) => d.startsWith('pkg')).sort();
  const pkgs = all.slice(Math.min(4, Math.floor(all.length / 2)), 10); // ~60 MB, apart from the repository's
  const layers: TarItem[][] = pkgs.map((pkg) => readdirSync(path.join(corpusDir, pkg)).map((f) => ({ name: `app/${pkg}/${f}`, content: readFileSync(path.join(corpusDir, pkg, f)) })));
  // The last layer deletes the first package: those secrets remain in the image all the same.
  layers.push([{ name: `app/.wh.${pkgs[0]}`, content: '' }]);
  const bytes = layers.flat().reduce((a, it) => a + (it.content ? Buffer.byteLength(it.content) : 0), 0);
  if (!existsSync(file)) writeFileSync(file, await makeDockerSave({ layers, env: ['PATH=/usr/bin'] }));
  const files = new Set(truth.plants.map((p) => p.file).filter((f) => pkgs.includes(f.split('/')[0]!)));
  return { file, files, bytes };
}

/** Custos runs compiled, as users run it (tsc of the scanner module into bench/.work/scan-build). */
const CUSTOS_JS = path.join(ROOT, 'bench/.work/scan-build/bench/scan/custos-cli.js');

async function main(): Promise<void> {
  const missing = missingPeersMessage(ROOT);
  if (missing) {
    console.error(missing);
    process.exitCode = 2;
    return;
  }
  mkdirSync(WORK, { recursive: true });
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'bench/scan/tsconfig.json')], { stdio: 'inherit' });
  const { dir, truth } = corpus();
  const bytes = dirBytes(dir);
  const loadAtStart = loadavg();
  console.error(`corpus: ${(bytes / 1e6).toFixed(1)} MB, ${truth.files} files, ${truth.plants.length} planted secrets (${RULES.length} rules), ${truth.decoys} decoys; ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(2)}`);
  const measures: Measure[] = [];
  const repeat = <T extends { seconds: number; cpu?: number }>(n: number, f: () => T): { last: T; seconds: number[]; cpu?: number[] } => {
    const seconds: number[] = [];
    const cpu: number[] = [];
    let last!: T;
    for (let i = 0; i < n; i++) {
      last = f();
      seconds.push(last.seconds);
      if (last.cpu !== undefined) cpu.push(last.cpu);
      console.error(`  ${last.seconds.toFixed(2)} s${last.cpu !== undefined ? ` (${last.cpu.toFixed(2)} s CPU)` : ''}`);
    }
    return { last, seconds, ...(cpu.length === n ? { cpu } : {}) };
  };

  console.error('ripgrep (keywords only, ceiling)…');
  const rg = repeat(RUNS, () => runRipgrep(dir));
  measures.push({ tool: 'ripgrep keywords', input: 'corpus', seconds: rg.seconds, bytes, hits: [], note: 'no detection, raw ceiling' });
  for (const workers of [2, 0]) {
    console.error(`custos dir (${workers || 1} thread${workers > 1 ? 's' : ''})…`);
    const c = repeat(RUNS, () => runCustos('dir', dir, workers, dir));
    measures.push({ tool: `custos (${workers > 1 ? `${workers} threads` : '1 thread'})`, input: 'corpus', seconds: c.seconds, bytes, hits: c.last.hits, ...(c.cpu ? { cpu: c.cpu } : {}) });
  }
  console.error('secretlint (recommended preset)…');
  const sl = repeat(SECRETLINT_RUNS, () => runSecretlint(dir));
  measures.push({ tool: 'secretlint', input: 'corpus', seconds: sl.seconds, bytes, hits: sl.last.hits });
  console.error('git-secrets (--register-aws)…');
  const gs = repeat(RUNS, () => runGitSecretsDir(dir));
  measures.push({ tool: 'git-secrets', input: 'corpus', seconds: gs.seconds, bytes, hits: gs.last.hits });

  console.error('git repository…');
  const repo = gitRepo(dir, truth);
  const cg = repeat(RUNS, () => runCustos('git', repo.dir, 0, repo.dir));
  measures.push({ tool: 'custos', input: 'git history', seconds: cg.seconds, bytes: repo.bytes, hits: cg.last.hits, ...(cg.cpu ? { cpu: cg.cpu } : {}) });
  const gsh = repeat(1, () => {
    const env = gitSecretsEnv(path.join(WORK, 'gs-home'));
    const r = time('git', ['secrets', '--scan-history'], { cwd: repo.dir, env });
    return { seconds: r.seconds, hits: parseGitSecrets(r.stdout + r.stderr, true) };
  });
  measures.push({ tool: 'git-secrets', input: 'git history', seconds: gsh.seconds, bytes: repo.bytes, hits: gsh.last.hits });

  console.error('docker-save image…');
  const img = await image(dir, truth);
  const ci = repeat(RUNS, () => runCustos('image', img.file, 0, ''));
  measures.push({ tool: 'custos', input: 'image', seconds: ci.seconds, bytes: img.bytes, hits: ci.last.hits.map((h) => ({ file: h.file.replace(/^app\//, ''), line: h.line })), ...(ci.cpu ? { cpu: ci.cpu } : {}) });

  const rows = measures.map((m) => {
    const restrict = m.input === 'git history' ? repo.files : m.input === 'image' ? img.files : undefined;
    const s = score(m.hits, truth.plants, restrict);
    const sec = median(m.seconds);
    const cpuSec = m.cpu ? median(m.cpu) : undefined;
    return { ...m, sec, mbs: m.bytes / 1e6 / sec, ...(cpuSec !== undefined ? { cpuSec, mbsPerCpuSecond: m.bytes / 1e6 / cpuSec } : {}), ...s };
  });
  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(`\n${pad('tool', 22)}${pad('input', 13)}${pad('MB', 8)}${pad('median s', 10)}${pad('MB/s', 9)}${pad('CPU s', 8)}${pad('recall', 8)}${pad('precision', 10)}${pad('reported', 9)}FP`);
  for (const r of rows) {
    const detect = r.tool.startsWith('ripgrep');
    console.log(`${pad(r.tool, 22)}${pad(r.input, 13)}${pad((r.bytes / 1e6).toFixed(0), 8)}${pad(r.sec.toFixed(2), 10)}${pad(r.mbs.toFixed(1), 9)}${pad(r.cpuSec !== undefined ? r.cpuSec.toFixed(2) : '-', 8)}${pad(detect ? '-' : (r.recall * 100).toFixed(1) + '%', 8)}${pad(detect ? '-' : (r.precision * 100).toFixed(1) + '%', 10)}${pad(detect ? '-' : String(r.reported), 9)}${detect ? '-' : r.falsePositives}`);
  }
  const get = (tool: string, input = 'corpus') => rows.find((r) => r.tool === tool && r.input === input)!;
  const c2 = get('custos (2 threads)');
  const c1 = get('custos (1 thread)');
  console.log('\nratios on the corpus:');
  console.log(`  custos(2 threads) / secretlint throughput: ${(c2.mbs / get('secretlint').mbs).toFixed(1)}x`);
  console.log(`  custos(2 threads) / git-secrets throughput: ${(c2.mbs / get('git-secrets').mbs).toFixed(1)}x`);
  console.log(`  custos(2 threads) / ripgrep keyword ceiling: ${(c2.mbs / get('ripgrep keywords').mbs).toFixed(2)}x`);
  console.log(`  custos(1 thread) / secretlint throughput: ${(c1.mbs / get('secretlint').mbs).toFixed(1)}x`);
  console.log(`  recall custos ${(c2.recall * 100).toFixed(1)}% vs secretlint ${(get('secretlint').recall * 100).toFixed(1)}% vs git-secrets ${(get('git-secrets').recall * 100).toFixed(1)}%`);
  const missed = [...c2.perRule].filter(([, [f, t]]) => f < t).map(([id, [f, t]]) => `${id} ${f}/${t}`);
  console.log(`  custos rules with misses: ${missed.length ? missed.join(', ') : 'none'}`);
  const sp = [...get('secretlint').perRule].filter(([, [f]]) => f > 0).map(([id]) => id);
  console.log(`  rules secretlint found at least once: ${sp.length}/${RULES.length}`);
  const results = JSON.stringify({
    when: new Date().toISOString(), cpus: cpus().length, loadAtStart, loadAtEnd: loadavg(),
    rows: rows.map(({ hits: _h, perRule, ...r }) => ({ ...r, perRule: Object.fromEntries(perRule) })),
  }, null, 2) + '\n';
  writeFileSync(path.join(WORK, 'results.json'), results);
  // The full-size run's figures are kept beside the script (committed with the docs that quote them).
  if (MB === 200) writeFileSync(path.join(ROOT, 'bench/scan/results.json'), results);
  console.log(`\nload average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (${cpus().length} CPUs); raw figures in ${path.relative(ROOT, WORK)}/results.json`);
}

await main();
