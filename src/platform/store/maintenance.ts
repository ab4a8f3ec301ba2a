import { sql } from 'kysely';
import type { Database } from './db.js';
import type { Logger } from '../logger.js';

// PostgreSQL plans, including the cached plans of foreign-key checks, are only as good as the table
// statistics. With autovacuum off nothing refreshes them: a plan made while a table was empty (a sequential
// scan) then stays in every long-lived connection and each insert scans the whole table. When autovacuum is
// off, Custos analyses its own tables on a timer; ANALYZE also invalidates those cached plans.

export function createStatsKeeper(deps: { db: Database; logger: Logger; intervalMs?: number }) {
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  async function analyse(): Promise<void> {
    if (running) return;
    running = true;
    try {
      await sql`analyze`.execute(deps.db.kysely);
    } catch (error) {
      deps.logger.warn({ err: (error as Error).message }, 'analyze failed');
    } finally {
      running = false;
    }
  }

  return {
    async start(): Promise<void> {
      if (deps.db.dialect !== 'postgres') return;
      const setting = await sql<{ autovacuum: string }>`show autovacuum`.execute(deps.db.kysely);
      if (setting.rows[0]?.autovacuum !== 'off') return;
      deps.logger.warn('PostgreSQL autovacuum is off: Custos will ANALYZE its tables every minute; turn autovacuum on for production');
      timer = setInterval(() => void analyse(), deps.intervalMs ?? 60_000);
      timer.unref();
    },
    stop(): void {
      if (timer) clearInterval(timer);
    },
    analyse,
  };
}
