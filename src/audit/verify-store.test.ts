import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness } from '../../test/support/harness.js';
import { systemActor } from '../platform/actor.js';
import { sqlitePath } from '../platform/store/db.js';
import { verifyStore } from './verify-store.js';
import { parseState, serializeState, type SerializedState } from './tree-state.js';
import { createTreeBuilder } from './tree-builder.js';
import { verifyLog, type VerifyReport } from './verify-log.js';
import { verifySqliteFile } from './verify-sqlite-fast.js';
import { INDEXED_COLUMNS_SQL } from './stored-row.js';

// verifyStore reads SQLite directly and over worker threads. Whatever the tampering, its report must be
// the one verifyLog gives over the same rows read in seq order (the query-builder path it replaced).

const EVENTS = 300;
const CHECKPOINT_EVERY = 25;
let base: string;
const dirs: string[] = [];

beforeAll(async () => {
  const h = await startHarness('sqlite');
  const actor = systemActor('background');
  for (let i = 0; i < EVENTS; i += CHECKPOINT_EVERY) {
    // Concurrent writers share commits, as in production.
    await Promise.all(Array.from({ length: CHECKPOINT_EVERY }, (_, j) => h.cp.db.write((trx, batch) => h.cp.audit.record(trx, batch, {
      type: 'test.event', action: 'model.invoke', actor, outcome: 'success', details: { i: i + j, text: 'é✓😀' },
    }))));
    await h.cp.checkpointer.checkpointNow();
  }
  base = h.dataDir;
  // Keep the store: close the control plane without removing its directory.
  await h.cp.close();
}, 60_000);

afterAll(() => {
  for (const d of [...dirs, base]) fs.rmSync(d, { recursive: true, force: true });
});

/** A copy of the base store with `tamper` applied to the file directly, guards lifted as an attacker would. */
function copyWith(tamper: (db: BetterSqlite3.Database) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-offline-'));
  dirs.push(dir);
  fs.copyFileSync(sqlitePath(base), sqlitePath(dir));
  const db = new BetterSqlite3(sqlitePath(dir));
  for (const t of db.prepare("select name from sqlite_master where type = 'trigger'").pluck().all() as string[]) db.exec(`drop trigger ${t}`);
  tamper(db);
  db.close();
  return dir;
}

/** The reference: verifyLog over every row in seq order, as the query-builder path read them. */
async function reference(dir: string, against: string[] = []): Promise<VerifyReport & { vkey: string }> {
  const db = new BetterSqlite3(sqlitePath(dir), { readonly: true });
  try {
    const vkey = db.prepare("select value from meta where key = 'audit_vkey'").pluck().get() as string;
    const pruned = db.prepare("select value from meta where key = 'audit_pruned_state'").pluck().get() as string | undefined;
    const notes = db.prepare('select note from audit_checkpoints order by tree_size').pluck().all() as string[];
    const rows = db.prepare(`select seq, canonical, leaf_hash, ${INDEXED_COLUMNS_SQL} from audit_events where seq >= 0 order by seq`).raw().all() as unknown[][];
    const events = rows.map((r) => ({ seq: Number(r[0]), canonical: r[1] as string, storedLeafHash: r[2] as string, columns: r.slice(3) }));
    const start = pruned ? parseState(JSON.parse(pruned) as SerializedState) : undefined;
    return { ...(await verifyLog({ events, checkpoints: notes, vkey, against, seqField: 'seq', ...(start ? { start } : {}) })), vkey };
  } finally {
    db.close();
  }
}

/**
 * verifyStore single-threaded and with workers over small chunks (so every thread takes several), and
 * with workers doing all the reading and hashing (small logs are otherwise done before a worker starts).
 */
async function allWays(dir: string, against: string[] = []) {
  const ref = await reference(dir, against);
  for (const opts of [{}, { workers: 0, chunkSize: 7 }, { workers: 1, chunkSize: 7 }, { workers: 2, chunkSize: 16 }]) {
    const got = await verifyStore({ dataDir: dir, against, ...opts });
    expect(got, JSON.stringify(opts)).toEqual(ref);
  }
  for (const opts of [{ workers: 1, chunkSize: 7 }, { workers: 2, chunkSize: 1 }]) {
    const { stats, ...got } = await verifySqliteFile(sqlitePath(dir), { against, mainHashes: false, ...opts });
    expect(got, `workers only ${JSON.stringify(opts)}`).toEqual(ref);
    if (ref.size > 0) expect(stats.chunksByWorkers).toBe(stats.chunks);
  }
  return ref;
}

const leafOf = (db: BetterSqlite3.Database, seq: number) => db.prepare('select canonical, leaf_hash from audit_events where seq = ?').get(seq) as { canonical: string; leaf_hash: string };

