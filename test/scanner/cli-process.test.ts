// Process-level: the scan CLI as a real process (via tsx), worker threads on and off give the same result.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checksummedToken, fakeCustosToken, seeded } from '../../src/scanner/rules/fake.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const rnd = seeded(31);
let dir: string;
let keyDir: string;

function cli(...args: string[]) {
  // A scan key of this test's own, never the user's.
  const env = { ...process.env, CUSTOS_SCAN_KEY_FILE: path.join(keyDir, 'scan-key') };
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/scan/custos-cli.ts'), ...args], { cwd: ROOT, encoding: 'utf8', env });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'custos-proc-'));
  keyDir = await mkdtemp(path.join(tmpdir(), 'custos-proc-key-'));
  for (let i = 0; i < 200; i++) {
    await mkdir(path.join(dir, `d${i % 7}`), { recursive: true });
    const secret = i % 10 === 0 ? `token = "${checksummedToken('ghp_', rnd)}"\n` : i % 13 === 0 ? `OPS=${fakeCustosToken('op', rnd)}\n` : '';
    await writeFile(path.join(dir, `d${i % 7}`, `f${i}.ts`), `export const x${i} = ${i};\n${secret}`.repeat(1));
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(keyDir, { recursive: true, force: true });
});

describe('custos scan as a process', () => {
  it('worker threads find exactly what the single-thread scan finds', () => {
    const one = cli('dir', dir, '--format', 'json', '--workers', '0');
    const two = cli('dir', dir, '--format', 'json', '--workers', '2');
    expect(one.status, one.stderr).toBe(1);
    expect(two.status, two.stderr).toBe(1);
    const key = (out: string) => (JSON.parse(out) as { findings: Array<{ fingerprint: string; location: { path: string; line: number } }> })
      .findings.map((f) => `${f.fingerprint}@${f.location.path}:${f.location.line}`).sort();
    const a = key(one.stdout);
    expect(a.length).toBe(20 + 14);
    expect(key(two.stdout)).toEqual(a);
    expect(JSON.parse(two.stdout).stats.files).toBe(200);
  });
  it('usage errors exit 2 with one line on stderr', () => {
    const r = cli('dir', dir, '--workers', 'many');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
