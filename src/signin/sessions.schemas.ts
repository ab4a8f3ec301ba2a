import { z } from 'zod';
import { paginationQuery } from '../platform/http/pagination.js';

// /v1/sessions: people's sign-in sessions (never a refresh token; only what they hold and since when).

export const sessionSchema = z.object({
  id: z.string(),
  principal: z.object({ id: z.string(), name: z.string() }),
  client_id: z.string(),
  auth_method: z.enum(['federated', 'operator_token']),
  idp_id: z.string().nullable(),
  role: z.string().nullable().describe('Operator role from the person\'s groups (or the operator token they signed in with), as of the last refresh'),
  groups: z.array(z.string()),
  scope: z.array(z.string()),
  audience: z.array(z.string()),
  purpose: z.string().nullable(),
  dpop_bound: z.boolean(),
  auth_time: z.string(),
  created_at: z.string(),
  expires_at: z.string(),
  last_refreshed_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  revoked_reason: z.string().nullable(),
});

export const listSessionsQuery = z.strictObject({
  ...paginationQuery,
  principal: z.string().uuid().optional().describe('Only this principal\'s sessions (id)'),
  active: z.enum(['true', 'false']).optional().describe('true: only live sessions'),
});

export const sessionParams = z.strictObject({ id: z.string().uuid() });
export const revokeSessionBody = z.strictObject({ reason: z.string().min(1).max(1000).optional() });
