import { z } from 'zod';
import { ASSET_ACTIONS } from '../../authz/index.js';
import { paginationQuery } from '../../platform/http/pagination.js';
import { approverGroupSchema, RISK_TIERS } from '../settings.js';
import { MIN_BREAK_GLASS_SECONDS, MIN_JUSTIFICATION_CHARS } from './break-glass.js';

// Request and response shapes of /v1/break-glass (emergency access without prior approval, and its post-incident
// review). The OpenAPI document is generated from them. The shapes bound sizes and require the justification; the
// service decides who may, how long, and what the resource and purpose allow.

const refSchema = z.string().min(1).max(200).describe('id or name');
/** A purpose token, written as principals' and resources' purposes are. */
const purposeSchema = z.string().min(1).max(128).regex(/^[A-Za-z0-9:._/*-]+$/, 'letters, digits and : . _ / * - only');

export const openBreakGlassBody = z.strictObject({
  resource: refSchema.describe('The registry resource (id or name); the access also covers everything below it'),
  actions: z.array(z.enum(ASSET_ACTIONS)).min(1).max(ASSET_ACTIONS.length * 2).describe('Asset actions needed'),
  purpose: purposeSchema.optional().describe('Only for this purpose: one you and the resource both allow. Without it the access holds for any purpose'),
  justification: z.string().trim().min(MIN_JUSTIFICATION_CHARS).max(4000)
    .describe(`What the emergency is and why it cannot wait for an approval (required, at least ${MIN_JUSTIFICATION_CHARS} characters)`),
  // No .max: beyond the configured maximum is the service's 422 break_glass_too_long, naming the maximum.
  duration_seconds: z.number().int().min(MIN_BREAK_GLASS_SECONDS).optional()
    .describe('How long from now, at least 60 seconds and at most the configured maximum (break_glass_max_seconds, default 3600); the maximum when absent'),
  ticket: z.string().min(1).max(200).optional().describe('The incident or ticket reference'),
});
export type OpenBreakGlassInput = z.infer<typeof openBreakGlassBody>;

export const closeReviewBody = z.strictObject({
  finding: z.string().trim().min(10).max(4000).describe('What the review found: was the access needed, was it used as justified, what follows (required)'),
});
export type CloseReviewInput = z.infer<typeof closeReviewBody>;

export const endBreakGlassBody = z.strictObject({
  reason: z.string().min(1).max(1000).describe('Why the access is given up early (required; recorded in the audit log)'),
});
export type EndBreakGlassInput = z.infer<typeof endBreakGlassBody>;

export const breakGlassIdParams = z.strictObject({ id: z.uuid() });

export const listBreakGlassQuery = z.strictObject({
  ...paginationQuery,
  review: z.enum(['open', 'closed']).optional().describe('Only accesses whose post-incident review is open (or closed)'),
  user: refSchema.optional().describe('Only accesses this person opened (id or name)'),
});
export type ListBreakGlassQuery = z.infer<typeof listBreakGlassQuery>;

const refView = z.object({ id: z.string(), name: z.string() });
const skippedSlotView = z.object({
  group: approverGroupSchema,
  people: z.union([z.array(refView), z.literal('anyone')]).describe('The people who could have approved, or `anyone` for a slot any approver fills'),
});

export const breakGlassSchema = z.object({
  id: z.string(),
  user: refView.describe('Who opened it (the access is theirs)'),
  resource: z.object({ id: z.string(), name: z.string(), kind: z.string(), risk_tier: z.string(), classification: z.string() }),
  actions: z.array(z.string()),
  purpose: z.string().nullable(),
  justification: z.string(),
  ticket: z.string().nullable(),
  duration_seconds: z.number().int(),
  tier: z.enum(RISK_TIERS).describe('The resource\'s effective tier when it was opened'),
  skipped: z.object({
    rule: z.object({ auto_approve: z.boolean(), slots: z.array(approverGroupSchema), max_duration_seconds: z.number().int() }).describe('The approval rule that was skipped'),
    approvers: z.array(skippedSlotView),
  }),
  notified: z.array(refView).describe('Who was told at once: the security team and the skipped approvers'),
  opened_at: z.string(),
  expires_at: z.string(),
  grant: z.object({
    id: z.string(),
    status: z.enum(['active', 'ended']).describe('active: in force now; ended: expired or revoked'),
    expires_at: z.string(),
  }),
  review: z.object({
    status: z.enum(['open', 'closed']),
    finding: z.string().nullable(),
    closed_by: refView.nullable(),
    closed_at: z.string().nullable(),
  }),
  request_hash: z.string().describe('SHA-256 of what was opened (as access requests are hashed)'),
});
export type BreakGlassView = z.infer<typeof breakGlassSchema>;
