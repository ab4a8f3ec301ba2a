import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createStatsKeeper } from '../../src/platform/store/maintenance.js';
import { createLogger } from '../../src/platform/logger.js';
import { postgresReachable } from '../support/backends.js';
import { startHarness } from '../support/harness.js';

describe('PostgreSQL statistics upkeep', async () => {
  const enabled = await postgresReachable();

  it.runIf(enabled)('refreshes planner statistics so foreign-key checks stop scanning whole tables', async () => {
    const h = await startHarness('postgres');
    try {
      const keeper = createStatsKeeper({ db: h.cp.db, logger: createLogger('silent') });
      await Promise.all(Array.from({ length: 300 }, (_, i) => h.call('POST', '/v1/principals', { name: `stats-${i}`, kind: 'human', labels: { app: 'x' } })));
      const before = await sql<{ reltuples: number }>`select reltuples from pg_class where relname = 'principals'`.execute(h.cp.db.kysely);
      await keeper.analyse();
      const after = await sql<{ reltuples: number }>`select reltuples from pg_class where relname = 'principals'`.execute(h.cp.db.kysely);
      expect(Number(after.rows[0]!.reltuples)).toBeGreaterThanOrEqual(300);
      expect(Number(after.rows[0]!.reltuples)).not.toBe(Number(before.rows[0]!.reltuples));
    } finally {
      await h.close();
    }
  });
});
