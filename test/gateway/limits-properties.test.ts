import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryCounterStore, type CounterStore } from '../../src/gateway/limits/counters.js';
import { createLimitEnforcer, type LimitCall, type Reservation } from '../../src/gateway/limits/enforcer.js';
import { NO_LIMITS, type AppliedLimit } from '../../src/gateway/limits/limits.js';
import { manualClock } from '../../src/platform/clock.js';

// Properties of the enforcer over the real in-memory counter store (the limits are given in memory, as the store
// query would return them):
// - For any interleaving of concurrent reserve → (forward) → settle/release, every call using at most its maximum,
//   the tokens used never exceed any token limit and the calls admitted never exceed a request limit: reserve-before-
//   forward means a burst cannot overrun a budget at all. Every refusal carries a whole Retry-After ≥ 1 s, and is
//   marked exceedsWindow exactly when the call's maximum alone is above the limit.
// - Run one step at a time, the enforcer admits exactly the calls a simple model admits (current reserved + used +
//   maximum ≤ cap for every limit), so it is never stricter than the limits either.

const CALL: Omit<LimitCall, 'maxTokens'> = { principalId: 'p1', teamIds: ['t1', 't2'], resourceId: 'r1' };

const limitsArb = fc.record({
  budget: fc.integer({ min: 1, max: 5_000 }), // principal tokens_per_day
  teamMinute: fc.integer({ min: 1, max: 5_000 }), // team t1 tokens_per_minute
  resourceMonth: fc.option(fc.integer({ min: 1, max: 8_000 }), { nil: null }),
  rpm: fc.integer({ min: 1, max: 40 }), // principal requests_per_minute
});
type Limits = { budget: number; teamMinute: number; resourceMonth: number | null; rpm: number };

function applied(l: Limits): AppliedLimit[] {
  return [
    { target: { kind: 'principal', id: 'p1' }, values: { ...NO_LIMITS, tokens_per_day: l.budget, requests_per_minute: l.rpm } },
    { target: { kind: 'team', id: 't1' }, values: { ...NO_LIMITS, tokens_per_minute: l.teamMinute } },
    { target: { kind: 'resource', id: 'r1' }, values: { ...NO_LIMITS, tokens_per_month: l.resourceMonth } },
  ];
}
const tokenCaps = (l: Limits) => [l.budget, l.teamMinute, ...(l.resourceMonth === null ? [] : [l.resourceMonth])];

// Any instant, far enough from the end of a UTC minute that a run (which never moves the clock) stays in one window.
const startArb = fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2030-01-01T00:00:00Z') }).map((t) => Math.floor(t / 60_000) * 60_000 + 1_000);

const callArb = fc.record({
  maxTokens: fc.integer({ min: 0, max: 3_000 }),
  usedPermille: fc.integer({ min: 0, max: 1000 }),
  neverForwarded: fc.boolean(),
});

