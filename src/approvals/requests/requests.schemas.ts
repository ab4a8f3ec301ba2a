import { z } from 'zod';
import { ASSET_ACTIONS } from '../../authz/index.js';
import { paginationQuery } from '../../platform/http/pagination.js';
import { approverGroupSchema } from '../settings.js';

// Request and response shapes of /v1/access-requests. The shapes bound sizes and forms; the service decides the
// rest (who may file for whom, purposes, durations by tier) and separation of duties (sod.ts). There is no field
// naming an approver anywhere: the approver is always the authenticated caller (nobody approves for someone else).

const ref = z.string().min(1).max(200).describe('id or name');
const purpose = z.string().min(1).max(128).regex(/^[A-Za-z0-9:._/*-]+$/, 'letters, digits and : . _ / * - only');
const justification = z.string().min(1).max(2000);
const ticket = z.string().min(1).max(200);
const duration = z.number().int().min(60).max(90 * 86_400);
const hash = z.string().regex(/^[0-9a-f]{64}$/, 'the request_hash (64 hex digits) of the revision you read');

export const createRequestBody = z.strictObject({
  kind: z.enum(['access', 'registration']).default('access').describe('access: a time-bound grant; registration: activation of a proposed high or critical risk principal'),
  subject: ref.optional().describe('Who gets the access (or is registered); default: the caller (an agent may only ask for itself)'),
  resources: z.array(ref).min(1).max(20).optional().describe('Registry resources (access requests)'),
  actions: z.array(z.enum(ASSET_ACTIONS)).min(1).max(ASSET_ACTIONS.length).optional().describe('Asset actions wanted (access requests)'),
  purpose: purpose.optional().describe('Required for access: one of the subject\'s purposes and of each resource\'s'),
  justification: justification.describe('Why (required; shown to approvers and kept in the audit log)'),
  duration_seconds: duration.optional().describe('How long the grant lasts once approved (access; whole seconds, at least 60, capped by the risk tier\'s rule)'),
  ticket: ticket.optional().describe('A change or incident ticket reference'),
});
export type CreateRequestInput = z.infer<typeof createRequestBody>;

export const updateRequestBody = z.strictObject({
  resources: z.array(ref).min(1).max(20).optional(),
  actions: z.array(z.enum(ASSET_ACTIONS)).min(1).max(ASSET_ACTIONS.length).optional(),
  purpose: purpose.optional(),
  justification: justification.optional(),
  duration_seconds: duration.optional(),
  ticket: ticket.nullable().optional(),
}).describe('Editing a pending request changes its request_hash: approvals given for the earlier revision no longer count');
export type UpdateRequestInput = z.infer<typeof updateRequestBody>;

export const decideBody = z.strictObject({
  request_hash: hash,
  comment: z.string().min(1).max(1000).optional(),
});
export const denyBody = z.strictObject({ request_hash: hash, reason: z.string().min(1).max(1000) });
export const cancelBody = z.strictObject({ reason: z.string().min(1).max(1000).optional() });
export type DecideInput = z.infer<typeof decideBody>;
export type DenyInput = z.infer<typeof denyBody>;
export type CancelInput = z.infer<typeof cancelBody>;

export const requestIdParams = z.strictObject({ id: z.uuid() });

export const listRequestsQuery = z.strictObject({
  ...paginationQuery,
  status: z.enum(['pending', 'approved', 'denied', 'cancelled', 'expired']).optional(),
  kind: z.enum(['access', 'registration', 'break_glass']).optional(),
  subject: ref.optional().describe('Only requests for this principal'),
  mine: z.enum(['true', 'false']).transform((v) => v === 'true').optional().describe('Only requests I filed or am answerable for'),
});
export type ListRequestsQuery = z.infer<typeof listRequestsQuery>;

const person = z.object({ id: z.string(), name: z.string() });

export const requestSchema = z.object({
  id: z.string(),
  kind: z.enum(['access', 'registration', 'break_glass']),
  status: z.enum(['pending', 'approved', 'denied', 'cancelled', 'expired']),
  requester: person.extend({ kind: z.string() }),
  accountable: person.nullable().describe('The human answerable for the request (an agent\'s owner when it asked for itself)'),
  subject: person.extend({ kind: z.string() }),
  resources: z.array(z.object({ id: z.string(), name: z.string(), kind: z.string(), risk_tier: z.string(), classification: z.string() })),
  actions: z.array(z.string()),
  purpose: z.string().nullable(),
  justification: z.string(),
  duration_seconds: z.number(),
  ticket: z.string().nullable(),
  tier: z.string().describe('The riskiest effective tier among the resources (risk tier raised by classification), or the subject\'s for a registration'),
  requirement: z.object({
    slots: z.array(approverGroupSchema), owner_not_sole: z.boolean(), auto_approve: z.boolean(),
    max_duration_seconds: z.number(), pending_seconds: z.number(), conflicts: z.array(z.string()),
  }),
  request_hash: z.string().describe('What approvers approve: send it back with approve or deny'),
  revision: z.number(),
  created_at: z.string(),
  updated_at: z.string(),
  pending_until: z.string().nullable(),
  decided_at: z.string().nullable(),
  decided_by: z.string().nullable(),
  decision_reason: z.string().nullable(),
  grant_ids: z.array(z.string()),
  approvals: z.array(z.object({
    approver: person, decision: z.enum(['approve', 'deny']), revision: z.number(), counts: z.boolean().describe('Given for the current revision'),
    comment: z.string().nullable(), created_at: z.string(),
  })),
  needs: z.array(z.string()).describe('What a pending request still needs: approver groups, or someone other than the subject\'s owner'),
});
export type RequestView = z.infer<typeof requestSchema>;
