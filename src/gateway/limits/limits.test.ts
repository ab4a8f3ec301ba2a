import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bindingRefusal, changeProblem, chargesFor, counterKey, limitProblem, MAX_LIMIT_VALUE, mergeLimits, NO_LIMITS, retryAfterSeconds, windowOf,
  type AppliedLimit, type Charge,
} from './limits.js';

const at = (iso: string) => Date.parse(iso);
const P = { kind: 'principal', id: 'p1' } as const;
const T = { kind: 'team', id: 't1' } as const;
const R = { kind: 'resource', id: 'r1' } as const;

describe('limit windows (UTC)', () => {
  it('minute, day and month windows contain the instant and end at the next boundary', () => {
    const now = at('2026-12-31T23:59:30.250Z');
    expect(windowOf('minute', now)).toEqual({ kind: 'minute', start: at('2026-12-31T23:59:00Z'), end: at('2027-01-01T00:00:00Z'), label: '2026-12-31T23:59' });
    expect(windowOf('day', now)).toEqual({ kind: 'day', start: at('2026-12-31T00:00:00Z'), end: at('2027-01-01T00:00:00Z'), label: '2026-12-31' });
    expect(windowOf('month', now)).toEqual({ kind: 'month', start: at('2026-12-01T00:00:00Z'), end: at('2027-01-01T00:00:00Z'), label: '2026-12' });
  });

  it('a boundary instant belongs to the window it starts', () => {
    expect(windowOf('minute', at('2026-03-01T10:05:00Z')).label).toBe('2026-03-01T10:05');
    expect(windowOf('day', at('2026-03-01T00:00:00Z')).label).toBe('2026-03-01');
    expect(windowOf('month', at('2026-03-01T00:00:00Z')).label).toBe('2026-03');
    expect(windowOf('month', at('2026-02-28T23:59:59.999Z')).end).toBe(at('2026-03-01T00:00:00Z'));
    expect(windowOf('month', at('2028-02-10T00:00:00Z')).end - windowOf('month', at('2028-02-10T00:00:00Z')).start).toBe(29 * 86_400_000); // leap year
  });

  it('property: every window contains its instant, is as long as its kind, and labels differ between adjacent windows', () => {
    fc.assert(fc.property(fc.integer({ min: at('2000-01-01T00:00:00Z'), max: at('2100-01-01T00:00:00Z') }), (now) => {
      for (const kind of ['minute', 'day', 'month'] as const) {
        const w = windowOf(kind, now);
        expect(w.start).toBeLessThanOrEqual(now);
        expect(w.end).toBeGreaterThan(now);
        const days = (w.end - w.start) / 86_400_000;
        if (kind === 'minute') expect(w.end - w.start).toBe(60_000);
        if (kind === 'day') expect(days).toBe(1);
        if (kind === 'month') expect([28, 29, 30, 31]).toContain(days);
        expect(windowOf(kind, w.end).label).not.toBe(w.label);
        expect(windowOf(kind, w.end - 1).label).toBe(w.label);
        expect(windowOf(kind, w.start).label).toBe(w.label);
      }
    }));
  });
});

describe('charges', () => {
  const now = at('2026-06-15T12:34:56Z');
  const limits: AppliedLimit[] = [
    { target: P, values: { ...NO_LIMITS, requests_per_minute: 60, tokens_per_day: 100_000 } },
    { target: T, values: { ...NO_LIMITS, tokens_per_minute: 20_000, tokens_per_month: 5_000_000 } },
    { target: R, values: NO_LIMITS },
  ];

  it('one charge per value set: 1 per request limit, the maximum per token limit, each in its window', () => {
    expect(chargesFor(limits, 1500, now)).toEqual([
      { key: 'principal:p1:requests_per_minute:2026-06-15T12:34', amount: 1, cap: 60, resetsAt: at('2026-06-15T12:35:00Z'), unit: 'requests', target: P, metric: 'requests_per_minute', window: 'minute' },
      { key: 'principal:p1:tokens_per_day:2026-06-15', amount: 1500, cap: 100_000, resetsAt: at('2026-06-16T00:00:00Z'), unit: 'tokens', target: P, metric: 'tokens_per_day', window: 'day' },
      { key: 'team:t1:tokens_per_minute:2026-06-15T12:34', amount: 1500, cap: 20_000, resetsAt: at('2026-06-15T12:35:00Z'), unit: 'tokens', target: T, metric: 'tokens_per_minute', window: 'minute' },
      { key: 'team:t1:tokens_per_month:2026-06', amount: 1500, cap: 5_000_000, resetsAt: at('2026-07-01T00:00:00Z'), unit: 'tokens', target: T, metric: 'tokens_per_month', window: 'month' },
    ]);
  });

  it('no limits, no charges; a target listed twice is charged once; a bad maximum is a programming error', () => {
    expect(chargesFor([], 10, now)).toEqual([]);
    expect(chargesFor([limits[0]!, limits[0]!], 10, now)).toHaveLength(2);
    expect(() => chargesFor(limits, -1, now)).toThrow(TypeError);
    expect(() => chargesFor(limits, 1.5, now)).toThrow(TypeError);
    expect(() => chargesFor(limits, Number.NaN, now)).toThrow(TypeError);
  });

  it('keys name the target, the metric and the window', () => {
    expect(counterKey(T, 'tokens_per_day', windowOf('day', now))).toBe('team:t1:tokens_per_day:2026-06-15');
  });
});

