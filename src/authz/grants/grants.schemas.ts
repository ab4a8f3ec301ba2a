import { z } from 'zod';
import { paginationQuery } from '../../platform/http/pagination.js';
import { ASSET_ACTIONS } from '../contracts.js';
import { MAX_GRANT_SECONDS, MIN_GRANT_SECONDS } from './grant-rules.js';

// Request and response shapes of /v1/grants (time-bound grants). The OpenAPI document is generated from them.
// The shape only bounds sizes; the service decides the rest (expiry window, purposes both sides allow).

export const refSchema = z.string().min(1).max(200).describe('id or name');
/** A purpose token, as principals' and resources' purposes are written. */
export const purposeSchema = z.string().min(1).max(128).regex(/^[A-Za-z0-9:._/*-]+$/, 'letters, digits and : . _ / * - only');
const reasonText = z.string().min(1).max(1000);
const boolQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

export const createGrantBody = z.strictObject({
  principal: refSchema.describe('Who gets access (id or name)'),
  resource: refSchema.describe('The registry resource (id or name); the grant also covers everything below it (its children)'),
  actions: z.array(z.enum(ASSET_ACTIONS)).min(1).max(ASSET_ACTIONS.length * 2).describe('Asset actions granted'),
  purpose: purposeSchema.optional().describe('Only for this purpose: one the principal and the resource both allow. Without it the grant holds for any purpose'),
  expires_at: z.iso.datetime({ offset: true }).optional().describe('When the grant ends (ISO 8601); give this or duration_seconds'),
  // No .max here: a duration beyond MAX_GRANT_SECONDS is the service's 422 grant_too_long, like a too-late expires_at.
  duration_seconds: z.number().int().min(MIN_GRANT_SECONDS).optional()
    .describe(`How long the grant lasts from now, ${MIN_GRANT_SECONDS} seconds to ${MAX_GRANT_SECONDS / 86_400} days; give this or expires_at`),
  reason: reasonText.describe('Why (required; recorded with the grant and in the audit log)'),
});
export type CreateGrantInput = z.infer<typeof createGrantBody>;

export const revokeGrantBody = z.strictObject({ reason: reasonText.describe('Why (required; recorded with the grant and in the audit log)') });
export type RevokeGrantInput = z.infer<typeof revokeGrantBody>;

export const grantIdParams = z.strictObject({ id: z.uuid() });

export const listGrantsQuery = z.strictObject({
  ...paginationQuery,
  principal: refSchema.optional().describe('Only grants to this principal (id or name)'),
  resource: refSchema.optional().describe('Only grants on this resource (id or name); not its children'),
  active: boolQuery.optional().describe('true: only grants in force now (neither revoked nor expired); false: only ended ones'),
});
export type ListGrantsQuery = z.infer<typeof listGrantsQuery>;

const refView = z.object({ id: z.string(), name: z.string() });

export const grantSchema = z.object({
  id: z.string(),
  status: z.enum(['active', 'expired', 'revoked']).describe('At the time of the response'),
  principal: refView.extend({ kind: z.string() }),
  resource: refView.extend({ kind: z.string() }),
  actions: z.array(z.string()),
  purpose: z.string().nullable(),
  expires_at: z.string(),
  reason: z.string(),
  source: z.enum(['admin', 'approval', 'break_glass']),
  source_ref: z.string().nullable(),
  granted_by: refView.nullable(),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
  revoked_by: refView.nullable(),
  revoked_reason: z.string().nullable(),
});
export type GrantView = z.infer<typeof grantSchema>;
