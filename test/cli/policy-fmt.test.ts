import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCustos } from '../support/cli-process.js';

// `custos policy fmt` formats Cedar files offline with Cedar's own formatter: print, --write, --check for CI.

const MESSY = '// who may invoke\n@id("invoke")   permit(principal,action==Custos::Action::"invoke",resource)\n   when {context.purpose=="support"};\n';

describe('custos policy fmt', () => {
  let dir: string;
  const env = () => ({ HOME: dir });
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-fmt-')); });
  afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  it('prints the formatted text, keeps comments, and --check fails until --write has run', async () => {
    const file = path.join(dir, 'a.cedar');
    fs.writeFileSync(file, MESSY);
    const printed = await runCustos(['policy', 'fmt', file], env());
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain('// who may invoke');
    expect(printed.stdout).toContain('action == Custos::Action::"invoke"');
    expect(fs.readFileSync(file, 'utf8')).toBe(MESSY);

    const check = await runCustos(['policy', 'fmt', '--check', dir], env());
    expect(check.code).toBe(1);
    expect(check.stdout).toBe(`not formatted: ${file}\n`);

    const write = await runCustos(['policy', 'fmt', '--write', dir], env());
    expect(write.code).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(printed.stdout);
    expect((await runCustos(['policy', 'fmt', '--check', dir], env())).code).toBe(0);
  });

  it('refuses text that does not parse, and flags that exclude each other, with one line', async () => {
    const bad = path.join(dir, 'bad.cedar');
    fs.writeFileSync(bad, 'permit (principal, action, resource) when { 1 + };\n');
    const r = await runCustos(['policy', 'fmt', bad], env());
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('bad.cedar');
    expect((await runCustos(['policy', 'fmt', '--write', '--check', bad], env())).code).toBe(2);
  });
});
