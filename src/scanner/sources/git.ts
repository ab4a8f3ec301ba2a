// Git history source: streams `git log --all -p --cc` and scans the lines each commit added.
// Safe on untrusted repositories: no hooks, pager, external diff, textconv, fsmonitor, signature
// programs, replace refs, system/global config or submodule recursion; nothing is checked out.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Collector } from '../collector.js';
import type { Engine } from '../engine.js';

const COMMIT_MARK = '\x1eCOMMIT\x1f';

/** Config overrides that neutralise every repository-controlled program git could start for `log -p`. */
export const SAFE_GIT_CONFIG = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'core.pager=cat',
  'core.quotePath=false',
  'diff.external=',
  'log.showSignature=false',
  'gpg.program=false',
  'gpg.ssh.program=false',
  'gpg.x509.program=false',
  'submodule.recurse=false',
  'diff.submodule=short',
  'color.ui=false',
  'safe.directory=*',
];

export async function safeGitEnv(home: string): Promise<NodeJS.ProcessEnv> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: home,
    LANG: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_PAGER: 'cat',
    PAGER: 'cat',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_ASKPASS: '/bin/false',
  };
}

function gitArgs(repo: string, rest: string[]): string[] {
  return ['-C', repo, '--no-pager', ...SAFE_GIT_CONFIG.flatMap((c) => ['-c', c]), ...rest];
}

function runGit(repo: string, env: NodeJS.ProcessEnv, rest: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('git', gitArgs(repo, rest), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString('utf8'); });
    p.stderr.on('data', (d: Buffer) => { err += d.toString('utf8'); });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? 1, out, err }));
  });
}

/** Undoes git's C-style quoting of unusual paths ("a\tb" → a<TAB>b); quotePath=false keeps UTF-8 as is. */
export function unquoteGitPath(p: string): string {
  if (!p.startsWith('"') || !p.endsWith('"')) return p;
  const inner = p.slice(1, -1);
  const bytes: number[] = [];
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i]!;
    if (ch !== '\\') {
      bytes.push(...Buffer.from(ch, 'utf8'));
      continue;
    }
    const n = inner[++i] ?? '';
    const map: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 };
    if (/[0-7]/.test(n)) {
      bytes.push(parseInt(inner.slice(i, i + 3), 8));
      i += 2;
    } else bytes.push(map[n] ?? n.charCodeAt(0));
  }
  return Buffer.from(bytes).toString('utf8');
}

export class NotAGitRepository extends Error {}

export async function scanGit(c: Collector, engine: Engine, repo: string): Promise<void> {
  const home = await mkdtemp(path.join(tmpdir(), 'custos-git-home-'));
  try {
    const env = await safeGitEnv(home);
    const probe = await runGit(repo, env, ['rev-parse', '--is-shallow-repository']);
    if (probe.code !== 0) throw new NotAGitRepository(`not a git repository: ${repo}`);
    if (probe.out.trim() === 'true') c.incomplete('shallow clone: commits before the shallow boundary were not scanned');
    await streamLog(c, engine, repo, env);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

async function streamLog(c: Collector, engine: Engine, repo: string, env: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn('git', gitArgs(repo, [
    'log', '--all', '-p', '--cc', '-U0', '--no-renames', '--no-ext-diff', '--no-textconv', '--no-color',
    '--submodule=short', '--no-abbrev', `--format=${COMMIT_MARK}%H%x1f%an <%ae>%x1f%aI`,
  ]), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { if (stderr.length < 4000) stderr += d.toString('utf8'); });
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });

  let commit = { hash: '', author: '', date: '' };
  let filePath: string | null = null;
  let inHeader = false;
  let parents = 1;
  let newLine = 0;
  let lines: string[] = [];
  let lineNos: number[] = [];
  let size = 0;

  const flush = () => {
    if (filePath && lines.length > 0) {
      const text = lines.join('\n');
      c.addBytes(text.length);
      for (const m of engine.scanText(text, filePath)) {
        const line = lineNos[m.line - 1] ?? m.line;
        c.addMatch(m, { path: filePath, line, column: m.column, commit: commit.hash, author: commit.author, date: commit.date });
      }
    }
    lines = [];
    lineNos = [];
    size = 0;
  };

  const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
  let stopped = false;
  for await (const raw of rl) {
    if (c.timeUp()) {
      stopped = true;
      child.kill();
      break;
    }
    if (raw.startsWith(COMMIT_MARK)) {
      flush();
      filePath = null;
      const [hash = '', author = '', date = ''] = raw.slice(COMMIT_MARK.length).split('\x1f');
      commit = { hash, author, date };
      continue;
    }
    if (raw.startsWith('diff --git ') || raw.startsWith('diff --cc ') || raw.startsWith('diff --combined ')) {
      flush();
      filePath = null;
      inHeader = true;
      continue;
    }
    if (inHeader) {
      if (raw.startsWith('+++ ')) {
        const p = unquoteGitPath(raw.slice(4));
        filePath = p === '/dev/null' ? null : p.replace(/^b\//, '');
        if (filePath) c.scanned();
      } else if (raw.startsWith('@@')) {
        inHeader = false;
      } else continue;
    }
    if (raw.startsWith('@@')) {
      // "@@ -a,b +c,d @@" or, for merges, "@@@ -a,b -c,d +e,f @@@": one '@' more than parents.
      const at = /^(@+)/.exec(raw)![1]!.length;
      parents = Math.max(1, at - 1);
      const plus = / \+(\d+)/.exec(raw);
      newLine = plus ? Number(plus[1]) : 0;
      continue;
    }
    if (!filePath) continue;
    const prefix = raw.slice(0, parents);
    if (prefix.includes('-')) continue; // removed from the result
    if (prefix.length === parents && !prefix.includes(' ') && prefix.split('').every((ch) => ch === '+')) {
      // New against every parent: a normal added line, or content a merge introduced itself.
      lines.push(raw.slice(parents));
      lineNos.push(newLine);
      size += raw.length;
      if (size > c.limits.maxFileBytes) flush();
    }
    if (!raw.startsWith('\\')) newLine++;
  }
  if (!stopped) flush();
  const code = await exited;
  if (code !== 0 && !stopped) c.incomplete(`git log exited with ${code}: ${stderr.trim().split('\n')[0] ?? ''}`);
}