describe('limit enforcer properties', () => {
  it('concurrent calls in any interleaving never take tokens past a limit nor admit more requests than a request limit', async () => {
    await fc.assert(fc.asyncProperty(fc.scheduler(), limitsArb, startArb, fc.array(callArb, { minLength: 1, maxLength: 40 }), async (s, l, start, calls) => {
      const clock = manualClock(new Date(start));
      const inner = createMemoryCounterStore();
      // Every store operation is a point where the scheduler may run another call first.
      const counters: CounterStore = {
        reserve: async (h, now) => { await s.schedule(Promise.resolve('reserve')); return inner.reserve(h, now); },
        settle: async (h, used, now) => { await s.schedule(Promise.resolve('settle')); return inner.settle(h, used, now); },
        release: async (h, now) => { await s.schedule(Promise.resolve('release')); return inner.release(h, now); },
        read: (keys, now) => inner.read(keys, now),
      };
      let n = 0;
      const enforcer = createLimitEnforcer({
        counters, clock, newId: () => `r${++n}`,
        limitsFor: async () => { await s.schedule(Promise.resolve('limits')); return applied(l); },
      });
      let used = 0;
      let admitted = 0;
      let forwardedAndUsing = 0;
      const maxInFlightUse = () => used + forwardedAndUsing;
      const run = async (c: { maxTokens: number; usedPermille: number; neverForwarded: boolean }) => {
        const r = await enforcer.reserve({ ...CALL, maxTokens: c.maxTokens });
        if (!r.ok) {
          expect(Number.isInteger(r.retryAfterSeconds)).toBe(true);
          expect(r.retryAfterSeconds).toBeGreaterThanOrEqual(1);
          expect(r.limit.exceedsWindow).toBe(r.limit.metric !== 'requests_per_minute' && c.maxTokens > r.limit.value);
          return;
        }
        admitted++;
        if (c.neverForwarded) {
          await s.schedule(Promise.resolve('upstream refused before sending'));
          admitted--;
          await enforcer.release(r.reservation);
          return;
        }
        const tokens = Math.floor((c.maxTokens * c.usedPermille) / 1000);
        forwardedAndUsing += tokens;
        // While in flight, the upstream may already have spent them: the worst case counts them as used now.
        for (const cap of tokenCaps(l)) expect(maxInFlightUse()).toBeLessThanOrEqual(cap);
        await s.schedule(Promise.resolve('upstream answers'));
        forwardedAndUsing -= tokens;
        used += tokens;
        await enforcer.settle(r.reservation, tokens);
      };
      await s.waitFor(Promise.all(calls.map(run)));
      for (const cap of tokenCaps(l)) expect(used).toBeLessThanOrEqual(cap);
      // Released calls gave their request back; those forwarded stay counted within the request limit.
      expect(admitted).toBeLessThanOrEqual(l.rpm);
      // Everything settled or released: the counters hold exactly what was used.
      const day = new Date(start).toISOString().slice(0, 10);
      expect((await inner.read([`principal:p1:tokens_per_day:${day}`], clock.now().getTime())).get(`principal:p1:tokens_per_day:${day}`)).toBe(used);
      expect(inner.stats().pending).toBe(0);
    }), { numRuns: 200 });
  });

  it('one step at a time, it admits exactly what a model of the limits admits', async () => {
    const opArb = fc.oneof(
      fc.record({ op: fc.constant('reserve' as const), maxTokens: fc.integer({ min: 0, max: 3_000 }) }),
      fc.record({ op: fc.constant('settle' as const), pick: fc.nat(), usedPermille: fc.integer({ min: 0, max: 1000 }) }),
      fc.record({ op: fc.constant('release' as const), pick: fc.nat() }),
    );
    await fc.assert(fc.asyncProperty(limitsArb, startArb, fc.array(opArb, { maxLength: 60 }), async (l, start, ops) => {
      const clock = manualClock(new Date(start));
      let n = 0;
      const enforcer = createLimitEnforcer({ counters: createMemoryCounterStore(), clock, newId: () => `r${++n}`, limitsFor: async () => applied(l) });
      // The model: tokens charged (reserved maximum while in flight, usage once settled) and requests counted.
      let tokens = 0;
      let requests = 0;
      const inFlight: Reservation[] = [];
      for (const o of ops) {
        if (o.op === 'reserve') {
          const fits = requests + 1 <= l.rpm && tokenCaps(l).every((cap) => tokens + o.maxTokens <= cap);
          const r = await enforcer.reserve({ ...CALL, maxTokens: o.maxTokens });
          expect(r.ok).toBe(fits);
          if (r.ok) {
            tokens += o.maxTokens;
            requests++;
            inFlight.push(r.reservation);
          } else {
            expect(r.retryAfterSeconds).toBeGreaterThanOrEqual(1);
          }
        } else if (inFlight.length) {
          const [r] = inFlight.splice(o.pick % inFlight.length, 1);
          if (o.op === 'settle') {
            const used = Math.floor((r!.maxTokens * o.usedPermille) / 1000);
            await enforcer.settle(r!, used);
            tokens += used - r!.maxTokens;
          } else {
            await enforcer.release(r!);
            tokens -= r!.maxTokens;
            requests--;
          }
        }
      }
    }), { numRuns: 300 });
  });
});
