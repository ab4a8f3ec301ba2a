// The counters limits are enforced with, behind one interface: today an in-memory store (one node), later one in
// PostgreSQL or Redis shared by every node (the multi-node issue). The enforcer computes keys, amounts and caps
// (limits.ts); a store only has to check and add them atomically, settle and release.
//
// Contract of every implementation (what the enforcer and its property test rely on):
// - `reserve` is all or nothing and atomic per key: either every charge fits (current + amount ≤ cap) and all are
//   added, or none is and the indexes that did not fit are returned. Two reservations racing for the last units of
//   a counter can never both pass. (In memory: the check and the add run with no await between them. In Redis: one
//   Lua script over the keys. In PostgreSQL: one transaction locking the counter rows in key order.)
// - `settle` replaces a hold's token amounts by the tokens used (requests stay counted) and ends the hold; `release`
//   takes every amount back (the call never reached the upstream). Both are idempotent: a hold ends once.
// - A hold not ended by its `expiresAt` expires: its tokens are given back, so a crashed call does not keep budget
//   forever (its request stays counted). A settle arriving later still charges the tokens used, once.
// - Counters live as long as their window: a change to a window that has ended is dropped (nothing reads it again).
//
// Guards against: two nodes' worth of concurrency is NOT covered by the in-memory store (each node counts alone:
// N nodes admit up to N times a limit) and its counts are lost at restart. Both end with the shared store.

export interface CounterCharge {
  key: string;
  amount: number;
  cap: number;
  /** Epoch ms when the counter's window ends. */
  resetsAt: number;
  unit: 'requests' | 'tokens';
}

/** What one reservation holds in the counters. */
export interface CounterHold {
  id: string;
  charges: readonly CounterCharge[];
  /** Epoch ms after which an unsettled hold gives its tokens back. */
  expiresAt: number;
}

export type CounterReserveResult = { ok: true } | { ok: false; refused: number[] };

export interface CounterStore {
  /** Adds every charge if every one fits under its cap, atomically; otherwise nothing, and which did not fit. */
  reserve(hold: CounterHold, now: number): Promise<CounterReserveResult>;
  /** The call is done: its token charges become `usedTokens`, its request charges stay. Once per hold. */
  settle(hold: CounterHold, usedTokens: number, now: number): Promise<void>;
  /** The call never reached the upstream: every charge is taken back. Once per hold. */
  release(hold: CounterHold, now: number): Promise<void>;
  /** Current values (reserved plus used) of counters whose window has not ended; 0 for unknown keys. */
  read(keys: readonly string[], now: number): Promise<Map<string, number>>;
}

export interface MemoryCounterStats {
  counters: number;
  pending: number;
  expired: number;
}

/**
 * One node's counters in memory. Holds expire in the order they were made (the enforcer gives every hold the same
 * lifetime); an expired hold is remembered for `lateSettleMs` more, so a late settle charges its usage once.
 */
export function createMemoryCounterStore(opts: { lateSettleMs?: number } = {}): CounterStore & { stats(): MemoryCounterStats } {
  const lateSettleMs = opts.lateSettleMs ?? 10 * 60_000;
  const counters = new Map<string, { value: number; resetsAt: number }>();
  const pending = new Map<string, CounterHold>();
  const expired = new Map<string, { hold: CounterHold; forgetAt: number }>();
  let nextPruneAt = 0;

  const current = (c: CounterCharge, now: number) => {
    const entry = counters.get(c.key);
    return entry && entry.resetsAt > now ? entry.value : 0;
  };

  function add(c: CounterCharge, delta: number, now: number): void {
    if (c.resetsAt <= now || delta === 0) return;
    const entry = counters.get(c.key);
    if (!entry || entry.resetsAt <= now) {
      if (delta > 0) counters.set(c.key, { value: delta, resetsAt: c.resetsAt });
      return;
    }
    entry.value = Math.max(0, entry.value + delta);
  }

  /** Expires due holds, forgets old tombstones and drops counters of ended windows (at most once a minute). */
  function tick(now: number): void {
    for (const [id, hold] of pending) {
      if (hold.expiresAt > now) break;
      pending.delete(id);
      for (const c of hold.charges) if (c.unit === 'tokens') add(c, -c.amount, now);
      expired.set(id, { hold, forgetAt: hold.expiresAt + lateSettleMs });
    }
    for (const [id, e] of expired) {
      if (e.forgetAt > now) break;
      expired.delete(id);
    }
    if (now >= nextPruneAt) {
      for (const [key, entry] of counters) if (entry.resetsAt <= now) counters.delete(key);
      nextPruneAt = now + 60_000;
    }
  }

  return {
    async reserve(hold, now) {
      tick(now);
      if (pending.has(hold.id) || expired.has(hold.id)) throw new Error(`hold ${hold.id} was already reserved`);
      // Check and add with no await between: nothing else runs in between on this node.
      const refused: number[] = [];
      hold.charges.forEach((c, i) => { if (current(c, now) + c.amount > c.cap) refused.push(i); });
      if (refused.length) return { ok: false, refused };
      for (const c of hold.charges) add(c, c.amount, now);
      pending.set(hold.id, hold);
      return { ok: true };
    },

    async settle(hold, usedTokens, now) {
      tick(now);
      if (pending.delete(hold.id)) {
        for (const c of hold.charges) if (c.unit === 'tokens') add(c, usedTokens - c.amount, now);
        return;
      }
      // Expired before it settled: its tokens were given back; charge what it used.
      if (expired.delete(hold.id)) for (const c of hold.charges) if (c.unit === 'tokens') add(c, usedTokens, now);
    },

    async release(hold, now) {
      tick(now);
      if (pending.delete(hold.id)) {
        for (const c of hold.charges) add(c, -c.amount, now);
        return;
      }
      // Expired (its tokens already given back): the request it counted never reached the upstream either.
      if (expired.delete(hold.id)) for (const c of hold.charges) if (c.unit === 'requests') add(c, -c.amount, now);
    },

    async read(keys, now) {
      tick(now);
      const out = new Map<string, number>();
      for (const key of keys) {
        const entry = counters.get(key);
        out.set(key, entry && entry.resetsAt > now ? entry.value : 0);
      }
      return out;
    },

    stats: () => ({ counters: counters.size, pending: pending.size, expired: expired.size }),
  };
}
