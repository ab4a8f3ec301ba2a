import { describe, expect, it } from 'vitest';
import { grantsFromGroups, groupsFromClaims, hasGroupsClaim, MAX_GROUP_LENGTH, MAX_GROUPS } from './group-mapping.js';

const idp = {
  groupRoles: { 'custos-admins': 'admin', 'sec-team': 'security', auditors: 'auditor', 'ml-owners': 'owner' } as const,
  groupTeams: { 'ml-owners': 'team-b', 'ml-platform': 'team-a', 'ml-research': 'team-b', everyone: 'team-c' },
};

describe('groupsFromClaims', () => {
  it('reads a list of strings from the configured claim, in order and without repeats', () => {
    expect(groupsFromClaims({ groups: ['b', 'a', 'b', 'c'] }, 'groups')).toEqual(['b', 'a', 'c']);
    expect(groupsFromClaims({ roles: ['x'], groups: ['y'] }, 'roles')).toEqual(['x']);
  });
  it('ignores members that are not non-empty strings, never coercing them', () => {
    expect(groupsFromClaims({ groups: ['a', 1, null, { name: 'b' }, ['c'], '', true, 'd'] }, 'groups')).toEqual(['a', 'd']);
  });
  it('takes a lone string as one group only when it has no space or comma', () => {
    expect(groupsFromClaims({ groups: 'admins' }, 'groups')).toEqual(['admins']);
    expect(groupsFromClaims({ groups: 'admins auditors' }, 'groups')).toEqual([]);
    expect(groupsFromClaims({ groups: 'admins,auditors' }, 'groups')).toEqual([]);
    expect(groupsFromClaims({ groups: 'admins\tx' }, 'groups')).toEqual([]);
    expect(groupsFromClaims({ groups: '' }, 'groups')).toEqual([]);
  });
  it('gives nothing for other shapes, an absent claim, no configured claim, or an inherited property', () => {
    for (const value of [42, true, null, { admins: true }, undefined]) expect(groupsFromClaims({ groups: value }, 'groups'), String(value)).toEqual([]);
    expect(groupsFromClaims({ other: ['a'] }, 'groups')).toEqual([]);
    expect(groupsFromClaims({ groups: ['a'] }, null)).toEqual([]);
    expect(groupsFromClaims({}, 'constructor')).toEqual([]);
    expect(groupsFromClaims({}, 'toString')).toEqual([]);
  });
  it('drops names over 256 characters whole (never truncated) and keeps at most 1000 groups', () => {
    const long = 'x'.repeat(MAX_GROUP_LENGTH + 1);
    const edge = 'y'.repeat(MAX_GROUP_LENGTH);
    expect(groupsFromClaims({ groups: [long, edge, 'z'] }, 'groups')).toEqual([edge, 'z']);
    expect(groupsFromClaims({ groups: long }, 'groups')).toEqual([]);
    const many = Array.from({ length: MAX_GROUPS + 50 }, (_, i) => `g${i}`);
    const got = groupsFromClaims({ groups: many }, 'groups');
    expect(got).toHaveLength(MAX_GROUPS);
    expect(got[0]).toBe('g0');
    expect(got[MAX_GROUPS - 1]).toBe(`g${MAX_GROUPS - 1}`);
    // Repeats do not use up the cap.
    expect(groupsFromClaims({ groups: [...Array(2000).fill('same'), 'other'] }, 'groups')).toEqual(['same', 'other']);
  });
});

describe('hasGroupsClaim', () => {
  it('is true when the claim is present (even empty), false when absent, null or not configured', () => {
    expect(hasGroupsClaim({ groups: [] }, 'groups')).toBe(true);
    expect(hasGroupsClaim({ groups: 'a' }, 'groups')).toBe(true);
    expect(hasGroupsClaim({ groups: null }, 'groups')).toBe(false);
    expect(hasGroupsClaim({ sub: 'x' }, 'groups')).toBe(false);
    expect(hasGroupsClaim({ groups: ['a'] }, null)).toBe(false);
    expect(hasGroupsClaim({}, 'constructor')).toBe(false);
  });
});

describe('grantsFromGroups', () => {
  it('gives the highest role of the matching groups: admin > security > auditor > owner', () => {
    expect(grantsFromGroups(idp, ['ml-owners', 'auditors']).role).toBe('auditor');
    expect(grantsFromGroups(idp, ['auditors', 'sec-team', 'ml-owners']).role).toBe('security');
    expect(grantsFromGroups(idp, ['ml-owners', 'custos-admins', 'sec-team']).role).toBe('admin');
    expect(grantsFromGroups(idp, ['ml-owners']).role).toBe('owner');
    expect(grantsFromGroups(idp, ['auditors', 'ml-owners']).role).toBe('auditor');
  });
  it('gives no role when no group maps to one', () => {
    expect(grantsFromGroups(idp, [])).toEqual({ role: null, teamIds: [] });
    expect(grantsFromGroups(idp, ['ml-platform', 'unmapped']).role).toBeNull();
  });
  it('gives every mapped team once, sorted', () => {
    expect(grantsFromGroups(idp, ['everyone', 'ml-research', 'ml-platform', 'ml-owners']).teamIds).toEqual(['team-a', 'team-b', 'team-c']);
    expect(grantsFromGroups(idp, ['ml-research', 'ml-owners'])).toEqual({ role: 'owner', teamIds: ['team-b'] });
  });
  it('matches group names exactly: case, prefixes and inherited names never match', () => {
    expect(grantsFromGroups(idp, ['Custos-Admins', 'custos-admin', 'custos-admins-old', ' custos-admins'])).toEqual({ role: null, teamIds: [] });
    expect(grantsFromGroups(idp, ['constructor', '__proto__', 'toString', 'hasOwnProperty'])).toEqual({ role: null, teamIds: [] });
    const own = { groupRoles: { constructor: 'admin' as const }, groupTeams: {} };
    expect(grantsFromGroups(own, ['constructor']).role).toBe('admin');
  });
});
