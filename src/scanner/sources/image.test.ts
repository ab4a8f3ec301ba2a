import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { scanContainerImage, scanDirectory } from '../scan.service.js';
import { runScanCli } from '../cli.js';
import { checksummedToken, fakeCustosToken, seeded } from '../rules/fake.js';
import { RULES } from '../rules/rules.js';
import { makeDockerSave, makeOciLayout, makeTar, makeZip, sha256 } from '../../../test/scanner/fixtures.js';

const rnd = seeded(5);
const deleted = checksummedToken('ghp_', rnd);
const inZip = checksummedToken('npm_', rnd);
const inEnv = fakeCustosToken('op', rnd);
const inHistory = fakeCustosToken('ak', rnd);
const stays = RULES.find((r) => r.id === 'groq-api-key')!.examples.truePositives[0]!;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'custos-img-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const spec = (gzipLayers: boolean) => ({
  gzipLayers,
  layers: [
    [{ name: 'app/', type: 'directory' as const }, { name: 'app/.env', content: `GITHUB_TOKEN=${deleted}\n` },
      { name: 'app/bundle.zip', content: makeZip({ 'inner/conf.txt': `token ${inZip}\n` }) }],
    [{ name: 'app/.wh..env', content: '' }, { name: 'app/main.py', content: `${stays}\n` }],
  ],
  env: ['PATH=/usr/bin', `CUSTOS_TOKEN=${inEnv}`],
  history: ['/bin/sh -c #(nop) ADD file:abc in /', `/bin/sh -c echo ${inHistory} > /root/.key`],
});

describe('scan image', () => {
  for (const gz of [false, true]) {
    it(`docker save (${gz ? 'gzip' : 'plain'} layers): every layer incl. deleted files, nested zip, env and history`, async () => {
      const file = path.join(dir, `img-${gz}.tar`);
      await writeFile(file, await makeDockerSave(spec(gz)));
      const r = await scanContainerImage(file);
      const by = new Map(r.findings.map((f) => [f.ruleId, f.location]));
      expect([...by.keys()].sort()).toEqual(['custos-api-key', 'custos-operator-token', 'github-token', 'groq-api-key', 'npm-token']);
      expect(by.get('github-token')).toMatchObject({ path: 'app/.env', line: 1, deletedInLaterLayer: true, image: `img-${gz}.tar` });
      expect(by.get('github-token')!.layer).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(by.get('groq-api-key')).toMatchObject({ path: 'app/main.py', deletedInLaterLayer: false });
      expect(by.get('npm-token')).toMatchObject({ path: 'inner/conf.txt', archive: ['app/bundle.zip'] });
      expect(by.get('custos-operator-token')).toMatchObject({ within: 'config env' });
      expect(by.get('custos-api-key')).toMatchObject({ within: 'config history' });
      expect(r.incomplete).toBe(false);
    });
  }
  it('OCI image layout, as a directory and as a tar', async () => {
    const items = await makeOciLayout(spec(true));
    const layoutDir = path.join(dir, 'oci');
    for (const it of items) {
      await mkdir(path.dirname(path.join(layoutDir, it.name)), { recursive: true });
      await writeFile(path.join(layoutDir, it.name), it.content ?? '');
    }
    const tarFile = path.join(dir, 'oci.tar');
    await writeFile(tarFile, await makeTar(items));
    for (const target of [layoutDir, tarFile]) {
      const r = await scanContainerImage(target);
      const gh = r.findings.find((f) => f.ruleId === 'github-token')!;
      expect(gh.location).toMatchObject({ path: 'app/.env', deletedInLaterLayer: true });
      expect(r.findings.map((f) => f.ruleId).sort()).toEqual(['custos-api-key', 'custos-operator-token', 'github-token', 'groq-api-key', 'npm-token']);
    }
  });
});

