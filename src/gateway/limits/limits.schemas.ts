import { z } from 'zod';
import { paginationQuery } from '../../platform/http/pagination.js';
import { MAX_LIMIT_VALUE, METRICS, TARGET_KINDS } from './limits.js';

// Request and response shapes of /v1/limits; the OpenAPI document is generated from them. Shapes bound every field;
// the value rules (whole numbers 1…MAX_LIMIT_VALUE, at least one left set) are limits.ts's `limitProblem`, answered
// as 422 invalid_limit with a message naming the field.

const reason = z.string().min(1).max(1000).describe('Why: recorded in the audit log');
const value = (what: string) => z.number().int().nullable().optional()
  .describe(`${what}, 1-${MAX_LIMIT_VALUE}; null clears it; absent keeps the current value`);

export const limitTargetParams = z.strictObject({
  kind: z.enum(TARGET_KINDS).describe('What the limit is set on'),
  ref: z.string().min(1).max(200).describe('The principal, team or resource: id or name'),
});

export const setLimitBody = z.strictObject({
  requests_per_minute: value('Requests per UTC minute'),
  tokens_per_minute: value('Tokens (prompt and completion) per UTC minute'),
  tokens_per_day: value('Token budget per UTC day'),
  tokens_per_month: value('Token budget per UTC calendar month'),
  reason,
});
export type SetLimitInput = z.infer<typeof setLimitBody>;

export const listLimitsQuery = z.strictObject({
  ...paginationQuery,
  kind: z.enum(TARGET_KINDS).optional().describe('Only limits set on this kind of target'),
});
export type ListLimitsQuery = z.infer<typeof listLimitsQuery>;

export const removeLimitQuery = z.strictObject({ reason });

const limitValue = z.number().int().nullable();

export const limitSchema = z.object({
  id: z.string(),
  target: z.object({
    kind: z.enum(TARGET_KINDS),
    id: z.string(),
    name: z.string().nullable().describe('null: the target no longer exists (the limit is inert)'),
  }),
  requests_per_minute: limitValue,
  tokens_per_minute: limitValue,
  tokens_per_day: limitValue,
  tokens_per_month: limitValue,
  created_at: z.string(),
  updated_at: z.string(),
  updated_by: z.string().nullable().describe('The principal id of whoever set it last'),
});
export type LimitView = z.infer<typeof limitSchema>;

export const usageSchema = z.object({
  metric: z.enum(METRICS),
  limit: z.number().int(),
  used: z.number().int().describe('Reserved by calls in flight plus used by calls settled, in the current window'),
  window: z.enum(['minute', 'day', 'month']),
  resets_at: z.string(),
});

export const limitWithUsageSchema = limitSchema.extend({
  usage: z.array(usageSchema).describe('This node\'s counters for each value set, in the current UTC windows'),
});
export type LimitWithUsageView = z.infer<typeof limitWithUsageSchema>;
