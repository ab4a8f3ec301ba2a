import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from '../db.js';
import { migration as m0001 } from './0001_kernel.js';
import { migration as m0002 } from './0002_audit.js';
import { migration as m0003 } from './0003_findings.js';
import { migration as m0004 } from './0004_credentials.js';
import { migration as m0005 } from './0005_signin.js';
import { migration as m0006 } from './0006_authz.js';
import { migration as m0007 } from './0007_approvals.js';
import { migration as m0008 } from './0008_gateway.js';
import { migration as m0009 } from './0009_mcp.js';

// One ordered list of migrations serves both SQLite and PostgreSQL. Only portable column types are used;
// where the dialects differ (append-only triggers) the migration branches explicitly.
// One file per step, named by its order; a new step is a new file added to this list, never an edit of a shipped one.

function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_kernel': m0001(dialect),
    '0002_audit': m0002(dialect),
    '0003_findings': m0003(dialect),
    '0004_credentials': m0004(dialect),
    '0005_signin': m0005(dialect),
    '0006_authz': m0006(dialect),
    '0007_approvals': m0007(dialect),
    '0008_gateway': m0008(dialect),
    '0009_mcp': m0009(dialect),
  };
}

export async function migrateToLatest(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  const migrator = new Migrator({ db, provider, migrationTableName: 'custos_migrations', migrationLockTableName: 'custos_migrations_lock' });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? String(error)}`);
  }
  // Fresh planner statistics on every start: with stale ones (autovacuum off, or right after a bulk load)
  // PostgreSQL picks plans that sort whole tables for a 50-row page.
  if (dialect === 'postgres') await sql`analyze`.execute(db);
}
