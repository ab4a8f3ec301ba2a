import { z } from 'zod';
import { paginationQuery } from '../platform/http/pagination.js';
import { namePrefix, nameSchema, reasonSchema, refSchema, text } from './fields.schemas.js';

// Request and response shapes of /v1/teams. A team is a group of principals (members or maintainers) that can
// own principals and resources; membership is what gives an owner-role operator the team's things.

export const createTeamBody = z.strictObject({
  name: nameSchema,
  display_name: text(200).optional(),
  description: text(4000).optional(),
  reason: reasonSchema,
});
export const updateTeamBody = z.strictObject({
  display_name: text(200).nullable().optional(),
  description: text(4000).nullable().optional(),
  reason: reasonSchema,
});
export const memberBody = z.strictObject({ role: z.enum(['member', 'maintainer']).default('member'), reason: reasonSchema }).optional();
const memberSchema = z.object({ id: z.string(), name: z.string(), kind: z.string(), status: z.string(), role: z.string(), added_at: z.string() });
export const teamSchema = z.object({
  id: z.string(),
  name: z.string(),
  display_name: z.string().nullable(),
  description: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  members: z.array(memberSchema).optional().describe('Absent when the caller (an owner-role operator) is not a member'),
});
export const listTeamsQuery = z.strictObject({ ...paginationQuery, name_prefix: namePrefix, member: refSchema.optional().describe('Only teams this principal is a member of') });
export type ListTeamsQuery = z.infer<typeof listTeamsQuery>;
export type CreateTeamInput = z.infer<typeof createTeamBody>;
export type UpdateTeamInput = z.infer<typeof updateTeamBody>;
export type TeamView = z.infer<typeof teamSchema>;
export const memberParams = z.strictObject({ ref: refSchema, principal: refSchema });


