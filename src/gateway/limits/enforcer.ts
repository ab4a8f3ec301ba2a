import type { Clock } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { CounterHold, CounterStore } from './counters.js';
import { bindingRefusal, chargesFor, type AppliedLimit, type Charge, type LimitTargetRef, type Metric, type WindowKind } from './limits.js';

// The enforcer the gateway's call pipeline reserves through (`enforceLimits`, before forwarding) and settles with
// (after the upstream answered, with the usage it reported). It decides nothing about who may call what — the
// decision point did that — only whether the call fits every limit in force.
//
// Rules:
// - The limits in force are read from the store on every reserve (one indexed query): the principal's, each of its
//   teams', the resource's. All must pass. A change made through /v1/limits applies to the very next call; nothing
//   is cached.
// - Reserve before forward: 1 against each requests-per-minute limit, `maxTokens` (the most the call can use,
//   prompt included) against each token limit, all or nothing (the counter store's atomic reserve). So concurrent
//   calls whose usage stays within their maximum never take a budget past its cap.
// - Settle replaces the reserved tokens by those used (a usage above the maximum is counted in full: the counts
//   stay true). Release takes everything back for a call that never reached the upstream. A reservation that is
//   neither settled nor released within `reservationTtlMs` gives its tokens back (a crashed call holds no budget).
// - A refusal names the binding limit (target, metric, value, window and its reset) and a Retry-After ≥ 1 s; it is
//   `exceedsWindow` when the call's maximum alone is above the limit (waiting does not help).
// - Fail closed: a store that cannot be read (limits or counters) throws; the pipeline answers 503, never forwards.

export interface LimitCall {
  principalId: string;
  teamIds: readonly string[];
  resourceId: string;
  /** The most tokens the call can use (prompt and completion): what token limits reserve. */
  maxTokens: number;
}

/** A granted reservation: pass it to settle or release exactly once. */
export interface Reservation extends CounterHold {
  maxTokens: number;
}

export interface RefusedLimit {
  target: LimitTargetRef;
  metric: Metric;
  /** The limit's value. */
  value: number;
  window: WindowKind;
  /** When the window resets (ISO 8601 UTC). */
  resetsAt: string;
  /** The call's maximum alone is above the limit: it can pass only with a smaller maximum. */
  exceedsWindow: boolean;
}

export type ReserveOutcome =
  | { ok: true; reservation: Reservation }
  | { ok: false; limit: RefusedLimit; retryAfterSeconds: number };

export interface LimitEnforcer {
  /** Checks every limit in force and reserves against all of them, or refuses with the binding one. */
  reserve(call: LimitCall): Promise<ReserveOutcome>;
  /** The call finished and used `usedTokens` (prompt and completion). */
  settle(reservation: Reservation, usedTokens: number): Promise<void>;
  /** The call never reached the upstream: nothing of it is counted. */
  release(reservation: Reservation): Promise<void>;
}

export const DEFAULT_RESERVATION_TTL_MS = 10 * 60_000;

export interface LimitEnforcerDeps {
  /** The limits in force for a call, read from the store on every call. */
  limitsFor(call: LimitCall): Promise<AppliedLimit[]>;
  counters: CounterStore;
  clock: Clock;
  newId: IdGenerator;
  reservationTtlMs?: number;
}

export function createLimitEnforcer(deps: LimitEnforcerDeps): LimitEnforcer {
  const { counters, clock, newId } = deps;
  const ttl = deps.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;

  return {
    async reserve(call) {
      if (!Number.isSafeInteger(call.maxTokens) || call.maxTokens < 0) throw new TypeError(`maxTokens must be a whole number ≥ 0, not ${call.maxTokens}`);
      const limits = await deps.limitsFor(call);
      const now = clock.now().getTime();
      const charges: Charge[] = chargesFor(limits, call.maxTokens, now);
      const reservation: Reservation = { id: newId(), charges, expiresAt: now + ttl, maxTokens: call.maxTokens };
      if (charges.length === 0) return { ok: true, reservation };
      const result = await counters.reserve(reservation, now);
      if (result.ok) return { ok: true, reservation };
      const refusal = bindingRefusal(result.refused.map((i) => charges[i]!), now);
      const c = refusal.charge;
      return {
        ok: false,
        limit: { target: c.target, metric: c.metric, value: c.cap, window: c.window, resetsAt: new Date(c.resetsAt).toISOString(), exceedsWindow: refusal.exceedsWindow },
        retryAfterSeconds: refusal.retryAfterSeconds,
      };
    },

    async settle(reservation, usedTokens) {
      if (reservation.charges.length === 0) return;
      // Usage that is not a count (an upstream that reported nothing usable) keeps what was reserved.
      const used = Number.isFinite(usedTokens) && usedTokens >= 0 ? Math.ceil(usedTokens) : reservation.maxTokens;
      await counters.settle(reservation, used, clock.now().getTime());
    },

    async release(reservation) {
      if (reservation.charges.length === 0) return;
      await counters.release(reservation, clock.now().getTime());
    },
  };
}
