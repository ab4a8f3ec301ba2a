import type { Actor } from '../platform/actor.js';
import type { AuditWriter } from '../audit/index.js';
import type { Clock } from '../platform/clock.js';
import type { Database, Trx } from '../platform/store/db.js';
import { AppError, errors } from '../platform/http/errors.js';
import type { IdGenerator } from '../platform/ids.js';
import { decodeCursor, pageOf } from '../platform/http/pagination.js';
import { isUniqueViolation } from '../platform/store/errors.js';
import { canSee, isOwnerRole } from './ownership.js';
import { findPrincipal } from './principals.repo.js';
import type { CreateTeamInput, ListTeamsQuery, UpdateTeamInput } from './teams.schemas.js';
import * as repo from './teams.repo.js';

// Teams: groups of principals that can own things and, later, approve requests. Every team is visible to
// every operator role (an owner picks home teams and owning teams from them), but an owner-role operator sees
// the members only of teams they belong to; only admin and security change teams.

export function createTeamService(deps: { db: Database; audit: AuditWriter; clock: Clock; newId: IdGenerator }) {
  const { db, audit, clock } = deps;

  async function load(q: Trx | Database['kysely'], ref: string) {
    const team = await repo.findTeam(q, ref);
    if (!team) throw errors.notFound('team', ref);
    return team;
  }

  return {
    async create(actor: Actor, input: CreateTeamInput) {
      return db.write(async (trx, batch) => {
        const now = clock.now().toISOString();
        const row = { id: deps.newId(), name: input.name, display_name: input.display_name ?? null, description: input.description ?? null, created_at: now, updated_at: now };
        try {
          await repo.insertTeam(trx, row);
        } catch (error) {
          if (isUniqueViolation(error)) throw new AppError('name_taken', `a team named '${input.name}' already exists`);
          throw error;
        }
        await audit.record(trx, batch, { type: 'team.created', action: 'team.created', actor, target: { type: 'team', id: row.id, name: row.name }, outcome: 'success', details: { reason: input.reason ?? null } });
        return { ...row, members: [] };
      });
    },
    /** Members are listed to every role but owner; an owner-role operator sees the members of their own teams only. */
    async get(actor: Actor, ref: string) {
      const team = await load(db.kysely, ref);
      if (isOwnerRole(actor) && !actor.teamIds.includes(team.id)) return team;
      return { ...team, members: await repo.membersOf(db.kysely, team.id) };
    },
    async list(actor: Actor, query: ListTeamsQuery) {
      const after = decodeCursor(query.cursor);
      // A member an owner may not see matches nothing, like one that does not exist.
      const p = query.member ? await findPrincipal(db.kysely, query.member) : undefined;
      const member = query.member ? (p && canSee(actor, p.id, p.owner_principal_id, p.owner_team_id) ? p.id : '-') : undefined;
      const rows = await repo.listTeams(db.kysely, { afterId: after === undefined ? undefined : String(after), limit: query.limit + 1, namePrefix: query.name_prefix, member });
      return pageOf(rows, query.limit, (r) => r.id);
    },
    async update(actor: Actor, ref: string, input: UpdateTeamInput) {
      return db.write(async (trx, batch) => {
        const team = await load(trx, ref);
        const patch = {
          ...(input.display_name !== undefined ? { display_name: input.display_name } : {}),
          ...(input.description !== undefined ? { description: input.description } : {}),
          updated_at: clock.now().toISOString(),
        };
        await repo.updateTeam(trx, team.id, patch);
        await audit.record(trx, batch, { type: 'team.updated', action: 'team.updated', actor, target: { type: 'team', id: team.id, name: team.name }, outcome: 'success', details: { reason: input.reason ?? null, changed: Object.keys(patch).filter((k) => k !== 'updated_at') } });
        return { ...(await load(trx, team.id)), members: await repo.membersOf(trx, team.id) };
      });
    },
    async addMember(actor: Actor, ref: string, principalRef: string, role: string, reason?: string) {
      return db.write(async (trx, batch) => {
        const team = await load(trx, ref);
        const p = await findPrincipal(trx, principalRef);
        if (!p) throw new AppError('principal_not_found', `principal '${principalRef}' does not exist`);
        if (p.status === 'decommissioned') throw new AppError('principal_decommissioned', `principal '${p.name}' is decommissioned`);
        await repo.upsertMember(trx, { team_id: team.id, principal_id: p.id, role, added_at: clock.now().toISOString() });
        await audit.record(trx, batch, { type: 'team.member_added', action: 'team.member_added', actor, target: { type: 'team', id: team.id, name: team.name }, outcome: 'success', details: { principal: { id: p.id, name: p.name }, role, reason: reason ?? null } });
        return { ...team, members: await repo.membersOf(trx, team.id) };
      });
    },
    async removeMember(actor: Actor, ref: string, principalRef: string, reason?: string) {
      return db.write(async (trx, batch) => {
        const team = await load(trx, ref);
        const p = await findPrincipal(trx, principalRef);
        if (!p || !(await repo.removeMember(trx, team.id, p.id))) {
          throw errors.notFound('team member', principalRef);
        }
        await audit.record(trx, batch, { type: 'team.member_removed', action: 'team.member_removed', actor, target: { type: 'team', id: team.id, name: team.name }, outcome: 'success', details: { principal: { id: p.id, name: p.name }, reason: reason ?? null } });
        return { ...team, members: await repo.membersOf(trx, team.id) };
      });
    },
  };
}
export type TeamService = ReturnType<typeof createTeamService>;

