// The arithmetic of limits and budgets, pure: which counters one governed call charges, in which UTC windows, how
// much, against which caps, when each window resets, and which refusal to report. Everything that depends on time
// takes the time (epoch milliseconds) as an argument, so windows and Retry-After are tested exactly.
//
// Guards against:
// - A budget overrun by a burst: a call charges its whole maximum (`maxTokens`) to every token counter before it is
//   forwarded, and passes only when every counter stays within its cap with it (current + amount ≤ cap); settling
//   later replaces the maximum by the tokens used. A call whose maximum alone is larger than a cap can never pass
//   (reported as `exceedsWindow`, so the caller knows waiting does not help).
// - A Retry-After that does not help: when several limits refuse, the call can pass only once all of them reset, so
//   the reported one is the limit whose window resets last (never a time in the past: at least 1 second).
// - Windows that drift with the server's time zone: minutes, days and months are UTC calendar windows.
// - Values a column cannot hold: PostgreSQL `integer` is 32-bit signed, so a limit is 1…2,147,483,647.

export const TARGET_KINDS = ['principal', 'team', 'resource'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export const METRICS = ['requests_per_minute', 'tokens_per_minute', 'tokens_per_day', 'tokens_per_month'] as const;
export type Metric = (typeof METRICS)[number];

export type WindowKind = 'minute' | 'day' | 'month';
export type Unit = 'requests' | 'tokens';

/** What each metric counts and over which window. */
export const METRIC_RULES: Record<Metric, { window: WindowKind; unit: Unit }> = {
  requests_per_minute: { window: 'minute', unit: 'requests' },
  tokens_per_minute: { window: 'minute', unit: 'tokens' },
  tokens_per_day: { window: 'day', unit: 'tokens' },
  tokens_per_month: { window: 'month', unit: 'tokens' },
};

/** The largest value a limit may take (the store's 32-bit integer column). */
export const MAX_LIMIT_VALUE = 2_147_483_647;

/** The four values of one limit; null: not limited on that metric. */
export type LimitValues = Record<Metric, number | null>;
export type LimitChange = Partial<Record<Metric, number | null>>;

export interface LimitTargetRef {
  kind: TargetKind;
  id: string;
}

/** A limit in force: the values set on one principal, team or resource. */
export interface AppliedLimit {
  target: LimitTargetRef;
  values: LimitValues;
}

export interface Window {
  kind: WindowKind;
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive: when the window resets. */
  end: number;
  /** UTC label, part of the counter key: 2026-12-01T09:30, 2026-12-01, 2026-12. */
  label: string;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The UTC calendar window of `kind` that contains `now`. */
export function windowOf(kind: WindowKind, now: number): Window {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (kind === 'minute') {
    const start = Math.floor(now / 60_000) * 60_000;
    return { kind, start, end: start + 60_000, label: `${y}-${pad(m + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}` };
  }
  if (kind === 'day') {
    const start = Date.UTC(y, m, d.getUTCDate());
    return { kind, start, end: Date.UTC(y, m, d.getUTCDate() + 1), label: `${y}-${pad(m + 1)}-${pad(d.getUTCDate())}` };
  }
  return { kind, start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1), label: `${y}-${pad(m + 1)}` };
}

/** The counter one metric of one target uses in one window. Keys of ended windows are never touched again. */
export function counterKey(target: LimitTargetRef, metric: Metric, window: Window): string {
  return `${target.kind}:${target.id}:${metric}:${window.label}`;
}

/** One counter a call charges: what the counter store checks and adds atomically, with what a refusal reports. */
export interface Charge {
  key: string;
  /** Units reserved: 1 request, or the call's maximum tokens. */
  amount: number;
  /** The limit in force now (read from the store for this call). */
  cap: number;
  /** Epoch ms when the window ends. */
  resetsAt: number;
  /** Requests stay counted when a call settles; tokens are replaced by the tokens used. */
  unit: Unit;
  target: LimitTargetRef;
  metric: Metric;
  window: WindowKind;
}

/** Every counter a call charges under the limits in force (the principal's, each team's, the resource's). */
export function chargesFor(limits: readonly AppliedLimit[], maxTokens: number, now: number): Charge[] {
  if (!Number.isSafeInteger(maxTokens) || maxTokens < 0) throw new TypeError(`maxTokens must be a whole number ≥ 0, not ${maxTokens}`);
  const windows = new Map<WindowKind, Window>();
  const windowFor = (kind: WindowKind) => {
    let w = windows.get(kind);
    if (!w) windows.set(kind, (w = windowOf(kind, now)));
    return w;
  };
  const seen = new Set<string>();
  const out: Charge[] = [];
  for (const limit of limits) {
    for (const metric of METRICS) {
      const cap = limit.values[metric];
      if (cap === null) continue;
      const rule = METRIC_RULES[metric];
      const window = windowFor(rule.window);
      const key = counterKey(limit.target, metric, window);
      if (seen.has(key)) continue; // one target listed twice (a team id repeated) is charged once
      seen.add(key);
      out.push({ key, amount: rule.unit === 'requests' ? 1 : maxTokens, cap, resetsAt: window.end, unit: rule.unit, target: limit.target, metric, window: rule.window });
    }
  }
  return out;
}

/** Whole seconds until `resetsAt`, at least 1 (an HTTP Retry-After). */
export function retryAfterSeconds(resetsAt: number, now: number): number {
  return Math.max(1, Math.ceil((resetsAt - now) / 1000));
}

export interface Refusal {
  charge: Charge;
  retryAfterSeconds: number;
  /** The call alone asks more than the limit allows in a whole window: only a smaller maximum helps. */
  exceedsWindow: boolean;
}

/**
 * The refusal to report among the charges that did not fit: one that can never fit first (waiting does not help),
 * else the one whose window resets last (the call cannot pass before it), with its Retry-After.
 */
export function bindingRefusal(refused: readonly Charge[], now: number): Refusal {
  if (refused.length === 0) throw new TypeError('bindingRefusal needs at least one refused charge');
  const never = refused.find((c) => c.amount > c.cap);
  const charge = never ?? refused.reduce((a, b) => (b.resetsAt > a.resetsAt ? b : a));
  return { charge, retryAfterSeconds: retryAfterSeconds(charge.resetsAt, now), exceedsWindow: never !== undefined };
}

export const NO_LIMITS: LimitValues = { requests_per_minute: null, tokens_per_minute: null, tokens_per_day: null, tokens_per_month: null };

/** The values after a change: absent keeps a value, null clears it, a number sets it. */
export function mergeLimits(before: LimitValues | null, change: LimitChange): LimitValues {
  const out = { ...(before ?? NO_LIMITS) };
  for (const metric of METRICS) {
    const v = change[metric];
    if (v !== undefined) out[metric] = v;
  }
  return out;
}

const NOTHING_LEFT = 'no value would remain set: set at least one, or remove the limit';

/** Why a change cannot be applied whatever is stored (a message for 422 invalid_limit), or undefined. */
export function changeProblem(change: LimitChange): string | undefined {
  const given = METRICS.filter((m) => change[m] !== undefined);
  if (given.length === 0) return `give at least one of ${METRICS.join(', ')} (null clears one)`;
  for (const m of given) {
    const v = change[m];
    if (v === null || v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 1 || v > MAX_LIMIT_VALUE) return `${m} must be a whole number from 1 to ${MAX_LIMIT_VALUE}, or null to clear it`;
  }
  if (given.every((m) => change[m] === null) && given.length === METRICS.length) return NOTHING_LEFT;
  return undefined;
}

/** Why a change cannot be applied to the stored values (`after` is the merge), or undefined. */
export function limitProblem(change: LimitChange, after: LimitValues): string | undefined {
  return changeProblem(change) ?? (METRICS.every((m) => after[m] === null) ? NOTHING_LEFT : undefined);
}
