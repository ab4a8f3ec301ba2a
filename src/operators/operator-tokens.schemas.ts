import { z } from 'zod';
import { OPERATOR_ROLES } from '../platform/actor.js';
import { CREDENTIAL_ID_PATTERN } from '../platform/credential-format.js';
import { paginationQuery } from '../platform/http/pagination.js';

// Request and response shapes of /v1/operator-tokens; the OpenAPI document is generated from them.

export const DEFAULT_TTL_SECONDS = 12 * 3600;
export const MIN_TTL_SECONDS = 60;
export const MAX_TTL_SECONDS = 90 * 86_400;

export const mintTokenBody = z.strictObject({
  principal: z.string().min(1).max(200).describe('Human principal the token acts as (id or name)'),
  role: z.enum(OPERATOR_ROLES),
  ttl_seconds: z.number().int().min(MIN_TTL_SECONDS).max(MAX_TTL_SECONDS).default(DEFAULT_TTL_SECONDS)
    .describe(`Lifetime in seconds, ${MIN_TTL_SECONDS} (1 minute) to ${MAX_TTL_SECONDS} (90 days)`),
  description: z.string().max(500).optional(),
});
export type MintTokenInput = z.infer<typeof mintTokenBody>;

export const tokenSchema = z.object({
  id: z.string(),
  principal: z.object({ id: z.string(), name: z.string() }),
  role: z.enum(OPERATOR_ROLES),
  description: z.string().nullable(),
  created_at: z.string(),
  created_by: z.string().nullable(),
  expires_at: z.string(),
  revoked_at: z.string().nullable(),
  revoked_reason: z.string().nullable(),
  last_used_at: z.string().nullable(),
});
export type TokenView = z.infer<typeof tokenSchema>;
export const revokedTokenSchema = tokenSchema.extend({ already_revoked: z.boolean().describe('True when the token had been revoked before this call (nothing changed)') });
export const mintedTokenSchema = tokenSchema.extend({ token: z.string().describe('Shown once; store it now') });

export const listTokensQuery = z.strictObject({
  ...paginationQuery,
  principal: z.string().max(200).optional(),
  include_revoked: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
});
export type ListTokensQuery = z.infer<typeof listTokensQuery>;

export const tokenIdParams = z.strictObject({ id: z.string().regex(CREDENTIAL_ID_PATTERN) });
export const revokeTokenBody = z.strictObject({ reason: z.string().max(1000).optional() }).optional();

export const whoamiSchema = z.object({
  principal_id: z.string().nullable(),
  principal_name: z.string().nullable(),
  role: z.string().nullable(),
  credential_id: z.string().nullable(),
  teams: z.array(z.string()),
  credential_kind: z.string().nullable().describe('operator_token, access_token or api_key'),
  auth_method: z.string(),
  scope: z.array(z.string()).nullable().describe('Granted scopes (access tokens and API keys)'),
  purpose: z.string().nullable().describe('The purpose bound at issuance'),
  audience: z.array(z.string()).nullable(),
  dpop_jkt: z.string().nullable().describe('Thumbprint of the key the token is bound to (DPoP)'),
  acting_for: z.array(z.string()).describe('Delegation chain, outermost first: the principals this caller acts for'),
  expires_at: z.string().nullable(),
});
