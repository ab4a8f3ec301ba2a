import { describe, expect, it } from 'vitest';
import {
  addDays, decisionRefusal, inCampaignScope, isPast, misplacedFields, nextReviewDue, progressOf, reducesSomething, routeReview, scheduledCampaignName,
  suspendsOnLapse, wideningProblems, type Decider,
} from './reviews.js';

const facts = { ownerIsActiveHuman: true, owningTeamHasActiveHumans: true, securityTeamId: 'sec' };

describe('routeReview', () => {
  it('sends a principal to its active human owner, else its owning team', () => {
    expect(routeReview({ ownerId: 'o', ownerTeamId: null, orphaned: false }, facts)).toEqual({ reviewerId: 'o', reviewerTeamId: null, orphaned: false, route: 'owner', reason: null });
    expect(routeReview({ ownerId: null, ownerTeamId: 't', orphaned: false }, facts)).toEqual({ reviewerId: null, reviewerTeamId: 't', orphaned: false, route: 'owning_team', reason: null });
  });

  it('sends orphans, departed owners, empty teams and ownerless principals to security, marked orphaned', () => {
    const sec = (reason: string) => ({ reviewerId: null, reviewerTeamId: 'sec', orphaned: true, route: 'security', reason });
    expect(routeReview({ ownerId: 'o', ownerTeamId: null, orphaned: true }, facts)).toEqual(sec('orphaned'));
    expect(routeReview({ ownerId: 'o', ownerTeamId: null, orphaned: false }, { ...facts, ownerIsActiveHuman: false })).toEqual(sec('owner_not_active'));
    expect(routeReview({ ownerId: null, ownerTeamId: 't', orphaned: false }, { ...facts, owningTeamHasActiveHumans: false })).toEqual(sec('team_has_no_active_members'));
    expect(routeReview({ ownerId: null, ownerTeamId: null, orphaned: false }, facts)).toEqual(sec('no_owner'));
  });

  it('leaves the reviewer empty when the security team does not exist (admin and security operators decide)', () => {
    expect(routeReview({ ownerId: null, ownerTeamId: null, orphaned: false }, { ...facts, securityTeamId: null })).toMatchObject({ reviewerId: null, reviewerTeamId: null, orphaned: true });
  });
});

describe('inCampaignScope', () => {
  const p = { kind: 'agent', status: 'active', riskTier: 'high', reviewDueAt: '2030-01-10T00:00:00.000Z' };
  const rule = { tiers: ['high', 'critical'], dueOnly: true, dueBy: '2030-01-10T00:00:00.000Z' };
  it('takes active non-human principals of the covered tiers due by the campaign date', () => {
    expect(inCampaignScope(p, rule)).toBe(true);
    expect(inCampaignScope({ ...p, reviewDueAt: '2030-01-10T00:00:00.001Z' }, rule)).toBe(false);
    expect(inCampaignScope({ ...p, reviewDueAt: '2030-01-10T00:00:00.001Z' }, { ...rule, dueOnly: false })).toBe(true);
    expect(inCampaignScope({ ...p, reviewDueAt: null }, rule)).toBe(true);
    expect(inCampaignScope({ ...p, riskTier: 'low' }, rule)).toBe(false);
  });
  it('never takes humans, proposals or suspended principals', () => {
    expect(inCampaignScope({ ...p, kind: 'human' }, rule)).toBe(false);
    for (const status of ['proposed', 'suspended', 'decommissioned']) expect(inCampaignScope({ ...p, status }, rule), status).toBe(false);
  });
});

