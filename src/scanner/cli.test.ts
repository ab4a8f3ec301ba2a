import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createRequire } from 'node:module';
import { runScanCli } from './cli.js';
import { RULES } from './rules/rules.js';
import { toReportBody } from '../findings/index.js';
import { scanDirectory } from './scan.service.js';
import { fakeCustosToken, seeded } from './rules/fake.js';

// Every CLI run here uses a scan key in a temporary directory, never the user's own.
const keyHome = mkdtempSync(path.join(tmpdir(), 'custos-scan-keyhome-'));
const env = { HOME: keyHome, CUSTOS_SCAN_KEY_FILE: path.join(keyHome, 'scan-key') };

function io(tty = false, e: NodeJS.ProcessEnv = env) {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let er = '';
  out.on('data', (d: Buffer) => { o += d.toString(); });
  err.on('data', (d: Buffer) => { er += d.toString(); });
  return { io: { stdout: out, stderr: err, stdoutIsTTY: tty, env: e }, out: () => o, err: () => er };
}

const ghp = RULES.find((r) => r.id === 'github-token')!.examples.truePositives[0]!.split('=')[1]!;
const custos = fakeCustosToken('op', seeded(7));
let root: string;
let outside: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'custos-scan-dir-'));
  outside = await mkdtemp(path.join(tmpdir(), 'custos-scan-out-'));
  await writeFile(path.join(outside, 'leak.txt'), `token=${ghp}\n`);
  await mkdir(path.join(root, 'src'));
  await mkdir(path.join(root, 'build'));
  await writeFile(path.join(root, '.gitignore'), 'build/\n*.log\n');
  await writeFile(path.join(root, 'src', 'app.ts'), `const t = "${ghp}";\nconst ok = 1;\n`);
  await writeFile(path.join(root, 'src', 'ops.env'), `CUSTOS_TOKEN=${custos}\n`);
  await writeFile(path.join(root, 'build', 'out.js'), `x="${ghp}"`);
  await writeFile(path.join(root, 'debug.log'), `x="${ghp}"`);
  await writeFile(path.join(root, 'bin.dat'), Buffer.from([0, 1, 2, 3, ...Buffer.from(ghp)]));
  await writeFile(path.join(root, 'big.txt'), 'a'.repeat(2048));
  await symlink(path.join(outside, 'leak.txt'), path.join(root, 'link.txt'));
});
afterAll(async () => {
  rmSync(keyHome, { recursive: true, force: true });
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe('scan dir', () => {
  it('finds secrets, honours .gitignore, skips binaries and never follows a symlink out of the root', async () => {
    const r = await scanDirectory(root);
    const paths = r.findings.map((f) => `${f.ruleId}@${f.location.path}:${f.location.line}`).sort();
    expect(paths).toEqual(['custos-operator-token@src/ops.env:1', 'github-token@src/app.ts:1']);
    expect(r.skipped).toEqual(expect.arrayContaining([
      { path: 'bin.dat', reason: 'binary' },
      { path: 'link.txt', reason: 'symlink pointing outside the root, not followed' },
    ]));
    expect(r.incomplete).toBe(false);
  });
  it('--no-gitignore also scans ignored files', async () => {
    const r = await scanDirectory(root, { gitignore: false });
    expect(r.findings.map((f) => f.location.path).sort()).toEqual(['build/out.js', 'debug.log', 'src/app.ts', 'src/ops.env']);
  });
  it('a file above the size cap is reported skipped and makes the scan incomplete', async () => {
    const r = await scanDirectory(root, { limits: { maxFileBytes: 1024 } });
    expect(r.skipped).toContainEqual({ path: 'big.txt', reason: 'larger than 1024 bytes' });
    expect(r.incomplete).toBe(true);
  });
  it('table output never carries terminal control sequences from file names', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'custos-scan-esc-'));
    await writeFile(path.join(dir, 'evil\x1b[2Jname.txt'), `t = "${ghp}"\n`);
    const h = io(true);
    expect(await runScanCli(['dir', dir, '--format', 'table'], h.io)).toBe(1);
    expect(h.out()).toContain('evil?[2Jname.txt');
    expect(h.out()).not.toContain('\x1b[2J');
    await rm(dir, { recursive: true, force: true });
  });
  it('a time limit stops the scan and makes it incomplete, never clean', async () => {
    let t = 0;
    const r = await scanDirectory(root, { limits: { maxSeconds: 5 }, now: () => (t += 1000) });
    expect(r.incomplete).toBe(true);
    expect(r.incompleteReasons).toContain('time limit of 5 s reached: the rest was not scanned');
    expect(r.stats.files).toBeLessThan(4);
  });
  it('never puts the secret in any output, and the payload carries the Custos credential id', async () => {
    const r = await scanDirectory(root);
    const payload = toReportBody(r, {}, 'test');
    const id = custos.split('_')[2];
    expect(payload.findings.find((f) => f.rule_id === 'custos-operator-token')?.credential).toEqual({ kind: 'op', id });
    for (const format of ['table', 'json', 'sarif']) {
      const h = io();
      await runScanCli(['dir', root, '--format', format], h.io);
      expect(h.out()).not.toContain(ghp);
      expect(h.out()).not.toContain(custos);
      expect(h.out().length).toBeGreaterThan(10);
    }
    expect(JSON.stringify(payload)).not.toContain(custos);
  });
  it('fingerprints are stable across runs and independent of the location', async () => {
    const a = await scanDirectory(root, { gitignore: false });
    const b = await scanDirectory(root, { gitignore: false });
    const fa = a.findings.filter((f) => f.ruleId === 'github-token').map((f) => f.fingerprint);
    expect(new Set(fa).size).toBe(1);
    expect(b.findings.map((f) => f.fingerprint).sort()).toEqual(a.findings.map((f) => f.fingerprint).sort());
  });
});

