import { describe, expect, it } from 'vitest';
import { anonymousActor, NO_PROVENANCE, operatorActor, type Actor, type OperatorRole } from '../platform/actor.js';
import { canManageOwned, canSee, type GuardedFields, listVisibility, outranks, ownerMayPickTeam, ownerResourceWideningFields, ownerWideningFields } from './ownership.js';

const actor = (role: OperatorRole | null, principalId: string | null = 'me', teamIds: string[] = []): Actor =>
  principalId === null || role === null
    ? { ...anonymousActor('operator_token', NO_PROVENANCE), role, teamIds }
    : operatorActor({ principal: { id: principalId, name: principalId, kind: 'human', status: 'active', ownerId: null }, credentialId: 'c', role, teamIds, provenance: NO_PROVENANCE });

describe('canManageOwned', () => {
  it('admin and security manage everything; auditors and role-less actors nothing', () => {
    expect(canManageOwned(actor('admin'), 'someone', null)).toBe(true);
    expect(canManageOwned(actor('security'), null, 'team')).toBe(true);
    expect(canManageOwned(actor('auditor'), 'me', null)).toBe(false);
    expect(canManageOwned(actor(null), 'me', null)).toBe(false);
  });
  it('owners manage what they or their teams own, and nothing else', () => {
    expect(canManageOwned(actor('owner'), 'me', null)).toBe(true);
    expect(canManageOwned(actor('owner', 'me', ['t1']), null, 't1')).toBe(true);
    expect(canManageOwned(actor('owner', 'me', ['t1']), null, 't2')).toBe(false);
    expect(canManageOwned(actor('owner'), 'other', null)).toBe(false);
    expect(canManageOwned(actor('owner'), null, null)).toBe(false);
    expect(canManageOwned(actor('owner', null), null, null)).toBe(false);
  });
});

describe('ownerWideningFields', () => {
  const current: GuardedFields = { scopes: ['a', 'b'], purposes: ['p'], data_ceiling: 'internal', autonomy: 'supervised', environment: 'staging', risk_tier: 'high' };
  it('allows narrowing and changes that make the principal safer', () => {
    expect(ownerWideningFields(current, {})).toEqual([]);
    expect(ownerWideningFields(current, { scopes: ['a'], purposes: [], data_ceiling: 'public', autonomy: 'assistive', environment: 'dev', risk_tier: 'critical' })).toEqual([]);
    expect(ownerWideningFields(current, { scopes: ['b', 'a'], risk_tier: 'high', data_ceiling: 'internal' })).toEqual([]);
  });
  it('names every widening', () => {
    expect(ownerWideningFields(current, { scopes: ['a', 'c'] })).toEqual(['scopes']);
    expect(ownerWideningFields(current, { purposes: ['q'] })).toEqual(['purposes']);
    expect(ownerWideningFields(current, { data_ceiling: 'confidential', autonomy: 'autonomous', environment: 'prod', risk_tier: 'medium' }))
      .toEqual(['data_ceiling', 'autonomy', 'environment', 'risk_tier']);
  });
  it('treats clearing a declared limit, and declaring one from nothing upward, as widening', () => {
    expect(ownerWideningFields(current, { data_ceiling: null, autonomy: null, environment: null })).toEqual(['data_ceiling', 'autonomy', 'environment']);
    const undeclared = { ...current, data_ceiling: null, autonomy: null, environment: null };
    expect(ownerWideningFields(undeclared, { data_ceiling: null })).toEqual([]);
    expect(ownerWideningFields(undeclared, { data_ceiling: 'public', autonomy: 'assistive', environment: 'dev' })).toEqual(['data_ceiling', 'autonomy', 'environment']);
  });
  it('keeps ownership, review dates and external identities for admin and security', () => {
    expect(ownerWideningFields(current, { owner: 'x', owner_team: null, review_due_at: '2030-01-01T00:00:00Z', external_ids: {} }))
      .toEqual(['owner', 'owner_team', 'review_due_at', 'external_ids']);
  });
});

describe('outranks (no role acts on a principal holding a higher role)', () => {
  it('orders admin > security > auditor = owner; holding no role is in reach of every role', () => {
    expect(outranks('admin', 'security')).toBe(true);
    expect(outranks('admin', 'admin')).toBe(false);
    expect(outranks('security', 'security')).toBe(false);
    expect(outranks('security', 'owner')).toBe(true);
    expect(outranks('auditor', 'owner')).toBe(false);
    expect(outranks('owner', 'auditor')).toBe(false);
    expect(outranks('auditor', 'security')).toBe(false);
    expect(outranks(null, 'owner')).toBe(false);
    expect(outranks('owner', null)).toBe(true);
  });
});

describe('canSee', () => {
  it('owners see what they or their teams own, and themselves; other roles see everything', () => {
    expect(canSee(actor('owner'), 'me', null, null)).toBe(true);
    expect(canSee(actor('owner'), 'x', 'me', null)).toBe(true);
    expect(canSee(actor('owner', 'me', ['t']), 'x', null, 't')).toBe(true);
    expect(canSee(actor('owner', 'me', ['t']), 'x', 'other', null)).toBe(false);
    expect(canSee(actor('auditor'), 'x', 'other', null)).toBe(true);
    expect(canSee(actor(null), 'x', 'other', null)).toBe(false);
  });
});

describe('ownerMayPickTeam (home team)', () => {
  it('owners pick only teams they belong to; others any', () => {
    expect(ownerMayPickTeam(actor('owner', 'me', ['t1']), 't1')).toBe(true);
    expect(ownerMayPickTeam(actor('owner', 'me', ['t1']), 't2')).toBe(false);
    expect(ownerMayPickTeam(actor('owner', 'me', []), null)).toBe(true);
    expect(ownerMayPickTeam(actor('security'), 't2')).toBe(true);
  });
});

describe('ownerResourceWideningFields', () => {
  const current = { classification: 'confidential', risk_tier: 'high', purposes: ['eval', 'train'] };
  it('allows raising protection and dropping purposes', () => {
    expect(ownerResourceWideningFields(current, {})).toEqual([]);
    expect(ownerResourceWideningFields(current, { classification: 'restricted', risk_tier: 'critical', purposes: ['eval'] })).toEqual([]);
    expect(ownerResourceWideningFields(current, { classification: 'confidential', risk_tier: 'high', purposes: ['train', 'eval'] })).toEqual([]);
  });
  it('names lowering the classification or risk tier, adding purposes and reassigning ownership', () => {
    expect(ownerResourceWideningFields(current, { owner: 'x', owner_team: 't', classification: 'public', risk_tier: 'low', purposes: ['eval', 'ads'] }))
      .toEqual(['owner', 'owner_team', 'classification', 'risk_tier', 'purposes']);
    expect(ownerResourceWideningFields(current, { uri: 'https://gateway.example' })).toEqual(['uri']);
    expect(ownerResourceWideningFields(current, { uri: null })).toEqual(['uri']);
  });
});

describe('list visibility', () => {
  it('owners see only theirs (and nothing of others when no principal is known); other roles see everything', () => {
    expect(listVisibility(actor('owner', 'me', ['t1']))).toEqual({ principalId: 'me', teamIds: ['t1'] });
    expect(listVisibility({ ...actor('owner', 'me'), principal: null })).toEqual({ principalId: '-', teamIds: [] });
    expect(listVisibility(actor('security'))).toBeUndefined();
  });
});
