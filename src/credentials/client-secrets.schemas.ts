import { z } from 'zod';
import { CREDENTIAL_ID_PATTERN } from '../platform/credential-format.js';
import { heldCredentialFields, listHeldQuery, replacedBy } from './held.schemas.js';

// Request and response shapes of /v1/client-secrets (client_secret_basic / client_secret_post); the OpenAPI
// document is generated from them. A secret appears in a response only when it is created or rotated.

export const DEFAULT_SECRET_TTL_SECONDS = 90 * 86_400;
export const MIN_SECRET_TTL_SECONDS = 60;
export const MAX_SECRET_TTL_SECONDS = 365 * 86_400;
export const DEFAULT_SECRET_OVERLAP_SECONDS = 3600;
export const MAX_SECRET_OVERLAP_SECONDS = 7 * 86_400;

const ttl = z.number().int().min(MIN_SECRET_TTL_SECONDS).max(MAX_SECRET_TTL_SECONDS);

export const createClientSecretBody = z.strictObject({
  principal: z.string().min(1).max(200).describe('Non-human principal the secret authenticates (id or name)'),
  ttl_seconds: ttl.default(DEFAULT_SECRET_TTL_SECONDS)
    .describe(`Lifetime in seconds, ${MIN_SECRET_TTL_SECONDS} to ${MAX_SECRET_TTL_SECONDS} (365 days); default ${DEFAULT_SECRET_TTL_SECONDS} (90 days)`),
  description: z.string().max(500).optional().describe('What the secret is for (shown in lists and recorded in the audit log)'),
});
export type CreateClientSecretInput = z.infer<typeof createClientSecretBody>;

export const clientSecretSchema = z.object({
  ...heldCredentialFields,
  description: z.string().nullable(),
  replaced_by: replacedBy('secret'),
});
export type ClientSecretView = z.infer<typeof clientSecretSchema>;
export const createdClientSecretSchema = clientSecretSchema.extend({ secret: z.string().describe('Shown once; store it now') });
export const rotatedClientSecretSchema = createdClientSecretSchema.extend({
  replaces: clientSecretSchema.describe('The old secret, accepted until its (shortened) expires_at'),
});

export const listClientSecretsQuery = listHeldQuery('secrets');
export type ListClientSecretsQuery = z.infer<typeof listClientSecretsQuery>;

export const clientSecretIdParams = z.strictObject({ id: z.string().regex(CREDENTIAL_ID_PATTERN) });
export const rotateClientSecretBody = z.strictObject({
  overlap_seconds: z.number().int().min(0).max(MAX_SECRET_OVERLAP_SECONDS).default(DEFAULT_SECRET_OVERLAP_SECONDS)
    .describe(`How long the old secret keeps working, 0 to ${MAX_SECRET_OVERLAP_SECONDS} (7 days); default ${DEFAULT_SECRET_OVERLAP_SECONDS} (1 hour)`),
  ttl_seconds: ttl.optional().describe('Lifetime of the new secret; default the old one\'s lifetime'),
}).optional();
export type RotateClientSecretInput = z.infer<typeof rotateClientSecretBody>;
export const revokeClientSecretBody = z.strictObject({ reason: z.string().max(1000).optional() }).optional();
