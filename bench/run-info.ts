import { execFileSync } from 'node:child_process';
import os from 'node:os';
import pg from 'pg';
import { round } from './registry/stats.js';

// What every bench prints about its run: the commit measured, the machine's load, numbers formatted for tables, and
// whether PostgreSQL can be reached (a PostgreSQL half is skipped with the reason otherwise).

export const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-');
export const load = () => os.loadavg().map((l) => round(l, 2));

export function gitCommit(repoRoot: string): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repoRoot, encoding: 'utf8' }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

/** null when PostgreSQL answers at `url`, else why not. */
export async function postgresReachable(url: string): Promise<string | null> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('select 1');
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await c.end().catch(() => undefined);
  }
}