describe('reductions', () => {
  const current = { scopes: ['a', 'b'], purposes: ['x', 'y'] };
  it('refuse anything not held now, naming it', () => {
    expect(wideningProblems(current, { scopes: ['a'], purposes: ['x'] })).toEqual([]);
    expect(wideningProblems(current, { scopes: [] })).toEqual([]);
    expect(wideningProblems(current, { scopes: ['a', 'c', 'c'], purposes: ['z'] })).toEqual([
      { path: ['scopes'], message: 'a reduction keeps a subset of the current scopes; not held now: c' },
      { path: ['purposes'], message: 'a reduction keeps a subset of the current purposes; not held now: z' },
    ]);
  });
  it('must take something away', () => {
    expect(reducesSomething(current, { scopes: ['a', 'b'] }, 0)).toBe(false);
    expect(reducesSomething(current, {}, 0)).toBe(false);
    expect(reducesSomething(current, { scopes: ['b'] }, 0)).toBe(true);
    expect(reducesSomething(current, { purposes: [] }, 0)).toBe(true);
    expect(reducesSomething(current, {}, 1)).toBe(true);
  });
  it('only reduce names scopes, purposes or grants', () => {
    expect(misplacedFields('reduce', { scopes: [] })).toEqual([]);
    expect(misplacedFields('keep', { scopes: [], revoke_grants: [] })).toEqual(['scopes', 'revoke_grants']);
    expect(misplacedFields('revoke', { purposes: ['x'] })).toEqual(['purposes']);
    expect(misplacedFields('keep', {})).toEqual([]);
  });
});

describe('decisionRefusal', () => {
  const owner: Decider = { principalId: 'o', kind: 'human', role: 'owner', teamIds: ['t'], delegated: false };
  const item = { principalId: 'bot', reviewerId: 'o', reviewerTeamId: null };
  it('admits the reviewer, a member of the reviewing team, admins and security', () => {
    expect(decisionRefusal(owner, item)).toBeNull();
    expect(decisionRefusal(owner, { principalId: 'bot', reviewerId: null, reviewerTeamId: 't' })).toBeNull();
    expect(decisionRefusal({ ...owner, principalId: 'p', role: 'admin', teamIds: [] }, item)).toBeNull();
    expect(decisionRefusal({ ...owner, principalId: 'p', role: 'security', teamIds: [] }, item)).toBeNull();
  });
  it('refuses others, delegated tokens, non-humans and the principal itself', () => {
    expect(decisionRefusal({ ...owner, principalId: 'p' }, item)).toMatch(/only the item's reviewer/);
    expect(decisionRefusal({ ...owner, principalId: 'p' }, { principalId: 'bot', reviewerId: null, reviewerTeamId: 'u' })).toMatch(/only the item's reviewer/);
    expect(decisionRefusal({ ...owner, delegated: true }, item)).toMatch(/acting directly/);
    expect(decisionRefusal({ ...owner, kind: 'agent' }, item)).toMatch(/acting directly/);
    expect(decisionRefusal({ ...owner, principalId: 'bot', role: 'admin' }, item)).toMatch(/the principal they are/);
    expect(decisionRefusal({ principalId: null, kind: null, role: 'admin', teamIds: [], delegated: false }, item)).toMatch(/acting directly/);
  });
});

describe('time', () => {
  const now = new Date('2030-01-01T00:00:00.000Z');
  it('counts progress by status; pending items are overdue only after the due instant', () => {
    const counts = { pending: 2, kept: 1, revoked: 1 };
    expect(progressOf(counts, '2030-01-01T00:00:00.000Z', now)).toEqual({ total: 4, pending: 2, kept: 1, reduced: 0, revoked: 1, lapsed: 0, overdue: 0 });
    expect(progressOf(counts, '2029-12-31T23:59:59.999Z', now).overdue).toBe(2);
    expect(isPast('2030-01-01T00:00:00.000Z', now)).toBe(false);
    expect(isPast('2029-12-31T23:59:59.999Z', now)).toBe(true);
  });
  it('names the scheduled campaign by UTC day, and moves the next review a full period out', () => {
    expect(scheduledCampaignName(new Date('2030-03-04T23:30:00+00:00'))).toBe('scheduled-2030-03-04');
    expect(addDays(now, 14)).toBe('2030-01-15T00:00:00.000Z');
    const periods = { low: 365, medium: 180, high: 90, critical: 30 };
    expect(nextReviewDue(now, periods, 'high')).toBe('2030-04-01T00:00:00.000Z');
    expect(nextReviewDue(now, periods, 'unknown')).toBe('2030-01-31T00:00:00.000Z'); // the shortest period
  });
  it('suspends on lapse only the listed tiers', () => {
    expect(suspendsOnLapse(['high', 'critical'], 'high')).toBe(true);
    expect(suspendsOnLapse(['high', 'critical'], 'low')).toBe(false);
  });
});
