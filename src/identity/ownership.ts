import type { Actor } from '../platform/actor.js';

// Who may manage an owned thing: admins and security operators manage everything; an owner-role operator
// manages only what they own directly or through a team they belong to; auditors manage nothing.

export function isOwnerRole(actor: Actor): boolean {
  return actor.role === 'owner';
}

export function canManageOwned(actor: Actor, ownerPrincipalId: string | null, ownerTeamId: string | null): boolean {
  if (actor.role === 'admin' || actor.role === 'security') return true;
  if (actor.role !== 'owner' || !actor.principalId) return false;
  if (ownerPrincipalId !== null && ownerPrincipalId === actor.principalId) return true;
  return ownerTeamId !== null && actor.teamIds.includes(ownerTeamId);
}
