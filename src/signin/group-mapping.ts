import type { OperatorRole } from '../platform/actor.js';
import type { GroupGrants, IdentityProviderRecord } from './contracts.js';

// What a person's groups at their identity provider give them in Custos. Pure, so every rule has an exact test
// (group-mapping.test.ts). The sign-in flow calls it at first sign-in and again at every refresh, with the
// groups the IdP vouched for just then: leaving a group at the IdP takes its role or team away at the next refresh.
//
// Rules for reading groups out of a claims set (groupsFromClaims):
// - The claim is the provider's configured groups claim, a top-level claim read as an own property only (never a
//   prototype's); no groups claim configured → no groups.
// - An array gives its strings, in order, without repeats; anything else in it (numbers, objects, null) is
//   ignored, never coerced to a string.
// - A lone string is one group only when it holds no space or comma: one that does could be a list in some
//   IdP's own format, and guessing a split could grant a group nobody is in. Anything else → no groups.
// - Empty strings and strings over 256 characters are ignored (never truncated: a truncated name could equal
//   another group's); at most 1000 groups are kept, the first ones.
//
// Rules for mapping groups (grantsFromGroups):
// - Groups match the provider's mappings exactly: case-sensitive, no prefixes, no wildcards, own keys only
//   (a group named `constructor` or `__proto__` matches only a mapping of that exact name).
// - Role: the highest of the matching groups' roles, by admin > security > auditor > owner; none → null.
// - Teams: every matching group's team, deduplicated and sorted (the same groups always give the same list).

export const MAX_GROUPS = 1000;
export const MAX_GROUP_LENGTH = 256;

/** Higher is more: the order in which several matching groups' roles are compared. */
export const GROUP_ROLE_RANK: Readonly<Record<OperatorRole, number>> = { admin: 4, security: 3, auditor: 2, owner: 1 };

const usable = (g: unknown): g is string => typeof g === 'string' && g.length > 0 && g.length <= MAX_GROUP_LENGTH;

/** The groups a claims set (ID token or userinfo) carries in `groupsClaim`; [] when absent or not a list of names. */
export function groupsFromClaims(claims: Readonly<Record<string, unknown>>, groupsClaim: string | null): string[] {
  if (groupsClaim === null || !Object.hasOwn(claims, groupsClaim)) return [];
  const value = claims[groupsClaim];
  if (typeof value === 'string') return usable(value) && !/[\s,]/.test(value) ? [value] : [];
  if (!Array.isArray(value)) return [];
  const out = new Set<string>();
  for (const g of value) {
    if (out.size >= MAX_GROUPS) break;
    if (usable(g)) out.add(g);
  }
  return [...out];
}

/** Whether the claims set has the groups claim at all (present, even if empty): absent means "ask userinfo". */
export function hasGroupsClaim(claims: Readonly<Record<string, unknown>>, groupsClaim: string | null): boolean {
  return groupsClaim !== null && Object.hasOwn(claims, groupsClaim) && claims[groupsClaim] !== undefined && claims[groupsClaim] !== null;
}

/** The role and teams `groups` give at a provider with these mappings. */
export function grantsFromGroups(idp: Pick<IdentityProviderRecord, 'groupRoles' | 'groupTeams'>, groups: readonly string[]): GroupGrants {
  let role: OperatorRole | null = null;
  const teams = new Set<string>();
  for (const group of groups) {
    if (Object.hasOwn(idp.groupRoles, group)) {
      const r = idp.groupRoles[group]!;
      if (role === null || GROUP_ROLE_RANK[r] > GROUP_ROLE_RANK[role]) role = r;
    }
    if (Object.hasOwn(idp.groupTeams, group)) teams.add(idp.groupTeams[group]!);
  }
  return { role, teamIds: [...teams].sort() };
}