describe('archive safety', () => {
  it('tar entries with ../ and absolute paths are scanned by name only; symlinks are not followed', async () => {
    const d = await mkdtemp(path.join(dir, 'trav-'));
    const before = await readdir(dir);
    await writeFile(path.join(d, 'evil.tar'), await makeTar([
      { name: '../../escape.txt', content: `t=${deleted}` },
      { name: '/etc/abs.txt', content: `t=${inZip}` },
      { name: 'link', type: 'symlink', linkname: '/etc/shadow' },
    ]));
    const r = await scanDirectory(d);
    expect(r.findings.map((f) => f.location.path).sort()).toEqual(['../../escape.txt', '/etc/abs.txt']);
    expect(r.skipped).toContainEqual({ path: 'evil.tar!link', reason: 'symlink not followed' });
    expect((await readdir(dir)).sort()).toEqual(before.sort()); // nothing extracted anywhere
  });
  it('a zip bomb stops at the decompressed-size cap and the scan is incomplete', async () => {
    const d = await mkdtemp(path.join(dir, 'bomb-'));
    const zeros = Buffer.alloc(24 * 1024 * 1024);
    await writeFile(path.join(d, 'bomb.zip'), makeZip({ 'a.txt': zeros, 'b.txt': zeros }));
    await writeFile(path.join(d, 'bomb.gz'), gzipSync(zeros));
    const r = await scanDirectory(d, { limits: { maxDecompressedBytes: 4 * 1024 * 1024 } });
    expect(r.incomplete).toBe(true);
    expect(r.incompleteReasons.join('\n')).toMatch(/decompressed-size cap/);
  });
  it('deep nesting stops at the depth cap, reported incomplete, outer secrets still found', async () => {
    const d = await mkdtemp(path.join(dir, 'deep-'));
    let inner: Buffer = makeZip({ 'deep.txt': `t=${deleted}` });
    for (let i = 0; i < 12; i++) inner = makeZip({ [`level${i}.zip`]: inner, ...(i === 11 ? { 'top.txt': `t=${inZip}` } : {}) });
    await writeFile(path.join(d, 'nested.zip'), inner);
    const r = await scanDirectory(d, { limits: { maxArchiveDepth: 4 } });
    expect(r.incomplete).toBe(true);
    expect(r.incompleteReasons.join('\n')).toMatch(/nesting deeper than 4/);
    expect(r.findings.map((f) => f.ruleId)).toEqual(['npm-token']);
  });
  it('an archive with more entries than the cap is reported incomplete', async () => {
    const d = await mkdtemp(path.join(dir, 'many-'));
    await writeFile(path.join(d, 'many.tar'), await makeTar(Array.from({ length: 50 }, (_, i) => ({ name: `f${i}.txt`, content: 'x' }))));
    const r = await scanDirectory(d, { limits: { maxArchiveEntries: 10 } });
    expect(r.incomplete).toBe(true);
    expect(r.incompleteReasons.join('\n')).toMatch(/entry-count cap of 10/);
  });
  it('a corrupt archive is reported, never clean', async () => {
    const d = await mkdtemp(path.join(dir, 'corrupt-'));
    const z = makeZip({ 'a.txt': 'hello world '.repeat(100) });
    await writeFile(path.join(d, 'bad.zip'), z.subarray(0, z.length - 30));
    const r = await scanDirectory(d);
    expect(r.incomplete).toBe(true);
    expect(sha256(z)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('scan image: only images', () => {
  const cliIo = () => {
    let out = '';
    let err = '';
    const w = (f: (s: string) => void) => ({ write: (s: string) => { f(s); return true; } }) as unknown as NodeJS.WritableStream;
    const env = { CUSTOS_SCAN_KEY_FILE: path.join(dir, 'scan-key') };
    return { io: { stdout: w((s) => { out += s; }), stderr: w((s) => { err += s; }), stdoutIsTTY: false, env }, out: () => out, err: () => err };
  };
  async function expectNotAnImage(target: string): Promise<void> {
    await expect(scanContainerImage(target)).rejects.toThrow(/^not an image: /);
    const h = cliIo();
    expect(await runScanCli(['image', target, '--format', 'table'], h.io)).toBe(2);
    expect(h.err().trim().split('\n')).toHaveLength(1);
    expect(h.err()).toMatch(/^error: not an image: .* is neither a docker save archive nor an OCI image layout\n$/);
    expect(h.out()).not.toMatch(/clean/);
  }
  it('a plain tar full of secrets is not an image (exit 2), gzipped or not', async () => {
    const d = await mkdtemp(path.join(dir, 'plain-'));
    const t = await makeTar([{ name: 'app/.env', content: `GITHUB_TOKEN=${deleted}\n` }, { name: 'manifest.json', content: '{"name":"web app"}' }]);
    await writeFile(path.join(d, 'secrets.tar'), t);
    await writeFile(path.join(d, 'secrets.tar.gz'), gzipSync(t));
    await expectNotAnImage(path.join(d, 'secrets.tar'));
    await expectNotAnImage(path.join(d, 'secrets.tar.gz'));
  });
  it('a gzipped docker save (docker save | gzip) is an image, read like the plain one', async () => {
    const file = path.join(dir, 'img.tar.gz');
    await writeFile(file, gzipSync(await makeDockerSave(spec(false))));
    const r = await scanContainerImage(file);
    expect(r.findings.map((f) => f.ruleId).sort()).toEqual(['custos-api-key', 'custos-operator-token', 'github-token', 'groq-api-key', 'npm-token']);
    expect(r.findings.find((f) => f.ruleId === 'github-token')!.location).toMatchObject({ path: 'app/.env', deletedInLaterLayer: true, layer: expect.stringMatching(/^sha256:/) });
    const capped = await scanContainerImage(file, { limits: { maxDecompressedBytes: 2048 } });
    expect(capped.incomplete).toBe(true);
    expect(capped.incompleteReasons.join('\n')).toMatch(/decompressed-size cap/);
  });
  it('an empty directory and a directory of secrets are not images', async () => {
    const empty = await mkdtemp(path.join(dir, 'empty-'));
    await expectNotAnImage(empty);
    const secrets = await mkdtemp(path.join(dir, 'secrets-'));
    await writeFile(path.join(secrets, '.env'), `GITHUB_TOKEN=${deleted}\n`);
    await expectNotAnImage(secrets);
  });
  it('a file that is not a tar gets the same message, not a parser error', async () => {
    const d = await mkdtemp(path.join(dir, 'text-'));
    await writeFile(path.join(d, 'notes.txt'), `GITHUB_TOKEN=${deleted}\n`);
    await expectNotAnImage(path.join(d, 'notes.txt'));
    await writeFile(path.join(d, 'empty.tar'), '');
    await expectNotAnImage(path.join(d, 'empty.tar'));
  });
});