describe('runScanCli', () => {
  it('exit codes: 1 on findings, 0 when below --fail-on, 2 on usage errors with one line', async () => {
    expect(await runScanCli(['dir', root], io().io)).toBe(1);
    const h = io();
    expect(await runScanCli(['dir', root, '--fail-on', 'critical', '--config', '/nonexistent.yaml'], h.io)).toBe(2);
    expect(h.err().trim().split('\n')).toHaveLength(1);
    const dir = await mkdtemp(path.join(tmpdir(), 'custos-scan-low-'));
    await writeFile(path.join(dir, 'a.ts'), `const t = "${ghp}";\n`);
    const cfg = path.join(dir, 'cfg.yaml');
    await writeFile(cfg, 'rules:\n  severity:\n    github-token: low\n');
    expect(await runScanCli(['dir', dir, '--config', cfg, '--fail-on', 'high'], io().io)).toBe(0);
    for (const bad of [['dir'], ['nope', 'x'], ['dir', root, '--format', 'xml'], ['dir', root, '--fail-on', 'urgent'], ['dir', '/does/not/exist'], []]) {
      const b = io();
      expect(await runScanCli(bad, b.io), bad.join(' ')).toBe(2);
      expect(b.err().trim().split('\n'), bad.join(' ')).toHaveLength(1);
    }
    await rm(dir, { recursive: true, force: true });
  });
  it('exit 3 and the word incomplete when a limit was reached without findings', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'custos-scan-inc-'));
    await writeFile(path.join(dir, 'big.txt'), 'b'.repeat(5000));
    await writeFile(path.join(dir, 'cfg.yaml'), 'limits:\n  maxFileBytes: 1000\n');
    const h = io(true);
    expect(await runScanCli(['dir', dir, '--config', path.join(dir, 'cfg.yaml'), '--format', 'table'], h.io)).toBe(3);
    expect(h.out()).toContain('INCOMPLETE');
    expect(h.out()).not.toMatch(/^clean$/m);
    await rm(dir, { recursive: true, force: true });
  });
  it('baseline: written findings are accepted on the next run; config excludes and allow-lists apply', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'custos-scan-base-'));
    const bl = path.join(dir, 'baseline.json');
    expect(await runScanCli(['dir', root, '--write-baseline', bl, '--format', 'json'], io().io)).toBe(0);
    expect(await readFile(bl, 'utf8')).not.toContain(ghp);
    const h = io();
    expect(await runScanCli(['dir', root, '--baseline', bl, '--format', 'json'], h.io)).toBe(0);
    expect(JSON.parse(h.out()).status).toBe('clean');
    const cfg = path.join(dir, 'c.yaml');
    await writeFile(cfg, `exclude: ["src/ops.env"]\nallow: ["^${ghp.slice(0, 10)}"]\n`);
    expect(await runScanCli(['dir', root, '--config', cfg], io().io)).toBe(0);
    await rm(dir, { recursive: true, force: true });
  });
  it('baseline: keyed to the scan key it was written with; old unkeyed (version 1) baselines are refused', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'custos-scan-basekey-'));
    const bl = path.join(dir, 'baseline.json');
    expect(await runScanCli(['dir', root, '--write-baseline', bl, '--format', 'json'], io().io)).toBe(0);
    const written = JSON.parse(await readFile(bl, 'utf8'));
    expect(written).toMatchObject({ version: 2, key: expect.stringMatching(/^[0-9a-f]{16}$/) });
    // Same key through --key-file: still accepted.
    expect(await runScanCli(['dir', root, '--baseline', bl, '--key-file', env.CUSTOS_SCAN_KEY_FILE], io(false, { HOME: dir }).io)).toBe(0);
    // Another installation's key: a usage error, not a silent mismatch.
    const other = io(false, { HOME: dir, CUSTOS_SCAN_KEY_FILE: path.join(dir, 'other-key') });
    expect(await runScanCli(['dir', root, '--baseline', bl], other.io)).toBe(2);
    expect(other.err()).toMatch(/^error: cannot read baseline .*: written with another scan key/);
    expect(other.err().trim().split('\n')).toHaveLength(1);
    const v1 = path.join(dir, 'v1.json');
    await writeFile(v1, JSON.stringify({ version: 1, findings: written.findings }));
    const old = io();
    expect(await runScanCli(['dir', root, '--baseline', v1], old.io)).toBe(2);
    expect(old.err()).toMatch(/version 1 .*unkeyed.*--write-baseline/);
    await rm(dir, { recursive: true, force: true });
  });
  it('writes to --output and picks the format from the extension', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'custos-scan-outp-'));
    const file = path.join(dir, 'r.sarif');
    const h = io();
    expect(await runScanCli(['dir', root, '--output', file], h.io)).toBe(1);
    expect(h.out()).toBe('');
    expect(JSON.parse(await readFile(file, 'utf8')).version).toBe('2.1.0');
    await rm(dir, { recursive: true, force: true });
  });
  it('SARIF validates against the SARIF 2.1.0 schema, including an incomplete run', async () => {
    const require = createRequire(import.meta.url);
    const schema = JSON.parse(await readFile(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
    // CommonJS packages: loaded through require so the class is the real export in every runner.
    const Ajv = (require('ajv-draft-04') as { default: typeof import('ajv-draft-04').default }).default;
    const addFormats = (require('ajv-formats') as { default: typeof import('ajv-formats').default }).default;
    const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    expect(validate({ version: '2.1.0', runs: [{ results: [] }] })).toBe(false); // the validator does bite
    for (const args of [['dir', root, '--format', 'sarif'], ['dir', root, '--format', 'sarif', '--fail-on', 'low']]) {
      const h = io();
      await runScanCli(args, h.io);
      const log = JSON.parse(h.out());
      expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
      expect(log.runs[0].results.length).toBe(2);
    }
    const dir = await mkdtemp(path.join(tmpdir(), 'custos-scan-sarifinc-'));
    await writeFile(path.join(dir, 'big.txt'), 'b'.repeat(5000));
    await writeFile(path.join(dir, 'cfg.yaml'), 'limits:\n  maxFileBytes: 1000\n');
    const h = io();
    await runScanCli(['dir', dir, '--config', path.join(dir, 'cfg.yaml'), '--format', 'sarif'], h.io);
    const log = JSON.parse(h.out());
    expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
    expect(log.runs[0].invocations[0].executionSuccessful).toBe(false);
    await rm(dir, { recursive: true, force: true });
  });
});
