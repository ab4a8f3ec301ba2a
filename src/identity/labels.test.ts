import { describe, expect, it } from 'vitest';
import { AppError } from '../platform/http/errors.js';
import { nextLabels, parseLabelFilter, sameLabels } from './labels.js';

describe('nextLabels', () => {
  const current = { app: 'helpdesk', team: 'support', tier: 'gold' };
  it('leaves labels alone when the patch does not mention them', () => {
    expect(nextLabels(current, {})).toBeUndefined();
  });
  it('labels replaces the whole set', () => {
    expect(nextLabels(current, { labels: { app: 'x' } })).toEqual({ app: 'x' });
    expect(nextLabels(current, { labels: {} })).toEqual({});
  });
  it('labels_add overwrites or adds single keys and keeps the rest', () => {
    expect(nextLabels(current, { labels_add: { app: 'crm', env: 'prod' } })).toEqual({ app: 'crm', team: 'support', tier: 'gold', env: 'prod' });
  });
  it('labels_remove drops single keys; absent keys are ignored', () => {
    expect(nextLabels(current, { labels_remove: ['team', 'nope'] })).toEqual({ app: 'helpdesk', tier: 'gold' });
  });
  it('refuses mixing replace with add/remove, and adding and removing one key at once', () => {
    expect(() => nextLabels(current, { labels: {}, labels_add: { a: 'b' } })).toThrow(AppError);
    expect(() => nextLabels(current, { labels: {}, labels_remove: ['a'] })).toThrow(/either labels/);
    expect(() => nextLabels(current, { labels_add: { app: 'x' }, labels_remove: ['app'] })).toThrow(/added and removed/);
  });
  it('refuses a result over 64 labels', () => {
    const many = Object.fromEntries(Array.from({ length: 62 }, (_, i) => [`k${i}`, 'v']));
    expect(Object.keys(nextLabels(many, { labels_add: { a: '1', b: '2' } })!)).toHaveLength(64);
    expect(() => nextLabels(many, { labels_add: { a: '1', b: '2', c: '3' } })).toThrow(/at most 64/);
  });
});

describe('sameLabels', () => {
  it('compares content, not key order', () => {
    expect(sameLabels({ a: '1', b: '2' }, { b: '2', a: '1' })).toBe(true);
    expect(sameLabels({ a: '1' }, { a: '2' })).toBe(false);
    expect(sameLabels({ a: '1' }, { a: '1', b: '2' })).toBe(false);
  });
});

describe('label list filter', () => {
  it('splits at the first = only, and refuses a filter without one', () => {
    expect(parseLabelFilter('team=ml=core')).toEqual({ key: 'team', value: 'ml=core' });
    expect(parseLabelFilter('env=')).toEqual({ key: 'env', value: '' });
    expect(parseLabelFilter('novalue')).toBeUndefined();
    expect(parseLabelFilter(undefined)).toBeUndefined();
  });
});
