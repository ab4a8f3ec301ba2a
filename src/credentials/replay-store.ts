import crypto from 'node:crypto';
import type { Clock } from '../platform/clock.js';
import type { Database, Trx } from '../platform/store/db.js';
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
// - claimIn makes the same claim inside a caller's write transaction, so the claim commits (or rolls back) with
//   what the caller writes there: the token endpoint claims a client assertion's jti in the transaction that
//   records the token it issues, one durable write instead of two. The insert decides there too; a caller that
//   gets false must write nothing else and refuse.
// - Nothing here is audited: a claim is not a governed change, and the callers record refusals as auth failures.

export function replayKeyHash(kind: string, id: string): string {
  return crypto.createHash('sha256').update(`${kind}\n${id}`, 'utf8').digest('hex');
}

type ReplayKind = Parameters<ReplayStore['claimOnce']>[0];

/** A claim a step has checked everything else for, to be made in the transaction of what it guards. */
export interface PendingClaim {
  kind: ReplayKind;
  id: string;
  expiresAt: Date;
}

export interface TransactionalReplayStore extends ReplayStore {
  /** claimOnce inside the caller's write transaction (trx): true when this claim is the first. */
  claimIn(trx: Trx, kind: ReplayKind, id: string, expiresAt: Date): Promise<boolean>;
}

export function createReplayStore(deps: { db: Database; clock: Clock }): TransactionalReplayStore {
  const { db, clock } = deps;
  const claimIn = (trx: Trx, kind: ReplayKind, id: string, expiresAt: Date) =>
    claimKey(trx, { key_hash: replayKeyHash(kind, id), kind, expires_at: expiresAt.toISOString() }, clock.now().toISOString());
  return {
    claimIn,
    async claimOnce(kind, id, expiresAt) {
      return db.write((trx) => claimIn(trx, kind, id, expiresAt));
    },
    async prune() {
      const now = clock.now().toISOString();
      return db.write((trx) => deleteExpired(trx, now));
    },
  };
}
