import type { Actor, OperatorRole } from '../platform/actor.js';
import { AUTONOMY_LEVELS, CLASSIFICATIONS, ENVIRONMENTS, RISK_TIERS } from './taxonomy.js';

// Who may manage an owned thing: admins and security operators manage everything; an owner-role operator
// manages only what they own directly or through a team they belong to; auditors manage nothing.

export function isOwnerRole(actor: Actor): boolean {
  return actor.role === 'owner';
}

/**
 * What a list may show this actor: undefined (everything) for roles that read everything; for the owner role,
 * what they or their teams own. Fails closed: an owner-role actor without a principal sees nothing of others'.
 */
export function listVisibility(actor: Actor): { principalId: string; teamIds: string[] } | undefined {
  return isOwnerRole(actor) ? { principalId: actor.principal?.id ?? '-', teamIds: actor.teamIds } : undefined;
}

/**
 * Rungs of the operator roles, for "no role acts on a principal holding a higher role". Auditor and owner
 * share the lowest rung: neither is above the other (an auditor changes nothing; an owner manages only what it
 * owns, and humans, the only principals that hold roles, have no owners), so neither may act on security or
 * admin holders, and admins and security operators may act on both.
 */
export const ROLE_RANK: Record<OperatorRole, number> = { admin: 3, security: 2, auditor: 1, owner: 1 };

/** Whether a principal whose highest role is `target` is out of reach of an actor with role `actor`. */
export function outranks(target: OperatorRole | null, actor: OperatorRole | null): boolean {
  if (target === null) return false;
  return actor === null || ROLE_RANK[target] > ROLE_RANK[actor];
}

/**
 * Owners see what they may manage, plus themselves; admin, security and auditors see everything. What an
 * owner may not see answers 404, as if it did not exist.
 */
export function canSee(actor: Actor, subjectId: string, ownerPrincipalId: string | null, ownerTeamId: string | null): boolean {
  if (!isOwnerRole(actor)) return actor.role !== null;
  return actor.principal?.id === subjectId || canManageOwned(actor, ownerPrincipalId, ownerTeamId);
}

/** An owner may pick as a principal's home team only a team they belong to. */
export function ownerMayPickTeam(actor: Actor, teamId: string | null): boolean {
  return !isOwnerRole(actor) || teamId === null || actor.teamIds.includes(teamId);
}

export function canManageOwned(actor: Actor, ownerPrincipalId: string | null, ownerTeamId: string | null): boolean {
  if (actor.role === 'admin' || actor.role === 'security') return true;
  if (actor.role !== 'owner' || !actor.principal) return false;
  if (ownerPrincipalId !== null && ownerPrincipalId === actor.principal.id) return true;
  return ownerTeamId !== null && actor.teamIds.includes(ownerTeamId);
}

/** The current state of the fields an owner could use to widen what a principal may do. */
export interface GuardedFields {
  scopes: string[];
  purposes: string[];
  data_ceiling: string | null;
  autonomy: string | null;
  environment: string | null;
  risk_tier: string;
}

/** A requested change; undefined means "leave as is", null means "clear". */
export interface GuardedPatch {
  owner?: string | null;
  owner_team?: string | null;
  scopes?: string[];
  purposes?: string[];
  data_ceiling?: string | null;
  autonomy?: string | null;
  environment?: string | null;
  risk_tier?: string;
  review_due_at?: string;
  external_ids?: unknown;
}

function rank(order: readonly string[], value: string | null): number {
  // An undeclared value counts as the lowest rung, so declaring one is a widening an owner cannot make alone.
  return value === null ? -1 : order.indexOf(value);
}

/**
 * The fields an owner-role operator asks to change but may not: ownership, the review date and external
 * identities are for admin/security; scopes and purposes may only shrink; data ceiling, autonomy and
 * environment may only go down; the risk tier may only go up (a lower tier means rarer reviews).
 * Returns the offending field names, empty when the change is within an owner's remit.
 */
export function ownerWideningFields(current: GuardedFields, patch: GuardedPatch): string[] {
  const bad: string[] = [];
  if (patch.owner !== undefined) bad.push('owner');
  if (patch.owner_team !== undefined) bad.push('owner_team');
  if (patch.review_due_at !== undefined) bad.push('review_due_at');
  if (patch.external_ids !== undefined) bad.push('external_ids');
  if (patch.scopes !== undefined && !patch.scopes.every((s) => current.scopes.includes(s))) bad.push('scopes');
  if (patch.purposes !== undefined && !patch.purposes.every((s) => current.purposes.includes(s))) bad.push('purposes');
  // Clearing a declared limit is a widening too: nothing declared may later be read as "no limit".
  const raises = (order: readonly string[], from: string | null, to: string | null | undefined) =>
    to !== undefined && (to === null ? from !== null : rank(order, to) > rank(order, from));
  if (raises(CLASSIFICATIONS, current.data_ceiling, patch.data_ceiling)) bad.push('data_ceiling');
  if (raises(AUTONOMY_LEVELS, current.autonomy, patch.autonomy)) bad.push('autonomy');
  if (raises(ENVIRONMENTS, current.environment, patch.environment)) bad.push('environment');
  if (patch.risk_tier !== undefined && rank(RISK_TIERS, patch.risk_tier) < rank(RISK_TIERS, current.risk_tier)) bad.push('risk_tier');
  return bad;
}

/** The current state of what an owner could use to widen a resource. */
export interface GuardedResourceFields {
  classification: string;
  risk_tier: string;
  purposes: string[];
}

export interface GuardedResourcePatch {
  /** The audience URI: tokens addressed to it are accepted by the service that answers to it, so only admin and
   * security set it (an owner claiming a real service's URL would mint that service's audience). */
  uri?: string | null;
  owner?: string | null;
  owner_team?: string | null;
  classification?: string;
  risk_tier?: string;
  purposes?: string[];
}

/**
 * The resource fields an owner-role operator asks to change but may not: ownership is for admin/security; the
 * classification and the risk tier may only go up (a lower label means weaker protection and rarer reviews);
 * allowed purposes may only shrink. Parents are checked by the service (it needs the store).
 */
export function ownerResourceWideningFields(current: GuardedResourceFields, patch: GuardedResourcePatch): string[] {
  const bad: string[] = [];
  if (patch.uri !== undefined) bad.push('uri');
  if (patch.owner !== undefined) bad.push('owner');
  if (patch.owner_team !== undefined) bad.push('owner_team');
  if (patch.classification !== undefined && rank(CLASSIFICATIONS, patch.classification) < rank(CLASSIFICATIONS, current.classification)) bad.push('classification');
  if (patch.risk_tier !== undefined && rank(RISK_TIERS, patch.risk_tier) < rank(RISK_TIERS, current.risk_tier)) bad.push('risk_tier');
  if (patch.purposes !== undefined && !patch.purposes.every((p) => current.purposes.includes(p))) bad.push('purposes');
  return bad;
}
