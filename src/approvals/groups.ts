import type { Trx } from '../platform/store/db.js';
import type { ApprovalDirectory, RegistryPrincipal, RegistryResource } from './ports.js';
import type { ApproverGroup, ApprovalSettings } from './settings.js';

// Who is in an approver group for one request, read from the registry inside the deciding transaction: the pure
// rules (sod.ts) then work on plain sets of person ids. `anyone` has no member list: every person who may approve
// at all fills it. `resource_owners` are each resource's owning principal and the active human members of its
// owning team; for a registration (no resources), the active human members of the subject's owning team.

export type GroupMembers = ReadonlyMap<ApproverGroup, ReadonlySet<string> | 'anyone'>;

export async function resolveGroups(
  directory: ApprovalDirectory, trx: Trx, settings: ApprovalSettings, groups: readonly ApproverGroup[],
  target: { resources: readonly Pick<RegistryResource, 'ownerId' | 'ownerTeamId'>[]; subject: Pick<RegistryPrincipal, 'ownerId' | 'ownerTeamId'> },
): Promise<GroupMembers> {
  const out = new Map<ApproverGroup, ReadonlySet<string> | 'anyone'>();
  const teamMembers = async (name: string): Promise<Set<string>> => {
    const team = await directory.team(trx, name);
    return new Set(team ? await directory.activeHumanMembers(trx, team.id) : []);
  };
  for (const group of new Set(groups)) {
    if (group === 'anyone') out.set(group, 'anyone');
    else if (group === 'security') out.set(group, await teamMembers(settings.security_team));
    else if (group === 'resource_owners') {
      const owners = new Set<string>();
      const owned = target.resources.length ? target.resources : [{ ownerId: null, ownerTeamId: target.subject.ownerTeamId }];
      for (const r of owned) {
        if (r.ownerId) owners.add(r.ownerId);
        if (r.ownerTeamId) for (const id of await directory.activeHumanMembers(trx, r.ownerTeamId)) owners.add(id);
      }
      out.set(group, owners);
    } else out.set(group, await teamMembers(group.slice('team:'.length)));
  }
  return out;
}
