import crypto from 'node:crypto';
import pg from 'pg';

// Every store test runs against both backends. PostgreSQL gets a fresh database per test file so runs never
// collide. In CI (CUSTOS_REQUIRE_POSTGRES=1) an unreachable PostgreSQL fails the run; locally it is skipped loudly.

export const ADMIN_URL = process.env.CUSTOS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REQUIRED = process.env.CUSTOS_REQUIRE_POSTGRES === '1' || process.env.CI === 'true';

let reachable: boolean | undefined;

export async function postgresReachable(): Promise<boolean> {
  if (reachable !== undefined) return reachable;
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    reachable = true;
  } catch (error) {
    if (REQUIRED) throw new Error(`PostgreSQL is required in CI but unreachable at ${ADMIN_URL}: ${(error as Error).message}`);
    console.warn(`\n*** PostgreSQL unreachable at ${ADMIN_URL}: PostgreSQL store tests are SKIPPED locally. CI requires them. ***\n`);
    reachable = false;
  } finally {
    await client.end().catch(() => undefined);
  }
  return reachable;
}

/** Creates an empty database and returns its URL and a function that drops it. */
export async function freshPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `custos_test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  return {
    url,
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export type Backend = 'sqlite' | 'postgres';
export const BACKENDS: Backend[] = ['sqlite', 'postgres'];
