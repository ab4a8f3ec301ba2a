import { z } from 'zod';
import { paginationQuery } from '../platform/http/pagination.js';
import { FINDING_STATUSES } from './priority.js';

// Request and response shapes of /v1/findings; the OpenAPI document is generated from them.

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

export const reportBody = z.strictObject({
  scanner: z.strictObject({ name: z.string().max(100), version: z.string().max(50) }),
  source: z.enum(['dir', 'git', 'image']),
  target: z.string().min(1).max(4096),
  incomplete: z.boolean(),
  incomplete_reasons: z.array(z.string().max(1000)).max(1000),
  exposure: z.strictObject({ public_repo: z.boolean().optional(), pushed_image: z.boolean().optional() }).default({}),
  findings: z.array(z.strictObject({
    fingerprint: z.string().regex(/^[0-9a-f]{32}$/),
    rule_id: z.string().min(1).max(100),
    provider: z.string().max(100),
    severity: z.enum(SEVERITIES),
    verified: z.boolean(),
    redacted: z.string().max(300),
    /** First 16 hex chars of SHA-256 of the secret: lets the server confirm a Custos credential without it. */
    secret_sha256_prefix: z.string().regex(/^[0-9a-f]{16}$/).optional(),
    location: z.record(z.string(), z.unknown()).refine((l) => JSON.stringify(l).length <= 8192, 'location too large'),
    credential: z.strictObject({ kind: z.string().max(10), id: z.string().regex(/^[a-z2-7]{16}$/) }).optional(),
  })).max(20_000),
});
export type ReportInput = z.infer<typeof reportBody>;

export const findingSchema = z.object({
  id: z.string(), fingerprint: z.string(), rule_id: z.string(), provider: z.string(), severity: z.string(),
  status: z.enum(FINDING_STATUSES), liveness: z.string(), priority: z.string(), priority_score: z.number(),
  exposure: z.object({ public_repo: z.boolean(), pushed_image: z.boolean() }),
  redacted: z.string(), source: z.string(), target: z.string(), location: z.record(z.string(), z.unknown()), locations_seen: z.number(),
  credential: z.object({ kind: z.string(), id: z.string(), owner_id: z.string().nullable() }).nullable(),
  note: z.string().nullable(), first_seen_at: z.string(), last_seen_at: z.string(), updated_at: z.string(), updated_by: z.string().nullable(),
});
export type FindingView = z.infer<typeof findingSchema>;

export const listFindingsQuery = z.strictObject({
  ...paginationQuery,
  status: z.enum(FINDING_STATUSES).optional(),
  severity: z.enum(SEVERITIES).optional(),
  rule: z.string().max(100).optional(),
  credential: z.string().max(100).optional(),
});
export type ListFindingsQuery = z.infer<typeof listFindingsQuery>;
export const updateFindingBody = z.strictObject({ status: z.enum(FINDING_STATUSES), note: z.string().max(2000).optional() });
export type UpdateFindingInput = z.infer<typeof updateFindingBody>;
export const findingIdParams = z.strictObject({ id: z.string().max(100).describe('id or fingerprint') });
export const reportResultSchema = z.object({
  received: z.number(), created: z.number(), updated: z.number(),
  revoked: z.array(z.object({ credential_id: z.string(), finding_id: z.string(), owner_id: z.string().nullable() })),
  findings: z.array(findingSchema),
});


