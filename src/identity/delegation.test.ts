import { describe, expect, it } from 'vitest';
import { admitsDelegate, delegateIds, delegateLabels, isKindEntry, kindOfEntry, withoutRepeats } from './delegation.js';

describe('may_delegate_to entries', () => {
  it('tells kind: entries from principal references, and reads only real kinds', () => {
    expect(isKindEntry('kind:agent')).toBe(true);
    expect(isKindEntry('planner')).toBe(false);
    expect(kindOfEntry('kind:agent')).toBe('agent');
    expect(kindOfEntry('kind:service_account')).toBe('service_account');
    expect(kindOfEntry('kind:robot')).toBeUndefined();
    expect(kindOfEntry('kind:')).toBeUndefined();
    expect(kindOfEntry('agent')).toBeUndefined();
  });
  it('lists the principal ids, and shows ids as names where known', () => {
    const entries = ['id-1', 'kind:agent', 'id-2'];
    expect(delegateIds(entries)).toEqual(['id-1', 'id-2']);
    expect(delegateLabels(entries, new Map([['id-1', 'planner']]))).toEqual(['planner', 'kind:agent', 'id-2']);
  });
  it('admits an actor named by id or by its kind, nobody else', () => {
    const entries = ['id-1', 'kind:workload'];
    expect(admitsDelegate(entries, { id: 'id-1', kind: 'agent' })).toBe(true);
    expect(admitsDelegate(entries, { id: 'id-9', kind: 'workload' })).toBe(true);
    expect(admitsDelegate(entries, { id: 'id-9', kind: 'agent' })).toBe(false);
    expect(admitsDelegate([], { id: 'id-1', kind: 'agent' })).toBe(false);
  });
  it('keeps the first of repeated entries, in order', () => {
    expect(withoutRepeats(['b', 'a', 'b', 'kind:agent', 'a'])).toEqual(['b', 'a', 'kind:agent']);
  });
});
