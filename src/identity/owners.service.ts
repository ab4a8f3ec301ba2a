import type { Actor } from '../platform/actor.js';
import { AppError, errors } from '../platform/http/errors.js';
import { article } from '../platform/text.js';
import type { Trx } from '../platform/store/db.js';
import { isOwnerRole } from './ownership.js';
import { findPrincipalCore } from './principals.repo.js';
import { findTeam } from './teams.repo.js';

// The one place that turns `owner` / `owner_team` in a request into the ids to store, for principals and
// resources alike, with one error code per condition:
//   human_has_no_owner      a human is accountable for itself: no owner, no owner_team
//   owner_ambiguous         both owner and owner_team given
//   owner_not_found         the owning principal does not exist
//   owner_not_active_human  the owning principal is not a human, or not active
//   team_not_found          the owning team does not exist
//   owner_required          a non-human thing would be left without any owner
//   forbidden               an owner-role operator names an owner other than themselves or their teams
//                           (checked before existence, so the answer never tells whether a human exists)

export interface OwnerRequest {
  /** undefined: leave as is; null: clear; a string: set (id or name). */
  owner?: string | null;
  owner_team?: string | null;
}

export interface Owner {
  ownerId: string | null;
  ownerName: string | null;
  ownerTeamId: string | null;
  ownerTeamName: string | null;
}

export const NO_OWNER: Owner = { ownerId: null, ownerName: null, ownerTeamId: null, ownerTeamName: null };

export interface OwnedSubject {
  /** How messages name the thing: "an agent", "a resource". */
  label: string;
  /** Humans have no owners. */
  human: boolean;
}

/**
 * The owner after applying `request` to `current` (NO_OWNER on create). Setting one of owner / owner_team
 * clears the other. `actor` is given on create, where an owner-role operator may name only themselves or
 * a team they belong to.
 */
export async function resolveOwner(trx: Trx, subject: OwnedSubject, request: OwnerRequest, current: Owner = NO_OWNER, actor?: Actor): Promise<Owner> {
  if (subject.human && (request.owner || request.owner_team)) {
    throw new AppError('human_has_no_owner', 'a human principal is accountable for itself and has no owner or owner_team');
  }
  if (request.owner && request.owner_team) throw new AppError('owner_ambiguous', 'give either owner or owner_team, not both');
  if (actor && isOwnerRole(actor)) assertOwnerMayName(actor, request);

  let next: Owner = { ...current };
  if (request.owner === null) next = { ...next, ownerId: null, ownerName: null };
  if (request.owner_team === null) next = { ...next, ownerTeamId: null, ownerTeamName: null };
  if (request.owner) {
    const o = await findPrincipalCore(trx, request.owner);
    if (!o) throw new AppError('owner_not_found', `owner '${request.owner}' is not a registered principal`);
    if (o.kind !== 'human') throw new AppError('owner_not_active_human', `owner '${o.name}' is ${article(o.kind)} ${o.kind}; owners are humans or teams`);
    if (o.status !== 'active') throw new AppError('owner_not_active_human', `owner '${o.name}' is ${o.status}; only active humans can own things`);
    next = { ownerId: o.id, ownerName: o.name, ownerTeamId: null, ownerTeamName: null };
  }
  if (request.owner_team) {
    const t = await findTeam(trx, request.owner_team);
    if (!t) throw new AppError('team_not_found', `team '${request.owner_team}' does not exist`);
    next = { ownerId: null, ownerName: null, ownerTeamId: t.id, ownerTeamName: t.name };
  }
  if (!subject.human && next.ownerId === null && next.ownerTeamId === null) {
    throw new AppError('owner_required', `${subject.label} must have an owner (an active human) or an owner_team`);
  }
  return next;
}

function assertOwnerMayName(actor: Actor, request: OwnerRequest): void {
  const me = actor.principal;
  const named = request.owner ?? null;
  // Team references are checked after resolution (teams are visible to everyone); a human reference is
  // compared with the operator's own id and name only, so a foreign human and a missing one answer alike.
  if (named !== null && (!me || (named !== me.id && named !== me.name))) {
    throw errors.forbidden('owners may only register things owned by themselves or their teams');
  }
}
