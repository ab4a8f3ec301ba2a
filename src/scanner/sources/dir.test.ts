import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile, mkdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { scanDirectory } from '../scan.service.js';
import { checksummedToken, seeded } from '../rules/fake.js';
import { makeTar, makeZip } from '../../../test/scanner/fixtures.js';

// Files are read into one reused buffer: nothing of an earlier, larger file may show through.
describe('directory reads', () => {
  let root: string;
  const rnd = seeded(77);
  const early = checksummedToken('ghp_', rnd);
  const late = checksummedToken('ghp_', rnd);

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'custos-dir-'));
    await mkdir(path.join(root, 'a'));
    // Sorted walk order: a/1-big.txt (3 MB, a token at its very end) is read before a/2-small.txt.
    await writeFile(path.join(root, 'a/1-big.txt'), `${'x'.repeat(3_000_000)}\nGITHUB_TOKEN=${early}\n`);
    await writeFile(path.join(root, 'a/2-small.txt'), 'nothing here\n');
    await writeFile(path.join(root, 'a/3-small.txt'), `GITHUB_TOKEN=${late}\n`);
    await writeFile(path.join(root, 'a/4-empty.txt'), '');
    const tar = await makeTar([{ name: 'inner/.env', content: `GITHUB_TOKEN=${late}\n` }]);
    await writeFile(path.join(root, 'a/5-bundle.tgz'), gzipSync(tar));
    await writeFile(path.join(root, 'a/6-after.txt'), 'still nothing\n');
    // Not ASCII: decoded as UTF-8, the keyword pass reads the string (columns in UTF-16 units).
    await writeFile(path.join(root, 'a/7-utf8.txt'), `naïve = 1\n# café ☕ GITHUB_TOKEN=${late}\n`);
  });
  afterAll(async () => { await rm(root, { recursive: true, force: true }); });

  it('reports each secret once per file it is in, at the right line, and reads archives from their own copy', async () => {
    const r = await scanDirectory(root, { workers: 0 });
    const where = r.findings.map((f) => `${(f.location.archive ?? []).join('>')}|${f.location.path}:${f.location.line}`).sort();
    expect(where).toEqual(['a/5-bundle.tgz>a/5-bundle.tar|inner/.env:1', '|a/1-big.txt:2', '|a/3-small.txt:1', '|a/7-utf8.txt:2']);
    expect(r.findings.find((f) => f.location.path === 'a/7-utf8.txt')?.location.column).toBe(23);
    expect(r.stats.files).toBe(7);
    expect(r.incomplete).toBe(false);
  });

  it('skips files above the size cap unread and says the scan is incomplete', async () => {
    const r = await scanDirectory(root, { workers: 0, limits: { maxFileBytes: 1_000_000 } });
    expect(r.skipped).toContainEqual({ path: 'a/1-big.txt', reason: 'larger than 1000000 bytes' });
    expect(r.findings.map((f) => f.location.path).sort()).toEqual(['a/3-small.txt', 'a/7-utf8.txt', 'inner/.env']);
    expect(r.incomplete).toBe(true);
  });
});

describe('directory scans over threads', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'custos-pool-'));
    const rnd = seeded(5);
    // 300 files (enough for 3 threads at 64+ files each), every 7th with a token.
    for (let i = 0; i < 300; i++) {
      await writeFile(path.join(root, `f${String(i).padStart(3, '0')}.txt`), i % 7 === 0 ? `line\nGITHUB_TOKEN=${checksummedToken('ghp_', rnd)}\n` : `plain ${i}\n`);
    }
  });
  afterAll(async () => { await rm(root, { recursive: true, force: true }); });

  it('this thread plus workers find exactly what one thread finds, and count every file once', async () => {
    const key = (r: Awaited<ReturnType<typeof scanDirectory>>) => r.findings.map((f) => `${f.location.path}:${f.location.line}:${f.fingerprint}`).sort();
    const one = await scanDirectory(root, { workers: 0 });
    const progress: number[] = [];
    const three = await scanDirectory(root, { workers: 3, onProgress: (bytes) => progress.push(bytes) });
    expect(key(one)).toHaveLength(43);
    expect(key(three)).toEqual(key(one));
    expect(three.stats).toMatchObject({ files: 300, bytes: one.stats.bytes });
    expect(progress.every((b, i) => i === 0 || b >= progress[i - 1]!)).toBe(true);
  }, 30_000);
});

describe('skipped items say where they are', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'custos-skip-'));
    await symlink(path.join(root, 'no-such-target'), path.join(root, 'dangling.txt'));
    await symlink(path.join(tmpdir()), path.join(root, 'out-link'));
    await symlink('loop-b', path.join(root, 'loop-a'));
    await symlink('loop-a', path.join(root, 'loop-b'));
    const inner = makeZip({ 'bin/tool.dat': Buffer.from([0, 1, 2, 3]), 'ok.txt': 'nothing\n' });
    await writeFile(path.join(root, 'outer.tar'), await makeTar([
      { name: 'inner.zip', content: inner },
      { name: 'lib/link', type: 'symlink', linkname: '/etc/shadow' },
    ]));
  });
  afterAll(async () => { await rm(root, { recursive: true, force: true }); });

  it('a dangling symlink is reported as dangling, not as pointing outside the root', async () => {
    const r = await scanDirectory(root, { workers: 0 });
    expect(r.skipped).toContainEqual({ path: 'dangling.txt', reason: 'dangling symlink (its target does not exist), not followed' });
    expect(r.skipped).toContainEqual({ path: 'out-link', reason: 'symlink pointing outside the root, not followed' });
    expect(r.skipped).toContainEqual({ path: 'loop-a', reason: 'symlink loop, not followed' });
  });
  it('items skipped inside nested archives are listed with their archive chain', async () => {
    const r = await scanDirectory(root, { workers: 0 });
    expect(r.skipped).toContainEqual({ path: 'outer.tar!inner.zip!bin/tool.dat', reason: 'binary' });
    expect(r.skipped).toContainEqual({ path: 'outer.tar!lib/link', reason: 'symlink not followed' });
  });
});

