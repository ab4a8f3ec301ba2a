import type { Actor } from '../../platform/actor.js';
import type { GroupMembers } from '../groups.js';
import type { ApproverGroup, TierRule } from '../settings.js';

// The rules of break-glass access, pure and tested beside this file (break-glass.test.ts). Break-glass skips
// approval, so what it keeps instead is narrow and fixed here rather than in a setting:
// - Who: a person acting directly — a human principal, no delegation chain, holding an operator token or the access
//   token a sign-in gave them — who is an active member of the configured break-glass team. An agent, a service
//   account, a delegated token (whoever is behind it) or an API key never opens it, and neither does an admin who is
//   not on the team: the role does not stand in for membership. The access is always for the caller.
// - How long: from 60 seconds to the configured maximum (default one hour); the maximum when none is asked.
// - Who hears of it: the security team, and the people whose approval it skipped (the approval rule for the
//   resource's effective tier, slot by slot); an `anyone` slot is named as the group, not as every person who could
//   have filled it. The user is never among the people told: they know.
// - The review: open until someone other than the user closes it with a finding; the user's role (admin included)
//   does not change that, and neither does a token delegated to or by the user.

/** The shortest break-glass access, as the shortest grant. */
export const MIN_BREAK_GLASS_SECONDS = 60;
/** The shortest justification: an emergency still says what the emergency is. */
export const MIN_JUSTIFICATION_CHARS = 20;

const DIRECT_CREDENTIALS = new Set(['operator_token', 'access_token']);

/** Why this actor may not open break-glass access as themselves at all (before team membership), or null. */
export function userRefusal(actor: Actor): string | null {
  const p = actor.principal;
  if (!p) return 'break-glass access is opened by a person, for themselves';
  if (p.kind !== 'human') return `a ${p.kind} never opens break-glass access: only a person acting directly does`;
  if (actor.delegationChain.length > 0) return 'open break-glass access with your own credential, not a delegated token: nobody breaks the glass on behalf of someone else';
  if (!actor.credential || !DIRECT_CREDENTIALS.has(actor.credential.kind)) {
    return 'break-glass access is opened with an operator token or a signed-in session, not with an API key';
  }
  return null;
}

/** Why this person is not on the break-glass team, or null when they are an active member. */
export function membershipRefusal(teamName: string, team: { members: readonly string[] } | undefined, personId: string): string | null {
  if (!team) return `no team named '${teamName}' exists, so nobody may open break-glass access (an admin creates it and adds the people on call)`;
  if (!team.members.includes(personId)) return `only active members of the team '${teamName}' open break-glass access`;
  return null;
}

/** The duration to grant: the maximum when none is asked; null when the asked duration is beyond the maximum. */
export function breakGlassDuration(asked: number | undefined, maxSeconds: number): number | null {
  const seconds = asked ?? maxSeconds;
  return seconds > maxSeconds ? null : seconds;
}

/**
 * When the access ends: `seconds` from `now`, rounded up to a whole second (the decision point compares whole epoch
 * seconds). Rounding up keeps the asked duration — a grant ending at a rounded-down instant could be shorter than the
 * 60-second floor — and overshoots by less than one second, which no decision can tell apart.
 */
export function breakGlassExpiry(now: Date, seconds: number): Date {
  return new Date(Math.ceil((now.getTime() + seconds * 1000) / 1000) * 1000);
}

/** The people of one skipped approval slot: their ids, or `anyone` (every person who may approve). */
export interface SkippedSlot {
  group: ApproverGroup;
  people: string[] | 'anyone';
}

/** Slot by slot, who would have had to approve; the user is left out (nobody approves their own access). */
export function skippedApprovers(rule: Pick<TierRule, 'slots'>, members: GroupMembers, userId: string): SkippedSlot[] {
  return rule.slots.map((group) => {
    const inGroup = members.get(group);
    return { group, people: inGroup === 'anyone' || inGroup === undefined ? 'anyone' : [...inGroup].filter((id) => id !== userId).sort() };
  });
}

/** Who is told: the security team and every named skipped approver, each once, never the user; sorted by id. */
export function recipientIds(security: ReadonlySet<string> | 'anyone' | undefined, skipped: readonly SkippedSlot[], userId: string): string[] {
  const out = new Set<string>();
  if (security && security !== 'anyone') for (const id of security) out.add(id);
  for (const slot of skipped) if (slot.people !== 'anyone') for (const id of slot.people) out.add(id);
  out.delete(userId);
  return [...out].sort();
}

/** Why this actor may not close the review of access `userId` used, or null. */
export function reviewRefusal(actor: Actor, userId: string): { code: 'self_review' | 'forbidden'; detail: string } | null {
  const p = actor.principal;
  if (p?.id === userId || actor.delegationChain.some((l) => l.principalId === userId)) {
    return { code: 'self_review', detail: 'you used this break-glass access: someone else closes its review, whatever your role' };
  }
  if (!p || p.kind !== 'human' || actor.delegationChain.length > 0) {
    return { code: 'forbidden', detail: 'a break-glass review is closed by a person acting directly' };
  }
  return null;
}

/** Whether this actor may give the access up early: the user, or an admin or security operator. */
export function mayEnd(actor: Actor, userId: string): boolean {
  if (actor.principal?.id === userId && actor.delegationChain.length === 0) return true;
  return actor.role === 'admin' || actor.role === 'security';
}
