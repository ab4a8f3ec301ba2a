import type { Tier } from '../settings.js';

// The pure rules of access reviews (recertification), tested exactly beside this file (reviews.test.ts): who reviews
// a principal, which principals a campaign takes, what a "reduce" may ask for, who may decide an item, and how a
// campaign's progress is counted. Checks that depend on time take the time as an argument.
//
// What they guard against: a review nobody can answer (a departed owner, an empty owning team: the item goes to
// security instead of lapsing unseen), a "reduce" that widens (only subsets of what the principal holds now), a
// reviewer recertifying themselves, and a decision by someone the item was not sent to.

export const ITEM_STATUSES = ['pending', 'kept', 'reduced', 'revoked', 'lapsed'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];
export const REVIEW_DECISIONS = ['keep', 'reduce', 'revoke'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];

/** The status an item takes for each decision. */
export const DECIDED_STATUS: Record<ReviewDecision, ItemStatus> = { keep: 'kept', reduce: 'reduced', revoke: 'revoked' };

/** How long reviewers get in a campaign started without `due_in_days`, and in the scheduler's daily campaigns. */
export const DEFAULT_DUE_DAYS = 14;

const DAY_MS = 86_400_000;

export function addDays(from: Date | string, days: number): string {
  return new Date(new Date(from).getTime() + days * DAY_MS).toISOString();
}

/** The scheduler's campaign of one UTC day: principals found due that day are reviewed together. */
export function scheduledCampaignName(now: Date): string {
  return `scheduled-${now.toISOString().slice(0, 10)}`;
}

export type Route = 'owner' | 'owning_team' | 'security';
/** Why an item went to security rather than to an owner. */
export type RouteReason = 'orphaned' | 'owner_not_active' | 'no_owner' | 'team_has_no_active_members';

export interface Routing {
  reviewerId: string | null;
  reviewerTeamId: string | null;
  orphaned: boolean;
  route: Route;
  reason: RouteReason | null;
}

/**
 * Who reviews a principal: its owning person when that is an active human; else its owning team when the team has
 * an active human member; else (orphaned, departed owner, empty team, no owner at all) the security team, with the
 * item marked orphaned. `securityTeamId` is null when the configured security team does not exist: the item then has
 * no reviewer and only admin and security operators decide it.
 */
export function routeReview(
  p: { ownerId: string | null; ownerTeamId: string | null; orphaned: boolean },
  facts: { ownerIsActiveHuman: boolean; owningTeamHasActiveHumans: boolean; securityTeamId: string | null },
): Routing {
  const toSecurity = (reason: RouteReason): Routing => ({ reviewerId: null, reviewerTeamId: facts.securityTeamId, orphaned: true, route: 'security', reason });
  if (p.orphaned) return toSecurity('orphaned');
  if (p.ownerId !== null) {
    return facts.ownerIsActiveHuman ? { reviewerId: p.ownerId, reviewerTeamId: null, orphaned: false, route: 'owner', reason: null } : toSecurity('owner_not_active');
  }
  if (p.ownerTeamId !== null) {
    return facts.owningTeamHasActiveHumans
      ? { reviewerId: null, reviewerTeamId: p.ownerTeamId, orphaned: false, route: 'owning_team', reason: null }
      : toSecurity('team_has_no_active_members');
  }
  return toSecurity('no_owner');
}

export interface ScopeRule {
  tiers: readonly string[];
  /** Only principals whose review is due on or before `dueBy` (a principal never scheduled counts as due). */
  dueOnly: boolean;
  dueBy: string;
}

/**
 * Whether a campaign takes this principal: non-human, active (proposed principals await their registration and start
 * the review clock when activated; suspended ones cannot act, and a reactivated one is due at once), of a covered
 * tier, and, for `dueOnly`, due by the campaign's due date.
 */
export function inCampaignScope(p: { kind: string; status: string; riskTier: string; reviewDueAt: string | null }, rule: ScopeRule): boolean {
  if (p.kind === 'human' || p.status !== 'active') return false;
  if (!rule.tiers.includes(p.riskTier)) return false;
  return !rule.dueOnly || p.reviewDueAt === null || p.reviewDueAt <= rule.dueBy;
}

export interface FieldProblem {
  path: string[];
  message: string;
}

