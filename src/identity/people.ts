import type { AuditWriter } from '../audit/index.js';
import type { Actor } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import type { Trx, WriteBatch } from '../platform/store/db.js';
import type { PrincipalService } from './principals.service.js';
import { isUuid } from '../platform/ids.js';
import * as principalsRepo from './principals.repo.js';
import * as teamsRepo from './teams.repo.js';

// People as the sign-in module sees them (its PeopleDirectory port): a human principal created at a person's first
// sign-in, and the team memberships their IdP groups maintain.
// Rules:
// - A new person's name is a DNS label derived from the hint (the email's local part or the IdP subject), made
//   unique with a numeric suffix; it is never matched against an existing principal (no merging by name or email:
//   the sign-in module finds returning people only by IdP subject).
// - Memberships an IdP maintains carry `managed_by` (its id); a sync adds the missing ones and removes only those it
//   manages that the groups no longer give. Memberships added by hand are never touched, nor upgraded.
// - Every change is audited in the caller's transaction (principal.created through the principal service).

export const MAX_NAME = 63;

/** A DNS label from free text: lowercase, [a-z0-9-], no leading/trailing hyphen, at most `max` characters. */
export function nameFromHint(hint: string, max = MAX_NAME): string {
  const label = hint.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, max).replace(/-+$/, '');
  return label.length > 0 ? label : 'person';
}

export function createPeopleDirectory(deps: { principals: Pick<PrincipalService, 'createIn'>; audit: AuditWriter; clock: Clock }) {
  return {
    async createPerson(trx: Trx, batch: WriteBatch, actor: Actor, input: { nameHint: string; displayName: string | null; email: string | null; status: 'proposed' | 'active'; idpName: string }) {
      // A hint shaped like an id (a UUID local part) would make a name nobody could address: suffix it.
      const hinted = nameFromHint(input.nameHint, MAX_NAME - 4);
      const base = isUuid(hinted) ? `${hinted.slice(0, MAX_NAME - 11)}-person` : hinted;
      let name = base;
      for (let n = 2; await principalsRepo.findPrincipal(trx, name); n++) {
        name = `${base}-${n}`;
        if (n > 999) throw new Error('no free principal name for this person');
      }
      const view = await deps.principals.createIn(trx, batch, actor, {
        name, kind: 'human', status: input.status, display_name: input.displayName ?? undefined,
        external_ids: { [`idp:${input.idpName}`]: input.email ?? input.nameHint },
        reason: `first sign-in through identity provider '${input.idpName}'`,
      });
      return { id: view.id, name: view.name };
    },

    async syncManagedTeams(trx: Trx, batch: WriteBatch, actor: Actor, principalId: string, managedBy: string, teamIds: string[]): Promise<void> {
      const current = await teamsRepo.membershipsOf(trx, principalId);
      const held = new Map(current.map((m) => [m.team_id, m]));
      const wanted = new Set(teamIds);
      const now = deps.clock.now().toISOString();
      for (const teamId of wanted) {
        if (held.has(teamId)) continue;
        const team = await teamsRepo.findTeam(trx, teamId);
        if (!team) continue; // a mapping to a team deleted since: nothing to join
        await teamsRepo.insertManagedMember(trx, { team_id: teamId, principal_id: principalId, added_at: now, managed_by: managedBy });
        await deps.audit.record(trx, batch, {
          type: 'team.member_added', action: 'team.member_added', actor, target: { type: 'team', id: teamId, name: team.name }, outcome: 'success',
          details: { principal: { id: principalId, name: actor.principal?.name ?? null }, role: 'member', managed_by: managedBy, reason: 'identity provider groups' },
        });
      }
      for (const [teamId, m] of held) {
        if (m.managed_by !== managedBy || wanted.has(teamId)) continue;
        await teamsRepo.removeMember(trx, teamId, principalId);
        await deps.audit.record(trx, batch, {
          type: 'team.member_removed', action: 'team.member_removed', actor, target: { type: 'team', id: teamId, name: m.name }, outcome: 'success',
          details: { principal: { id: principalId, name: actor.principal?.name ?? null }, managed_by: managedBy, reason: 'no longer in the identity provider group' },
        });
      }
    },
  };
}
export type PeopleDirectory = ReturnType<typeof createPeopleDirectory>;

/** Team references (ids or names) → teams, for the identity providers' group → team mapping. */
export function createTeamResolver(deps: { db: { kysely: import('kysely').Kysely<import('../platform/store/schema.js').DB> } }) {
  return {
    async teamsByRef(refs: string[], trx?: Trx): Promise<Map<string, { id: string; name: string }>> {
      const out = new Map<string, { id: string; name: string }>();
      for (const ref of refs) {
        const team = await teamsRepo.findTeam(trx ?? deps.db.kysely, ref);
        if (team) out.set(ref, { id: team.id, name: team.name });
      }
      return out;
    },
  };
}
