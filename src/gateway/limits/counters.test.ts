import { describe, expect, it } from 'vitest';
import { createMemoryCounterStore, type CounterCharge, type CounterHold } from './counters.js';

// The in-memory counter store's contract (counters.ts): all-or-nothing reserve under caps, settle replacing
// tokens by usage, release taking everything back, expiry giving tokens back, late settles counted once, and
// nothing written to a window that has ended.

const T0 = Date.parse('2026-06-15T12:00:10Z');
const MINUTE_END = Date.parse('2026-06-15T12:01:00Z');
const DAY_END = Date.parse('2026-06-16T00:00:00Z');

const req = (cap: number): CounterCharge => ({ key: 'rpm', amount: 1, cap, resetsAt: MINUTE_END, unit: 'requests' });
const tok = (key: string, amount: number, cap: number, resetsAt = DAY_END): CounterCharge => ({ key, amount, cap, resetsAt, unit: 'tokens' });
let n = 0;
const hold = (charges: CounterCharge[], expiresAt = T0 + 600_000): CounterHold => ({ id: `h${++n}`, charges, expiresAt });

describe('memory counter store', () => {
  it('reserves all or nothing: a charge over its cap refuses the lot and names it', async () => {
    const s = createMemoryCounterStore();
    expect(await s.reserve(hold([tok('day', 600, 1000), tok('month', 600, 5000)]), T0)).toEqual({ ok: true });
    expect(await s.reserve(hold([tok('month', 600, 5000), tok('day', 600, 1000)]), T0)).toEqual({ ok: false, refused: [1] });
    // Nothing of the refused one was added.
    expect(Object.fromEntries(await s.read(['day', 'month'], T0))).toEqual({ day: 600, month: 600 });
    expect(await s.reserve(hold([tok('day', 400, 1000)]), T0)).toEqual({ ok: true }); // exactly to the cap
    expect(await s.reserve(hold([tok('day', 0, 1000)]), T0)).toEqual({ ok: true });
    expect(await s.reserve(hold([tok('day', 1, 1000)]), T0)).toEqual({ ok: false, refused: [0] });
  });

  it('settle replaces reserved tokens by usage and keeps the request; twice is once', async () => {
    const s = createMemoryCounterStore();
    const h = hold([req(10), tok('day', 1000, 5000)]);
    await s.reserve(h, T0);
    expect(Object.fromEntries(await s.read(['rpm', 'day'], T0))).toEqual({ rpm: 1, day: 1000 });
    await s.settle(h, 120, T0 + 1000);
    expect(Object.fromEntries(await s.read(['rpm', 'day'], T0 + 1000))).toEqual({ rpm: 1, day: 120 });
    await s.settle(h, 120, T0 + 2000);
    await s.release(h, T0 + 2000);
    expect(Object.fromEntries(await s.read(['rpm', 'day'], T0 + 2000))).toEqual({ rpm: 1, day: 120 });
  });

  it('usage above the reservation is counted in full', async () => {
    const s = createMemoryCounterStore();
    const h = hold([tok('day', 100, 5000)]);
    await s.reserve(h, T0);
    await s.settle(h, 180, T0);
    expect((await s.read(['day'], T0)).get('day')).toBe(180);
  });

  it('release takes back tokens and the request', async () => {
    const s = createMemoryCounterStore();
    const h = hold([req(1), tok('day', 700, 1000)]);
    await s.reserve(h, T0);
    expect((await s.reserve(hold([req(1)]), T0)).ok).toBe(false);
    await s.release(h, T0);
    expect(Object.fromEntries(await s.read(['rpm', 'day'], T0))).toEqual({ rpm: 0, day: 0 });
    expect((await s.reserve(hold([req(1)]), T0)).ok).toBe(true);
  });

  it('a hold never settled gives its tokens back when it expires; a late settle charges its usage once', async () => {
    const s = createMemoryCounterStore({ lateSettleMs: 600_000 });
    const h = hold([req(100), tok('day', 900, 1000)], T0 + 60_000);
    await s.reserve(h, T0);
    expect((await s.reserve(hold([tok('day', 200, 1000)]), T0 + 59_999)).ok).toBe(false);
    expect((await s.read(['day'], T0 + 60_000)).get('day')).toBe(0);
    expect(s.stats()).toMatchObject({ pending: 0, expired: 1 }); // the refused one was never pending; h expired
    await s.settle(h, 300, T0 + 120_000);
    await s.settle(h, 300, T0 + 121_000);
    expect((await s.read(['day'], T0 + 121_000)).get('day')).toBe(300);
  });

  it('an expired hold released later gives back its request too; one forgotten is a no-op', async () => {
    const s = createMemoryCounterStore({ lateSettleMs: 1000 });
    const a = hold([req(100)], T0 + 5000);
    const b = hold([req(100), tok('day', 50, 1000)], T0 + 5000);
    await s.reserve(a, T0);
    await s.reserve(b, T0);
    await s.release(a, T0 + 5500); // expired, still remembered
    expect((await s.read(['rpm'], T0 + 5500)).get('rpm')).toBe(1);
    await s.settle(b, 40, T0 + 7000); // forgotten: nothing happens
    expect(Object.fromEntries(await s.read(['rpm', 'day'], T0 + 7000))).toEqual({ rpm: 1, day: 0 });
    expect(s.stats()).toMatchObject({ pending: 0, expired: 0 });
  });

  it('a window that ended reads 0, is never written again, and is dropped', async () => {
    const s = createMemoryCounterStore();
    const h = hold([tok('minute', 500, 1000, MINUTE_END)]);
    await s.reserve(h, T0);
    expect((await s.read(['minute'], MINUTE_END - 1)).get('minute')).toBe(500);
    expect((await s.read(['minute'], MINUTE_END)).get('minute')).toBe(0);
    await s.settle(h, 900, MINUTE_END + 1); // the window it charged has ended: dropped
    expect((await s.read(['minute'], MINUTE_END + 1)).get('minute')).toBe(0);
    await s.read([], T0 + 60_000); // counters of ended windows are dropped once a minute
    expect(s.stats().counters).toBe(0);
  });

  it('reserving one hold twice is a programming error', async () => {
    const s = createMemoryCounterStore();
    const h = hold([tok('day', 1, 10)]);
    await s.reserve(h, T0);
    await expect(s.reserve(h, T0)).rejects.toThrow(/already reserved/);
  });
});