/** A "reduce" keeps a subset of the current scopes and purposes; anything else would widen. */
export function wideningProblems(current: { scopes: readonly string[]; purposes: readonly string[] }, change: { scopes?: readonly string[]; purposes?: readonly string[] }): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const field of ['scopes', 'purposes'] as const) {
    const asked = change[field];
    if (!asked) continue;
    const extra = [...new Set(asked.filter((v) => !current[field].includes(v)))];
    if (extra.length) out.push({ path: [field], message: `a reduction keeps a subset of the current ${field}; not held now: ${extra.join(', ')}` });
  }
  return out;
}

/** Whether a "reduce" takes anything away: fewer scopes, fewer purposes, or at least one grant. */
export function reducesSomething(current: { scopes: readonly string[]; purposes: readonly string[] }, change: { scopes?: readonly string[]; purposes?: readonly string[] }, grantsRevoked: number): boolean {
  const fewer = (field: 'scopes' | 'purposes') => change[field] !== undefined && current[field].some((v) => !change[field]!.includes(v));
  return grantsRevoked > 0 || fewer('scopes') || fewer('purposes');
}

/** Fields a decision may carry: only "reduce" names what to keep or revoke. */
export function misplacedFields(decision: ReviewDecision, input: { scopes?: unknown; purposes?: unknown; revoke_grants?: unknown }): string[] {
  if (decision === 'reduce') return [];
  return (['scopes', 'purposes', 'revoke_grants'] as const).filter((k) => input[k] !== undefined);
}

export interface Decider {
  principalId: string | null;
  kind: string | null;
  role: string | null;
  teamIds: readonly string[];
  delegated: boolean;
}

export interface ReviewTarget {
  principalId: string;
  reviewerId: string | null;
  reviewerTeamId: string | null;
}

/** Whether the decider is one of the people the item was sent to: the reviewer, or a member of the reviewing team. */
export function isReviewerOf(d: Pick<Decider, 'principalId' | 'teamIds'>, item: Omit<ReviewTarget, 'principalId'>): boolean {
  if (d.principalId === null) return false;
  return (item.reviewerId !== null && item.reviewerId === d.principalId) || (item.reviewerTeamId !== null && d.teamIds.includes(item.reviewerTeamId));
}

/**
 * Who may decide an item: a person acting directly (no delegated token) who is its reviewer, a member of its
 * reviewing team, or an admin or security operator; never the principal under review itself. Returns why not, or null.
 */
export function decisionRefusal(d: Decider, item: ReviewTarget): string | null {
  if (d.principalId !== null && d.principalId === item.principalId) return 'nobody decides the review of the principal they are';
  if (d.principalId === null || d.kind !== 'human' || d.delegated) return 'review decisions are made by people acting directly, not through a delegated token or an agent';
  if (d.role === 'admin' || d.role === 'security') return null;
  if (isReviewerOf(d, item)) return null;
  return 'only the item\'s reviewer (the owner, a member of the owning team, or security for orphaned principals) or an admin or security operator decides it';
}

export interface Progress {
  total: number;
  pending: number;
  kept: number;
  reduced: number;
  revoked: number;
  lapsed: number;
  /** Pending items past the campaign's due date. */
  overdue: number;
}

/** A campaign's progress from its items' counts by status; every pending item is overdue once `now` is past due. */
export function progressOf(counts: Partial<Record<ItemStatus, number>>, dueAt: string, now: Date): Progress {
  const n = (s: ItemStatus) => counts[s] ?? 0;
  const total = ITEM_STATUSES.reduce((sum, s) => sum + n(s), 0);
  return { total, pending: n('pending'), kept: n('kept'), reduced: n('reduced'), revoked: n('revoked'), lapsed: n('lapsed'), overdue: isPast(dueAt, now) ? n('pending') : 0 };
}

/** Strictly after: an item is overdue after its due instant and lapses after its grace instant. */
export function isPast(instant: string, now: Date): boolean {
  return now.getTime() > Date.parse(instant);
}

/** Whether an unreviewed principal of this tier is suspended when its item lapses. */
export function suspendsOnLapse(suspendTiers: readonly string[], tier: string): boolean {
  return suspendTiers.includes(tier);
}

/** The next review of a kept or reduced principal: a full period of its tier from the decision. */
export function nextReviewDue(now: Date, periodDays: Record<Tier, number>, tier: string): string {
  const days = periodDays[tier as Tier] ?? Math.min(...Object.values(periodDays));
  return addDays(now, days);
}
