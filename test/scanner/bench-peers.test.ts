// The scan benchmark on a machine without its peers: one line naming what to install, a non-zero exit,
// no stack trace, and nothing generated first.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('bench/scan/run.ts peers', () => {
  it('says which packages to install when ripgrep, git and git-secrets are missing', () => {
    // A PATH holding node alone.
    const bin = mkdtempSync(path.join(tmpdir(), 'custos-bench-path-'));
    symlinkSync(process.execPath, path.join(bin, 'node'));
    try {
      const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), path.join(ROOT, 'bench/scan/run.ts'), '--mb', '1', '--runs', '1'],
        { cwd: ROOT, encoding: 'utf8', env: { PATH: bin, HOME: bin }, timeout: 60_000 });
      expect(r.status).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^bench\/scan: missing peers: .*ripgrep.*git-secrets/);
      expect(lines[0]).toContain('apt-get install ripgrep git git-secrets');
      expect(r.stderr).not.toMatch(/ENOENT|\n\s+at /);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
