import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scanGitHistory } from '../scan.service.js';
import { checksummedToken, fakeCustosToken, seeded } from '../rules/fake.js';
import { unquoteGitPath } from './git.js';

const rnd = seeded(99);
const onMain = checksummedToken('ghp_', rnd);
const onBranch = checksummedToken('npm_', rnd);
const inMerge = fakeCustosToken('op', rnd);
let repo: string;
let marker: string;

function git(...args: string[]): string {
  return execFileSync('git', args, {
    cwd: repo,
    env: { PATH: process.env.PATH, HOME: repo, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.org',
      GIT_COMMITTER_NAME: 'Ada', GIT_COMMITTER_EMAIL: 'ada@example.org', GIT_AUTHOR_DATE: '2024-05-01T10:00:00Z', GIT_COMMITTER_DATE: '2024-05-01T10:00:00Z' },
  }).toString();
}

beforeAll(async () => {
  repo = await mkdtemp(path.join(tmpdir(), 'custos-git-'));
  marker = path.join(repo, '..', `${path.basename(repo)}-PWNED`);
  git('init', '-q', '-b', 'main');
  await writeFile(path.join(repo, 'config.py'), 'A = 1\n');
  git('add', '.');
  git('commit', '-q', '-m', 'init');
  await writeFile(path.join(repo, 'config.py'), `A = 1\nTOKEN = "${onMain}"\n`);
  git('commit', '-q', '-am', 'add token');
  await writeFile(path.join(repo, 'config.py'), 'A = 1\n');
  git('commit', '-q', '-am', 'remove token'); // the secret lives on only in history
  git('checkout', '-q', '-b', 'feature', 'HEAD~2');
  await writeFile(path.join(repo, 'config.py'), `A = 2\nNPM = "${onBranch}"\n`);
  git('commit', '-q', '-am', 'feature');
  git('checkout', '-q', 'main');
  // Conflicting merge whose resolution adds a line found in neither parent ("evil merge").
  try { git('merge', '-q', '--no-ff', '--no-commit', 'feature'); } catch { /* a conflict is fine too */ }
  await writeFile(path.join(repo, 'config.py'), `A = 3\nOPS = "${inMerge}"\n`);
  git('commit', '-q', '-am', 'merge feature');
  git('checkout', '-q', '--detach', 'HEAD');
  git('branch', '-q', '-D', 'feature');
  git('branch', '-q', 'feature-kept', 'HEAD^2');
  // Hostile repository config: every one of these would run a program if git honoured it.
  const evil = path.join(repo, 'evil.sh');
  await writeFile(evil, `#!/bin/sh\ntouch '${marker}'\ncat\n`);
  await chmod(evil, 0o755);
  for (const hook of ['post-checkout', 'pre-commit', 'post-merge', 'reference-transaction', 'pre-auto-gc']) {
    await writeFile(path.join(repo, '.git', 'hooks', hook), `#!/bin/sh\ntouch '${marker}'\n`);
    await chmod(path.join(repo, '.git', 'hooks', hook), 0o755);
  }
  await writeFile(path.join(repo, '.gitattributes'), '*.py diff=evil\n');
  for (const [k, v] of [['core.pager', evil], ['diff.external', evil], ['diff.evil.textconv', evil], ['diff.evil.command', evil],
    ['core.fsmonitor', evil], ['log.showSignature', 'true'], ['gpg.program', evil], ['core.hooksPath', path.join(repo, '.git', 'hooks')]] as const) {
    git('config', k, v);
  }
});
afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
  await rm(marker, { force: true });
});

describe('scan git', () => {
  it('finds secrets on every ref, deleted later, and added by a merge commit, with commit, author and date', async () => {
    const r = await scanGitHistory(repo);
    const byRule = new Map(r.findings.map((f) => [f.ruleId, f]));
    expect([...byRule.keys()].sort()).toEqual(['custos-operator-token', 'github-token', 'npm-token']);
    const merge = byRule.get('custos-operator-token')!;
    const mergeHash = git('log', '--all', '--merges', '--format=%H').trim();
    expect(merge.location).toMatchObject({ path: 'config.py', line: 2, commit: mergeHash, author: 'Ada <ada@example.org>', date: '2024-05-01T10:00:00+00:00' });
    expect(byRule.get('github-token')!.location.line).toBe(2);
    // Lines a merge only carried over from a parent are reported once, at the commit that added them.
    expect(r.findings.filter((f) => f.ruleId === 'npm-token')).toHaveLength(1);
    expect(r.incomplete).toBe(false);
  });
  it('runs no hook, pager, external diff, textconv, fsmonitor or signature program of the repository', async () => {
    await scanGitHistory(repo);
    await expect(access(marker)).rejects.toThrow();
    // Control: the hostile config really would have fired through plain git.
    try { execFileSync('git', ['-C', repo, 'log', '-p', '-1', '--all'], { env: { PATH: process.env.PATH, HOME: repo }, stdio: 'ignore' }); } catch { /* may fail */ }
    await expect(access(marker)).resolves.toBeUndefined();
    await rm(marker, { force: true });
  });
  it('a directory that is not a repository is an error, not a clean result', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'custos-notgit-'));
    await expect(scanGitHistory(dir)).rejects.toThrow(/not a git repository/);
    await rm(dir, { recursive: true, force: true });
  });
  it('unquotes C-quoted paths', () => {
    expect(unquoteGitPath('"a\\tb\\303\\251"')).toBe('a\tbé');
    expect(unquoteGitPath('plain')).toBe('plain');
  });
});
