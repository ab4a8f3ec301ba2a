import crypto from 'node:crypto';
import type { Clock } from '../platform/clock.js';
import type { Database } from '../platform/store/db.js';
import type { ReplayStore } from './contracts.js';
import { claimKey, deleteExpired } from './replay.repo.js';

// Single use of one-time values: DPoP proof jtis, client assertion jtis, federated JWT jtis. A value seen once is
// refused until its entry expires, on every node that shares the database and after a restart, because the record
// is a row written through the group-commit writer (durable before claimOnce answers), not memory.
//
// Rules:
// - The key is the hex SHA-256 of `${kind}\n${id}`: kinds never collide, and ids of any length (or content) fit.
// - claimOnce answers true exactly once per key while its entry lives: concurrent claims of one id, on one node or
//   several, are serialised by the writer's transaction (and on PostgreSQL its advisory lock), and the insert
//   itself decides (no read-then-write race).
// - An entry lives through its `expiresAt` instant inclusive (`expires_at >= now`). A caller passes the last instant
//   it would still accept the value (e.g. a proof's iat + window), so a replay at that very instant is refused.
//   An expired leftover row of the same key is replaced, so a value may be used again once its entry is gone.
// - prune() deletes expired entries (called on a timer); a leftover row never causes a false refusal anyway.
// - Nothing here is audited: a claim is not a governed change, and the callers record refusals as auth failures.

export function replayKeyHash(kind: string, id: string): string {
  return crypto.createHash('sha256').update(`${kind}\n${id}`, 'utf8').digest('hex');
}

export function createReplayStore(deps: { db: Database; clock: Clock }): ReplayStore {
  const { db, clock } = deps;
  return {
    async claimOnce(kind, id, expiresAt) {
      const row = { key_hash: replayKeyHash(kind, id), kind, expires_at: expiresAt.toISOString() };
      const now = clock.now().toISOString();
      return db.write((trx) => claimKey(trx, row, now));
    },
    async prune() {
      const now = clock.now().toISOString();
      return db.write((trx) => deleteExpired(trx, now));
    },
  };
}
