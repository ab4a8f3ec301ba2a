import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../platform/http/errors.js';
import {
  DNS_LABEL, PRINCIPAL_STATUSES, REVIEW_PERIOD_DAYS, RISK_TIERS, allowedTransitions, assertTransition, reviewDueAfterTierChange, reviewDueAt,
} from './taxonomy.js';

describe('lifecycle transitions', () => {
  it('follow proposed → active → suspended ⇄ active → decommissioned, with decommissioned terminal', () => {
    expect(allowedTransitions('proposed')).toEqual(['active', 'decommissioned']);
    expect(allowedTransitions('active')).toEqual(['suspended', 'decommissioned']);
    expect(allowedTransitions('suspended')).toEqual(['active', 'decommissioned']);
    expect(allowedTransitions('decommissioned')).toEqual([]);
  });
  it('refuse every other move with a 409 naming the allowed ones', () => {
    for (const from of PRINCIPAL_STATUSES) {
      for (const to of PRINCIPAL_STATUSES) {
        if (allowedTransitions(from).includes(to)) {
          expect(() => assertTransition(from, to)).not.toThrow();
          continue;
        }
        try {
          assertTransition(from, to);
          expect.unreachable(`${from} -> ${to} was allowed`);
        } catch (e) {
          expect(e).toBeInstanceOf(AppError);
          const err = e as AppError;
          expect([err.status, err.code]).toEqual([409, 'invalid_transition']);
          expect(err.extensions).toEqual({ from, to, allowed: allowedTransitions(from) });
        }
      }
    }
  });
});

describe('review dates', () => {
  it('default by risk tier, riskier reviewed sooner', () => {
    const from = new Date('2026-01-01T00:00:00.000Z');
    for (const tier of RISK_TIERS) expect(Date.parse(reviewDueAt(from, tier)) - from.getTime()).toBe(REVIEW_PERIOD_DAYS[tier] * 86_400_000);
    expect(REVIEW_PERIOD_DAYS.critical).toBeLessThan(REVIEW_PERIOD_DAYS.high);
    expect(REVIEW_PERIOD_DAYS.high).toBeLessThan(REVIEW_PERIOD_DAYS.medium);
    expect(REVIEW_PERIOD_DAYS.medium).toBeLessThan(REVIEW_PERIOD_DAYS.low);
  });
  it('a tier change never postpones a scheduled review and never leaves it later than the new period', () => {
    fc.assert(fc.property(
      fc.option(fc.date({ min: new Date('2020-01-01'), max: new Date('2040-01-01'), noInvalidDate: true })),
      fc.date({ min: new Date('2020-01-01'), max: new Date('2040-01-01'), noInvalidDate: true }),
      fc.constantFrom(...RISK_TIERS),
      (current, now, tier) => {
        const cur = current === null ? null : current.toISOString();
        const next = reviewDueAfterTierChange(cur, now, tier);
        expect(next <= reviewDueAt(now, tier)).toBe(true);
        if (cur !== null) expect(next <= cur).toBe(true);
      },
    ));
  });
});

describe('DNS-label names', () => {
  it('accept labels and refuse everything else', () => {
    for (const ok of ['a', 'a1', 'support-bot', 'x'.repeat(63)]) expect(DNS_LABEL.test(ok), ok).toBe(true);
    for (const bad of ['', '-a', 'a-', 'A', 'a_b', 'a.b', 'x'.repeat(64), 'ä', 'a b']) expect(DNS_LABEL.test(bad), bad).toBe(false);
  });
});
