import { describe, expect, it } from 'vitest';
import { allowedStatusChanges, priorityLabel, priorityScore } from './priority.js';

describe('finding priority', () => {
  it('puts a live critical key in a public repo first and a revoked low one last', () => {
    const top = priorityScore('critical', { publicRepo: true }, 'live');
    const bottom = priorityScore('low', {}, 'revoked');
    expect(priorityLabel(top)).toBe('P1');
    expect(priorityLabel(bottom)).toBe('P4');
  });

  it('ranks exposure: public repo over pushed image over private', () => {
    const pub = priorityScore('high', { publicRepo: true }, 'unknown');
    const img = priorityScore('high', { pushedImage: true }, 'unknown');
    const priv = priorityScore('high', {}, 'unknown');
    expect(pub).toBeGreaterThan(img);
    expect(img).toBeGreaterThan(priv);
  });

  it('ranks a live credential above one already revoked', () => {
    expect(priorityScore('medium', {}, 'live')).toBeGreaterThan(priorityScore('medium', {}, 'revoked'));
  });

  it('never lets an operator mark a finding revoked by hand', () => {
    for (const from of ['open', 'rotated', 'accepted', 'false_positive', 'revoked'] as const) {
      expect(allowedStatusChanges(from)).not.toContain('revoked');
    }
  });
});
