import { z } from 'zod';
import { paginationQuery } from '../../platform/http/pagination.js';
import { RISK_TIERS } from '../settings.js';
import { DEFAULT_DUE_DAYS, ITEM_STATUSES, REVIEW_DECISIONS } from './reviews.js';

// Request and response shapes of /v1/review-campaigns and /v1/review-items (access reviews); the OpenAPI document
// is generated from them. The shapes bound sizes; the service decides the rest (who is in scope, who may decide,
// that a reduction only narrows).

const refSchema = z.string().min(1).max(200).describe('id or name');
/** A scope or purpose token, as principals' scopes and purposes are written. */
const token = z.string().min(1).max(128).regex(/^[A-Za-z0-9:._/*-]+$/, 'letters, digits and : . _ / * - only');
const tokenList = z.array(token).max(100);
const boolQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

export const startCampaignBody = z.strictObject({
  name: z.string().min(1).max(100).describe('What the campaign is called (e.g. q3-recertification)'),
  tiers: z.array(z.enum(RISK_TIERS)).min(1).max(RISK_TIERS.length * 2).optional().describe('Only principals of these risk tiers (default: all)'),
  due_only: z.boolean().optional()
    .describe('true: only principals whose review falls due by the campaign\'s due date; false: every active non-human principal in scope. Default true, or false when `principals` is given'),
  due_in_days: z.number().int().min(1).max(365).optional().describe(`Days reviewers have before items are overdue (default ${DEFAULT_DUE_DAYS}); the grace period (approval settings) follows`),
  principals: z.array(refSchema).min(1).max(500).optional().describe('Only these principals (ids or names): each must be an active non-human principal'),
});
export type StartCampaignInput = z.infer<typeof startCampaignBody>;

export const idParams = z.strictObject({ id: z.uuid() });

export const listCampaignsQuery = z.strictObject({
  ...paginationQuery,
  status: z.enum(['open', 'closed']).optional().describe('Only open or only closed campaigns'),
});
export type ListCampaignsQuery = z.infer<typeof listCampaignsQuery>;

export const listItemsQuery = z.strictObject({
  ...paginationQuery,
  campaign: z.uuid().optional().describe('Only items of this campaign'),
  status: z.enum(ITEM_STATUSES).optional(),
  principal: z.uuid().optional().describe('Only items about this principal (id)'),
  mine: boolQuery.optional().describe('true: only items sent to the caller or to one of the caller\'s teams (owner-role operators always see only those)'),
});
export type ListItemsQuery = z.infer<typeof listItemsQuery>;

export const decisionBody = z.strictObject({
  decision: z.enum(REVIEW_DECISIONS).describe('keep: recertify as is; reduce: keep less (scopes, purposes, grants); revoke: end every standing grant and suspend the principal'),
  scopes: tokenList.optional().describe('reduce: the scopes to keep (a subset of the current ones)'),
  purposes: tokenList.optional().describe('reduce: the purposes to keep (a subset of the current ones)'),
  revoke_grants: z.array(z.uuid()).max(1000).optional().describe('reduce: standing grants of the principal to revoke (ids)'),
  reason: z.string().min(1).max(1000).describe('Why (required; recorded with the item and in the audit log)'),
});
export type DecisionInput = z.infer<typeof decisionBody>;

const refView = z.object({ id: z.string(), name: z.string() });

export const progressSchema = z.object({
  total: z.number().int(),
  pending: z.number().int(),
  kept: z.number().int(),
  reduced: z.number().int(),
  revoked: z.number().int(),
  lapsed: z.number().int(),
  overdue: z.number().int().describe('Pending items past the campaign\'s due date'),
});

export const campaignSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['open', 'closed']),
  automatic: z.boolean().describe('Started by the scheduler for principals whose review date passed'),
  tiers: z.array(z.string()),
  due_only: z.boolean(),
  due_at: z.string().describe('Pending items are overdue after this'),
  grace_until: z.string().describe('Pending items lapse after this (tiers in suspend_unreviewed are suspended)'),
  suspend_unreviewed: z.array(z.string()).describe('Tiers whose principals are suspended when their item lapses (fixed at the start)'),
  created_at: z.string(),
  created_by: refView.nullable().describe('The operator who started it; null for the scheduler'),
  closed_at: z.string().nullable(),
  progress: progressSchema,
});
export type CampaignView = z.infer<typeof campaignSchema>;

export const startedCampaignSchema = campaignSchema.extend({
  already_in_review: z.number().int().describe('Principals in scope left out because they already have an item in an open campaign'),
});

const grantSnapshot = z.object({
  id: z.string(),
  resource: refView,
  actions: z.array(z.string()),
  purpose: z.string().nullable(),
  expires_at: z.string(),
  source: z.string(),
});

export const itemSchema = z.object({
  id: z.string(),
  campaign: refView,
  principal: refView.extend({ kind: z.string(), risk_tier: z.string() }),
  reviewer: refView.nullable().describe('The owning person, when the item went to them'),
  reviewer_team: refView.nullable().describe('The owning team, or the security team for orphaned principals'),
  orphaned: z.boolean(),
  route: z.enum(['owner', 'owning_team', 'security']),
  route_reason: z.string().nullable().describe('Why it went to security: orphaned, owner_not_active, team_has_no_active_members, no_owner'),
  status: z.enum(ITEM_STATUSES),
  overdue: z.boolean(),
  due_at: z.string(),
  grace_until: z.string(),
  snapshot: z.object({
    scopes: z.array(z.string()),
    purposes: z.array(z.string()),
    grants: z.array(grantSnapshot),
    taken_at: z.string(),
  }).describe('What the principal held when the item was created'),
  decided_by: refView.nullable().describe('Who decided; null while pending, and for a lapse'),
  decided_at: z.string().nullable(),
  decision_reason: z.string().nullable(),
  applied: z.record(z.string(), z.unknown()).nullable().describe('What the decision or lapse changed'),
  notified: z.array(z.string()).describe('Notices sent: due, overdue'),
});
export type ItemView = z.infer<typeof itemSchema>;
export type GrantSnapshot = z.infer<typeof grantSnapshot>;
