import { z } from 'zod';
import { nameSchema } from '../../identity/index.js';
import { paginationQuery } from '../../platform/http/pagination.js';

// Request and response shapes of /v1/posture-issuers (MDM or EDR systems whose signed posture assertions are
// trusted); the OpenAPI document is generated from them. Shapes bound every field; the rules a shape cannot say
// (URL schemes, public asymmetric keys only) are the service's.

export const MIN_MAX_AGE_SECONDS = 60;
export const MAX_MAX_AGE_SECONDS = 7 * 86_400;
export const DEFAULT_MAX_AGE_SECONDS = 3_600;
export const MAX_POSTURE_ISSUERS = 100;

const url = z.string().min(1).max(2000);
const reason = z.string().max(1000).optional().describe('Why: recorded in the audit log');

export const postureJwksSchema = z.object({ keys: z.array(z.record(z.string().max(100), z.unknown())).min(1).max(32) })
  .describe('An inline JWKS of public keys only (RSA of 2048 bits or more, EC, OKP)');

export const createPostureIssuerBody = z.strictObject({
  name: nameSchema,
  issuer: url.describe('The exact `iss` of the issuer\'s posture assertions (https; plain http only to 127.0.0.1, [::1] or localhost)'),
  jwks: postureJwksSchema.optional(),
  jwks_uri: url.optional().describe('Where the issuer publishes its JWKS (https, or loopback http); give this or jwks'),
  max_age_seconds: z.number().int().min(MIN_MAX_AGE_SECONDS).max(MAX_MAX_AGE_SECONDS).optional()
    .describe(`An assertion issued (iat) longer ago than this is stale, so posture unknown; default ${DEFAULT_MAX_AGE_SECONDS}`),
  reason,
});
export type CreatePostureIssuerInput = z.infer<typeof createPostureIssuerBody>;

export const postureIssuerSchema = z.object({
  id: z.string(),
  name: z.string(),
  issuer: z.string(),
  jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).nullable(),
  jwks_uri: z.string().nullable(),
  max_age_seconds: z.number(),
  created_at: z.string(),
  created_by: z.string().nullable(),
});
export type PostureIssuerView = z.infer<typeof postureIssuerSchema>;

export const listPostureIssuersQuery = z.strictObject({ ...paginationQuery });
export type ListPostureIssuersQuery = z.infer<typeof listPostureIssuersQuery>;
export const postureIssuerRefParams = z.strictObject({ ref: z.string().min(1).max(200).describe('id or name') });
export const deletePostureIssuerQuery = z.strictObject({ reason });
