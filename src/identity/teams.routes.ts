import type { HttpApp } from '../platform/http/app.js';
import { pageSchema } from '../platform/http/pagination.js';
import { refParams } from './fields.schemas.js';
import { createTeamBody, listTeamsQuery, memberBody, memberParams, teamSchema, updateTeamBody } from './teams.schemas.js';
import type { TeamService } from './teams.service.js';

const tags = ['teams'];

export function registerTeamRoutes(app: HttpApp, teams: TeamService): void {
  app.post('/v1/teams', { config: { permission: 'team.write', errors: ['name_taken'] }, schema: { tags, summary: 'Create a team', body: createTeamBody, response: { 201: teamSchema } } },
    async (req, reply) => reply.code(201).send(await teams.create(req.actor, req.body)));
  app.get('/v1/teams', { config: { permission: 'team.read' }, schema: { tags, summary: 'List teams', querystring: listTeamsQuery, response: { 200: pageSchema(teamSchema) } } },
    async (req) => teams.list(req.actor, req.query));
  app.get('/v1/teams/:ref', { config: { permission: 'team.read', errors: ['not_found'] }, schema: { tags, summary: 'Show a team and its members (owner-role operators: members of their own teams only)', params: refParams, response: { 200: teamSchema } } },
    async (req) => teams.get(req.actor, req.params.ref));
  app.patch('/v1/teams/:ref', { config: { permission: 'team.write', errors: ['not_found', 'name_taken'] }, schema: { tags, summary: 'Update a team', params: refParams, body: updateTeamBody, response: { 200: teamSchema } } },
    async (req) => teams.update(req.actor, req.params.ref, req.body));
  app.put('/v1/teams/:ref/members/:principal', { config: { permission: 'team.write', errors: ['not_found', 'principal_not_found', 'principal_decommissioned'] }, schema: { tags, summary: 'Add or update a member', params: memberParams, body: memberBody, response: { 200: teamSchema } } },
    async (req) => teams.addMember(req.actor, req.params.ref, req.params.principal, req.body?.role ?? 'member', req.body?.reason));
  app.delete('/v1/teams/:ref/members/:principal', { config: { permission: 'team.write', errors: ['not_found'] }, schema: { tags, summary: 'Remove a member', params: memberParams, response: { 200: teamSchema } } },
    async (req) => teams.removeMember(req.actor, req.params.ref, req.params.principal));
}