describe('refusals', () => {
  const now = at('2026-06-15T12:34:56.100Z');
  const charge = (c: Partial<Charge>): Charge => ({ key: 'k', amount: 10, cap: 100, resetsAt: now + 1000, unit: 'tokens', target: P, metric: 'tokens_per_minute', window: 'minute', ...c });

  it('Retry-After is whole seconds to the reset, at least 1', () => {
    expect(retryAfterSeconds(now + 3_900, now)).toBe(4);
    expect(retryAfterSeconds(now + 4_000, now)).toBe(4);
    expect(retryAfterSeconds(now + 1, now)).toBe(1);
    expect(retryAfterSeconds(now, now)).toBe(1);
    expect(retryAfterSeconds(now - 5_000, now)).toBe(1);
  });

  it('the binding refusal is the limit that resets last; one the call can never fit comes first', () => {
    const minute = charge({ key: 'm', resetsAt: at('2026-06-15T12:35:00Z') });
    const day = charge({ key: 'd', metric: 'tokens_per_day', window: 'day', resetsAt: at('2026-06-16T00:00:00Z') });
    expect(bindingRefusal([minute, day], now)).toEqual({ charge: day, retryAfterSeconds: 41_104, exceedsWindow: false });
    expect(bindingRefusal([day, minute], now).charge).toBe(day);
    const tooBig = charge({ key: 'big', amount: 200, cap: 100, resetsAt: at('2026-06-15T12:35:00Z') });
    expect(bindingRefusal([day, tooBig], now)).toEqual({ charge: tooBig, retryAfterSeconds: 4, exceedsWindow: true });
    expect(() => bindingRefusal([], now)).toThrow(TypeError);
  });
});

describe('changes to a limit', () => {
  it('absent keeps, null clears, a number sets', () => {
    const before = { ...NO_LIMITS, requests_per_minute: 60, tokens_per_day: 1000 };
    expect(mergeLimits(before, { tokens_per_day: null, tokens_per_month: 9000 })).toEqual({ requests_per_minute: 60, tokens_per_minute: null, tokens_per_day: null, tokens_per_month: 9000 });
    expect(mergeLimits(null, { tokens_per_minute: 5 })).toEqual({ ...NO_LIMITS, tokens_per_minute: 5 });
  });

  it('nothing given, all cleared, or a value out of range is a problem; the rest is fine', () => {
    expect(changeProblem({})).toMatch(/give at least one of requests_per_minute/);
    expect(changeProblem({ requests_per_minute: null, tokens_per_minute: null, tokens_per_day: null, tokens_per_month: null })).toMatch(/no value would remain/);
    expect(changeProblem({ tokens_per_day: 0 })).toMatch(/tokens_per_day must be a whole number from 1 to 2147483647/);
    expect(changeProblem({ tokens_per_day: -3 })).toMatch(/tokens_per_day/);
    expect(changeProblem({ requests_per_minute: 2.5 })).toMatch(/requests_per_minute/);
    expect(changeProblem({ tokens_per_month: MAX_LIMIT_VALUE + 1 })).toMatch(/tokens_per_month/);
    expect(changeProblem({ tokens_per_month: MAX_LIMIT_VALUE })).toBeUndefined();
    expect(changeProblem({ tokens_per_day: null })).toBeUndefined(); // depends on what is stored
    expect(limitProblem({ tokens_per_day: null }, NO_LIMITS)).toMatch(/no value would remain/);
    expect(limitProblem({ tokens_per_day: null }, { ...NO_LIMITS, requests_per_minute: 5 })).toBeUndefined();
  });
});
