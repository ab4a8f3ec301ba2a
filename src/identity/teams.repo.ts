import type { Kysely } from 'kysely';
import type { DB, TeamsTable } from '../platform/store/schema.js';
import { isUuid } from '../platform/ids.js';

type Q = Kysely<DB>;

export async function findTeam(db: Q, ref: string): Promise<TeamsTable | undefined> {
  return db.selectFrom('teams').selectAll().where(isUuid(ref) ? 'id' : 'name', '=', ref).executeTakeFirst();
}

export async function listTeams(db: Q, f: { afterId?: string; limit: number; namePrefix?: string; member?: string }) {
  let q = db.selectFrom('teams').selectAll();
  if (f.namePrefix) q = q.where('name', '>=', f.namePrefix).where('name', '<', f.namePrefix + '\uffff');
  if (f.member) q = q.where('id', 'in', (s) => s.selectFrom('team_members').select('team_id').where('principal_id', '=', f.member!));
  if (f.afterId) q = q.where('id', '>', f.afterId);
  return q.orderBy('id').limit(f.limit).execute();
}

export async function membersOf(db: Q, teamId: string) {
  return db.selectFrom('team_members as m')
    .innerJoin('principals as p', 'p.id', 'm.principal_id')
    .select(['p.id', 'p.name', 'p.kind', 'p.status', 'm.role', 'm.added_at'])
    .where('m.team_id', '=', teamId)
    .orderBy('p.name')
    .execute();
}

export async function insertTeam(db: Q, row: TeamsTable) {
  await db.insertInto('teams').values(row).execute();
}

export async function updateTeam(db: Q, id: string, patch: Partial<TeamsTable>) {
  await db.updateTable('teams').set(patch).where('id', '=', id).execute();
}

export async function upsertMember(db: Q, row: { team_id: string; principal_id: string; role: string; added_at: string }) {
  await db.deleteFrom('team_members').where('team_id', '=', row.team_id).where('principal_id', '=', row.principal_id).execute();
  await db.insertInto('team_members').values(row).execute();
}

export async function removeMember(db: Q, teamId: string, principalId: string): Promise<boolean> {
  const res = await db.deleteFrom('team_members').where('team_id', '=', teamId).where('principal_id', '=', principalId).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** The teams a principal belongs to, with who maintains each membership (null: added by hand). */
export async function membershipsOf(db: Q, principalId: string) {
  return db.selectFrom('team_members as m').innerJoin('teams as t', 't.id', 'm.team_id')
    .select(['m.team_id', 't.name', 'm.managed_by']).where('m.principal_id', '=', principalId).execute();
}

export async function insertManagedMember(db: Q, row: { team_id: string; principal_id: string; added_at: string; managed_by: string }) {
  await db.insertInto('team_members').values({ ...row, role: 'member' }).execute();
}
