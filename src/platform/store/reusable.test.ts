import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, freshPostgresDatabase, postgresReachable } from '../../../test/support/backends.js';
import { openDatabase, type Database } from './db.js';
import { migrateToLatest } from './migrations/index.js';
import { reusable, reusableInsert } from './reusable.js';

// Reusable statements bind each value to the parameter it was written for, on both dialects, inside and outside
// transactions, and whatever order the compiler emits parameters in.

const byKeyAndValue = reusable(2, (db, value, key) => db.selectFrom('meta').select(['key', 'value']).where('value', '=', value).where('key', '=', key));
const insertMeta = reusableInsert('meta', ['value', 'key']);

for (const backend of BACKENDS) {
  describe(`reusable statements on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let db: Database;
    let drop: (() => Promise<void>) | undefined;
    let dir: string;
    beforeAll(async () => {
      if (!enabled) return;
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-reusable-'));
      const pgdb = backend === 'postgres' ? await freshPostgresDatabase() : undefined;
      drop = pgdb?.drop;
      db = openDatabase({ dataDir: dir, databaseUrl: pgdb?.url });
      await migrateToLatest(db.kysely, db.dialect);
    });
    afterAll(async () => {
      await db?.close();
      await drop?.();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it.runIf(enabled)('binds values by position, reuses the SQL, and agrees with the query builder', async () => {
      await db.write(async (trx) => {
        await insertMeta(trx, { key: 'a', value: '1' });
        await insertMeta(trx, { key: 'b', value: '2' });
      });
      expect((await byKeyAndValue(db.kysely, '2', 'b')).rows).toEqual([{ key: 'b', value: '2' }]);
      expect((await byKeyAndValue(db.kysely, '2', 'a')).rows).toEqual([]);
      // Values that look like SQL are data.
      await db.write((trx) => insertMeta(trx, { key: "x'); drop table meta; --", value: '3' }));
      const built = await db.kysely.selectFrom('meta').select(['key', 'value']).where('key', '=', "x'); drop table meta; --").execute();
      expect((await byKeyAndValue(db.kysely, '3', "x'); drop table meta; --")).rows).toEqual(built);
    });
  });
}
