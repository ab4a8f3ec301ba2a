import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, freshPostgresDatabase, postgresReachable } from '../../test/support/backends.js';
import { manualClock } from '../platform/clock.js';
import { openDatabase, type Database } from '../platform/store/db.js';
import { migrateToLatest } from '../platform/store/migrations/index.js';
import { findKey } from './replay.repo.js';
import { createReplayStore, replayKeyHash } from './replay-store.js';

// The replay store on both backends: single use while an entry lives, durable across a restart, shared by two
// nodes on one database, exactly one winner among concurrent claims, expired leftovers replaced, prune counts.

const at = (iso: string) => new Date(iso);

describe('replayKeyHash', () => {
  it('is the hex SHA-256 of kind, newline, id', () => {
    // printf 'dpop\nabc' | sha256sum
    expect(replayKeyHash('dpop', 'abc')).toBe('1a2ce3308ad39a141b10738078f4702efeae495147e63e080cd9dbd4fd3417b5');
    expect(replayKeyHash('dpop', 'abc')).not.toBe(replayKeyHash('client_assertion', 'abc'));
    // The separator keeps apart pairs that plain concatenation would merge.
    expect(replayKeyHash('dpop', 'px')).not.toBe(replayKeyHash('dpopp', 'x'));
  });
});

for (const backend of BACKENDS) {
  describe(`replay store on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let dir: string;
    let url: string | undefined;
    let drop: (() => Promise<void>) | undefined;
    const open: Database[] = [];
    const openDb = () => {
      const db = openDatabase({ dataDir: dir, databaseUrl: url });
      open.push(db);
      return db;
    };
    let db: Database;

    beforeAll(async () => {
      if (!enabled) return;
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-replay-'));
      const pgdb = backend === 'postgres' ? await freshPostgresDatabase() : undefined;
      url = pgdb?.url;
      drop = pgdb?.drop;
      db = openDb();
      await migrateToLatest(db.kysely, db.dialect);
    });
    afterAll(async () => {
      for (const d of open) await d.close().catch(() => undefined);
      await drop?.();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it.runIf(enabled)('claimIn claims inside the caller\'s transaction: it commits with it, rolls back with it, and decides there', async () => {
      const clock = manualClock('2026-03-01T10:00:00.000Z');
      const store = createReplayStore({ db, clock });
      const until = at('2026-03-01T10:01:00.000Z');
      // Rolled back with the job that made it: the id is still free.
      await expect(db.write(async (trx) => {
        expect(await store.claimIn(trx, 'client_assertion', 'in-trx-1', until)).toBe(true);
        throw new Error('the rest of the job failed');
      })).rejects.toThrow('the rest of the job failed');
      expect(await findKey(db.kysely, replayKeyHash('client_assertion', 'in-trx-1'))).toBeUndefined();
      // Committed with it: refused afterwards by either way of claiming, and twice in one transaction.
      expect(await db.write(async (trx) => [
        await store.claimIn(trx, 'client_assertion', 'in-trx-1', until), await store.claimIn(trx, 'client_assertion', 'in-trx-1', until),
      ])).toEqual([true, false]);
      expect(await store.claimOnce('client_assertion', 'in-trx-1', until)).toBe(false);
      expect(await db.write((trx) => store.claimIn(trx, 'client_assertion', 'in-trx-1', until))).toBe(false);
      // Jobs of one group-committed batch: exactly one wins.
      const all = await Promise.all(Array.from({ length: 6 }, () => db.write((trx) => store.claimIn(trx, 'client_assertion', 'in-trx-2', until))));
      expect(all.filter(Boolean)).toHaveLength(1);
    });

    it.runIf(enabled)('accepts an id once and refuses it again while the entry lives, per kind', async () => {
      const clock = manualClock('2026-03-01T10:00:00.000Z');
      const store = createReplayStore({ db, clock });
      expect(await store.claimOnce('dpop', 'once-1', at('2026-03-01T10:01:00.000Z'))).toBe(true);
      expect(await store.claimOnce('dpop', 'once-1', at('2026-03-01T10:01:00.000Z'))).toBe(false);
      // Another kind with the same id is another value.
      expect(await store.claimOnce('client_assertion', 'once-1', at('2026-03-01T10:01:00.000Z'))).toBe(true);
      // Still refused at the expiry instant itself; a later expiry passed with the replay changes nothing.
      clock.set('2026-03-01T10:01:00.000Z');
      expect(await store.claimOnce('dpop', 'once-1', at('2026-03-01T10:09:00.000Z'))).toBe(false);
      const row = await findKey(db.kysely, replayKeyHash('dpop', 'once-1'));
      expect(row).toEqual({ key_hash: replayKeyHash('dpop', 'once-1'), kind: 'dpop', expires_at: '2026-03-01T10:01:00.000Z' });
    });

    it.runIf(enabled)('replaces an expired leftover row: the id is claimable again, and then refused again', async () => {
      const clock = manualClock('2026-03-02T10:00:00.000Z');
      const store = createReplayStore({ db, clock });
      expect(await store.claimOnce('federated', 'left-1', at('2026-03-02T10:00:30.000Z'))).toBe(true);
      clock.set('2026-03-02T10:00:30.001Z');
      expect(await store.claimOnce('federated', 'left-1', at('2026-03-02T10:05:00.000Z'))).toBe(true);
      expect((await findKey(db.kysely, replayKeyHash('federated', 'left-1')))?.expires_at).toBe('2026-03-02T10:05:00.000Z');
      clock.set('2026-03-02T10:04:00.000Z');
      expect(await store.claimOnce('federated', 'left-1', at('2026-03-02T10:06:00.000Z'))).toBe(false);
    });

    it.runIf(enabled)('gives exactly one true among 10 concurrent claims of one id', async () => {
      const store = createReplayStore({ db, clock: manualClock('2026-03-03T10:00:00.000Z') });
      const results = await Promise.all(Array.from({ length: 10 }, () => store.claimOnce('dpop', 'race-1', at('2026-03-03T10:01:00.000Z'))));
      expect(results.filter((r) => r)).toHaveLength(1);
      // Distinct ids in the same batch each win.
      const distinct = await Promise.all(Array.from({ length: 10 }, (_, i) => store.claimOnce('dpop', `race-distinct-${i}`, at('2026-03-03T10:01:00.000Z'))));
      expect(distinct).toEqual(Array.from({ length: 10 }, () => true));
    });

    it.runIf(enabled)('still refuses a seen id after a restart (a new database handle and store)', async () => {
      const clock = manualClock('2026-03-04T10:00:00.000Z');
      const first = openDb();
      expect(await createReplayStore({ db: first, clock }).claimOnce('dpop', 'restart-1', at('2026-03-04T10:01:00.000Z'))).toBe(true);
      await first.close();
      const second = openDb();
      expect(await createReplayStore({ db: second, clock }).claimOnce('dpop', 'restart-1', at('2026-03-04T10:01:00.000Z'))).toBe(false);
    });

    it.runIf(enabled)('is shared by two nodes on one database: one winner among concurrent claims from both', async () => {
      const clock = manualClock('2026-03-05T10:00:00.000Z');
      const a = createReplayStore({ db: openDb(), clock });
      const b = createReplayStore({ db: openDb(), clock });
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).claimOnce('client_assertion', 'nodes-1', at('2026-03-05T10:01:00.000Z'))));
      expect(results.filter((r) => r)).toHaveLength(1);
    });

    it.runIf(enabled)('prune deletes exactly the expired entries and returns their count', async () => {
      const clock = manualClock('2026-03-06T10:00:00.000Z');
      const store = createReplayStore({ db, clock });
      // Earlier tests left rows that expired by now; prune them first so the count below is exact.
      await store.prune();
      expect(await store.claimOnce('dpop', 'prune-a', at('2026-03-06T10:00:10.000Z'))).toBe(true);
      expect(await store.claimOnce('dpop', 'prune-b', at('2026-03-06T10:00:20.000Z'))).toBe(true);
      expect(await store.claimOnce('dpop', 'prune-c', at('2026-03-06T10:05:00.000Z'))).toBe(true);
      clock.set('2026-03-06T10:00:10.000Z');
      expect(await store.prune()).toBe(0); // prune-a lives through its expiry instant
      clock.set('2026-03-06T10:00:30.000Z');
      expect(await store.prune()).toBe(2);
      expect(await findKey(db.kysely, replayKeyHash('dpop', 'prune-a'))).toBeUndefined();
      expect(await findKey(db.kysely, replayKeyHash('dpop', 'prune-c'))).toBeDefined();
      expect(await store.claimOnce('dpop', 'prune-c', at('2026-03-06T10:05:00.000Z'))).toBe(false);
      expect(await store.prune()).toBe(0);
    });
  });
}