describe('verifyStore on SQLite (direct reads, worker threads)', () => {
  it('an untouched store verifies, with the same root and checkpoint counts every way', async () => {
    const r = await allWays(copyWith(() => undefined));
    expect(r.ok).toBe(true);
    expect(r.size).toBeGreaterThanOrEqual(EVENTS);
    expect(r.checkpoints.matched).toBeGreaterThanOrEqual(EVENTS / CHECKPOINT_EVERY);
  });

  it('an edited event is named exactly', async () => {
    const dir = copyWith((db) => {
      const row = leafOf(db, 123);
      db.prepare('update audit_events set canonical = ? where seq = 123').run(row.canonical.replace('success', 'failure'));
    });
    const r = await allWays(dir);
    expect(r.firstBadSeq).toBe(123);
    expect(r.problems[0]).toMatchObject({ kind: 'edited', seq: 123 });
  });

  it('an edit that rewrote the stored hash too is narrowed to the checkpoint interval', async () => {
    const { hashLeafText } = await import('./merkle.js');
    const dir = copyWith((db) => {
      const forged = leafOf(db, 123).canonical.replace('success', 'failure');
      // A careful forger keeps the query column in step too, so only the signed roots can tell.
      db.prepare("update audit_events set canonical = ?, leaf_hash = ?, outcome = 'failure' where seq = 123").run(forged, hashLeafText(forged).toString('hex'));
    });
    const r = await allWays(dir);
    expect(r.ok).toBe(false);
    expect(r.firstBadSeq).toBeLessThanOrEqual(123);
    expect(r.problems[0]).toMatchObject({ kind: 'edited' });
  });

  for (const [column, value] of [
    ['type', 'test.other'], ['time', '2001-01-01T00:00:00.000Z'], ['outcome', 'failure'], ['decision', 'deny'], ['id', 'not-the-id'],
    ['actor_principal_id', 'someone-else'], ['actor_credential_id', 'cred-x'], ['target_type', 'resource'], ['target_id', 'res-1'],
  ] as const) {
    it(`a query column edited alone (${column}) is named at its seq, every way`, async () => {
      const dir = copyWith((db) => db.prepare(`update audit_events set ${column} = ? where seq = 201`).run(value));
      const r = await allWays(dir);
      expect(r.ok).toBe(false);
      expect(r.firstBadSeq).toBe(201);
      expect(r.problems).toEqual([expect.objectContaining({ kind: 'column-edited', seq: 201, column })]);
    });
  }

  it('a query column set to NULL is an edit too', async () => {
    const r = await allWays(copyWith((db) => db.prepare("update audit_events set decision = NULL, type = 'test.event' where seq = 12").run()));
    expect(r.problems).toEqual([]);
    const r2 = await allWays(copyWith((db) => db.prepare("update audit_events set outcome = 'success ' where seq = 12").run()));
    expect(r2.problems).toEqual([expect.objectContaining({ kind: 'column-edited', seq: 12, column: 'outcome' })]);
  });

  it('delegation rows: one added for an event is named; one for an event that is not stored is named', async () => {
    // The reference (verifyLog over the events alone) never reads the delegation table: each way is checked on its own.
    for (const [seq, dir] of [[44, copyWith((db) => db.prepare("insert into audit_delegation (seq, principal_id) values (44, 'mallory')").run())],
      [5000, copyWith((db) => db.prepare("insert into audit_delegation (seq, principal_id) values (5000, 'mallory')").run())]] as const) {
      for (const opts of [{}, { workers: 0, chunkSize: 7 }, { workers: 2, chunkSize: 16 }]) {
        const r = await verifyStore({ dataDir: dir, ...opts });
        expect(r.problems, JSON.stringify(opts)).toEqual([expect.objectContaining({ kind: 'column-edited', seq, column: 'audit_delegation' })]);
      }
    }
  });

  it('malformed and upper-case stored hashes: the first is an edit, the second is not', async () => {
    const dir = copyWith((db) => {
      db.prepare("update audit_events set leaf_hash = 'zz' where seq = 77").run();
      db.prepare('update audit_events set leaf_hash = upper(leaf_hash) where seq = 78').run();
    });
    const r = await allWays(dir);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'edited', seq: 77 })]);
  });

  it('more edited events than problems reported: the same first 100 every way', async () => {
    const dir = copyWith((db) => db.prepare("update audit_events set leaf_hash = 'zz' where seq >= 40 and seq < 190").run());
    const r = await allWays(dir);
    expect(r.problems).toHaveLength(100);
    expect(r.firstBadSeq).toBe(40);
  });

  it('a deleted event is named exactly', async () => {
    const r = await allWays(copyWith((db) => db.prepare('delete from audit_events where seq = 150').run()));
    expect(r.firstBadSeq).toBe(150);
    expect(r.problems[0]).toMatchObject({ kind: 'deleted', seq: 150, message: expect.stringContaining('next stored event is 151') });
  });

  it('a deleted run of events that spans chunks is named from its first missing seq', async () => {
    const r = await allWays(copyWith((db) => db.prepare('delete from audit_events where seq >= 60 and seq < 90').run()));
    expect(r.problems[0]).toMatchObject({ kind: 'deleted', seq: 60, message: expect.stringContaining('next stored event is 90') });
  });

  it('a deleted event with the rest renumbered is pinpointed from the events own seq field', async () => {
    const dir = copyWith((db) => {
      db.prepare('delete from audit_events where seq = 150').run();
      db.prepare('update audit_events set seq = seq - 1 where seq > 150').run();
    });
    const r = await allWays(dir);
    expect(r.firstBadSeq).toBe(150);
    expect(r.problems[0]).toMatchObject({ kind: 'deleted', seq: 150 });
  });

  it('two events swapped (with their stored hashes) are pinpointed as reordered', async () => {
    const dir = copyWith((db) => {
      // Whole rows but seq swapped (query columns too), so only the tree and the events' own seq tell.
      const whole = (seq: number) => db.prepare(`select canonical, leaf_hash, ${INDEXED_COLUMNS_SQL} from audit_events where seq = ?`).get(seq) as Record<string, unknown>;
      const [a, b] = [whole(140), whole(143)];
      const cols = Object.keys(a);
      const set = db.prepare(`update audit_events set ${cols.map((c) => `${c} = @${c}`).join(', ')}, id = @id || '-' where seq = @seq`);
      set.run({ ...b, seq: 140 });
      set.run({ ...a, seq: 143 });
      db.prepare("update audit_events set id = substr(id, 1, length(id) - 1) where seq in (140, 143)").run();
    });
    const r = await allWays(dir);
    expect(r.firstBadSeq).toBe(140);
    expect(r.problems[0]).toMatchObject({ kind: 'reordered', seq: 140 });
  });

  it('a truncated tail is named from its first missing seq', async () => {
    const dir = copyWith((db) => db.prepare('delete from audit_events where seq >= 290').run());
    const r = await allWays(dir);
    expect(r.firstBadSeq).toBe(290);
    expect(r.problems.map((p) => p.kind)).toContain('truncated');
  });

  it('a rollback is caught against a checkpoint saved before it', async () => {
    const db = new BetterSqlite3(sqlitePath(base), { readonly: true });
    const saved = db.prepare('select note from audit_checkpoints order by tree_size desc limit 1').pluck().get() as string;
    db.close();
    const dir = copyWith((d) => {
      d.prepare('delete from audit_events where seq >= 200').run();
      d.prepare('delete from audit_checkpoints where tree_size > 200').run();
    });
    expect((await allWays(dir)).ok).toBe(true);
    const r = await allWays(dir, [saved]);
    expect(r.firstBadSeq).toBe(200);
    expect(r.problems.map((p) => p.kind)).toContain('rollback');
  });

  it('after a pruned prefix, verification starts from the stored tree state; a leftover earlier row is out of place', async () => {
    const prune = (db: BetterSqlite3.Database, keepFrom: number) => {
      const b = createTreeBuilder();
      for (const h of db.prepare('select leaf_hash from audit_events where seq < ? order by seq').pluck().all(64) as string[]) b.append(Buffer.from(h, 'hex'));
      db.prepare("insert into meta (key, value) values ('audit_pruned_state', ?)").run(JSON.stringify(serializeState(b.state())));
      db.prepare('delete from audit_events where seq < ?').run(keepFrom);
    };
    const ok = await allWays(copyWith((db) => prune(db, 64)));
    expect(ok.ok).toBe(true);
    const edited = await allWays(copyWith((db) => {
      prune(db, 64);
      db.prepare("update audit_events set leaf_hash = 'zz' where seq = 100").run();
    }));
    expect(edited.firstBadSeq).toBe(100);
    const leftover = await allWays(copyWith((db) => prune(db, 63)));
    expect(leftover.problems[0]).toMatchObject({ kind: 'reordered', seq: 64 });
  });

  it('sequence numbers that are not integers fall back to the plain ordered pass with the same report', async () => {
    const real = await allWays(copyWith((db) => db.prepare('update audit_events set seq = 99.5 where seq = 99').run()));
    expect(real.problems[0]).toMatchObject({ kind: 'deleted', seq: 99 });
    const text = await allWays(copyWith((db) => db.prepare("update audit_events set seq = 'x' where seq = 200").run()));
    expect(text.problems[0]).toMatchObject({ kind: 'deleted', seq: 200 });
  });

  it('an empty log verifies as size 0; a missing store or key is an error', async () => {
    const empty = await allWays(copyWith((db) => {
      db.prepare('delete from audit_events').run();
      db.prepare('delete from audit_checkpoints').run();
    }));
    expect(empty).toMatchObject({ ok: true, size: 0 });
    await expect(verifyStore({ dataDir: path.join(os.tmpdir(), 'custos-no-such-store') })).rejects.toThrow(/no Custos store/);
    const noKey = copyWith((db) => db.prepare("delete from meta where key = 'audit_vkey'").run());
    await expect(verifyStore({ dataDir: noKey })).rejects.toThrow(/no audit public key/);
  });

  it('does not write to the store it verifies', async () => {
    const dir = copyWith(() => undefined);
    const before = fs.readFileSync(sqlitePath(dir));
    await verifyStore({ dataDir: dir, workers: 1, chunkSize: 16 });
    expect(fs.readFileSync(sqlitePath(dir)).equals(before)).toBe(true);
  });
});
