import type { Kysely } from 'kysely';
import { reusable } from '../platform/store/reusable.js';
import type { DB, ReplayCacheTable } from '../platform/store/schema.js';

// Thin queries over replay_cache, the single-use record of jti values (replay-store.ts holds the rules).
// The claim is one statement on both dialects: an insert that, on a key already present, replaces the row only
// when it has expired (`expires_at < now`). It affects one row when it inserted or replaced, none when a live row
// holds the key: a replay. (The affected-row count, not RETURNING: the same answer on both stores, and on SQLite
// the statement costs less than half as much.) Timestamps are ISO-8601 strings of one width, so text order is time order.

type Q = Kysely<DB>;

// Every DPoP-bound request and every client assertion runs this one: compiled once, re-bound after (reusable.ts).
const claim = reusable(4, (db, keyHash, kind, expiresAt, now) => db.insertInto('replay_cache')
  .values({ key_hash: keyHash, kind, expires_at: expiresAt })
  .onConflict((oc) => oc.column('key_hash')
    .doUpdateSet((eb) => ({ kind: eb.ref('excluded.kind'), expires_at: eb.ref('excluded.expires_at') }))
    .where('replay_cache.expires_at', '<', now)));

/** Inserts `row`, or replaces a row of the same key that expired before `now`; false when a live row holds the key. */
export async function claimKey(db: Q, row: ReplayCacheTable, now: string): Promise<boolean> {
  const result = await claim(db, row.key_hash, row.kind, row.expires_at, now);
  return result.numAffectedRows === 1n;
}

/** Deletes the rows that expired before `now`; returns how many. */
export async function deleteExpired(db: Q, now: string): Promise<number> {
  const result = await db.deleteFrom('replay_cache').where('expires_at', '<', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The live-or-not row of a key (tests and diagnostics). */
export async function findKey(db: Q, keyHash: string): Promise<ReplayCacheTable | undefined> {
  return db.selectFrom('replay_cache').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
}
