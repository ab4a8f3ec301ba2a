import { z } from 'zod';
import { nameSchema } from '../identity/index.js';
import { paginationQuery } from '../platform/http/pagination.js';

// Request and response shapes of /v1/federation/issuers (trusted workload issuers for the RFC 7523 §2.1
// jwt-bearer grant); the OpenAPI document is generated from them. The shapes bound every field; the rules
// that need more than a shape (URL schemes, public keys only, asymmetric algorithms, principals that exist
// and are not human) are the service's, answered with invalid_federation and a detail saying which.

/** Accepted JWS algorithms: asymmetric only (never none, never HS*). */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export const DEFAULT_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export const MIN_TOKEN_AGE_SECONDS = 60;
export const MAX_TOKEN_AGE_SECONDS = 86_400;
export const MAX_MAPPINGS = 100;
export const MAX_CONDITIONS = 32;

const url = z.string().min(1).max(2000);
const claimName = z.string().min(1).max(200).regex(/^[A-Za-z0-9_.:/-]+$/, 'claim names: letters, digits and _ . : / - only');
const claimValue = z.string().min(1).max(1000);
export const claimConditionSchema = z.union([claimValue, z.array(claimValue).min(1).max(100)])
  .describe('The claim must equal this string, or one of these strings');
const claimsSchema = z.record(claimName, claimConditionSchema)
  .describe('Conditions, all of which must hold; a dotted name addresses a nested claim (kubernetes.io.namespace)');

export const jwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(32) })
  .describe('An inline JWKS of public keys only');

const mappingInput = z.strictObject({
  principal: z.string().min(1).max(200).describe('The non-human principal (id or name) a matching workload becomes'),
  claims: claimsSchema,
});
const reason = z.string().max(1000).optional().describe('Why: recorded in the audit log');

export const createIssuerBody = z.strictObject({
  name: nameSchema,
  issuer: url.describe('The exact `iss` the workload JWTs carry (https; plain http only for 127.0.0.1, [::1] or localhost)'),
  jwks_url: url.optional().describe('Where the issuer publishes its JWKS (https, or loopback http); give this or jwks'),
  jwks: jwksSchema.optional(),
  audience: z.string().min(1).max(500).describe('The `aud` the workload JWT must carry'),
  algorithms: z.array(z.string().min(1).max(20)).min(1).max(ASYMMETRIC_ALGORITHMS.length).optional()
    .describe(`Accepted algorithms (asymmetric only); default ${DEFAULT_ALGORITHMS.join(', ')}`),
  mappings: z.array(mappingInput).min(1).max(MAX_MAPPINGS),
  max_token_age_seconds: z.number().int().min(MIN_TOKEN_AGE_SECONDS).max(MAX_TOKEN_AGE_SECONDS).optional()
    .describe('Refuse assertions whose iat is older than this'),
  reason,
});
export type CreateIssuerInput = z.infer<typeof createIssuerBody>;

export const updateIssuerBody = z.strictObject({
  jwks_url: url.optional().describe('Switches the key source to this URL'),
  jwks: jwksSchema.optional().describe('Switches the key source to this inline JWKS'),
  audience: z.string().min(1).max(500).optional(),
  algorithms: z.array(z.string().min(1).max(20)).min(1).max(ASYMMETRIC_ALGORITHMS.length).optional(),
  mappings: z.array(mappingInput).min(1).max(MAX_MAPPINGS).optional().describe('Replaces every mapping'),
  max_token_age_seconds: z.number().int().min(MIN_TOKEN_AGE_SECONDS).max(MAX_TOKEN_AGE_SECONDS).nullable().optional()
    .describe('null removes the limit'),
  reason,
});
export type UpdateIssuerInput = z.infer<typeof updateIssuerBody>;
export type MappingInput = z.infer<typeof mappingInput>;

export const issuerSchema = z.object({
  id: z.string(),
  name: z.string(),
  issuer: z.string(),
  jwks_url: z.string().nullable(),
  jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).nullable(),
  audience: z.string(),
  algorithms: z.array(z.string()),
  mappings: z.array(z.object({ principal: z.object({ id: z.string(), name: z.string() }), claims: z.record(z.string(), claimConditionSchema) })),
  max_token_age_seconds: z.number().nullable(),
  created_at: z.string(),
  created_by: z.string().nullable(),
  updated_at: z.string(),
});
export type IssuerView = z.infer<typeof issuerSchema>;

export const listIssuersQuery = z.strictObject({ ...paginationQuery });
export type ListIssuersQuery = z.infer<typeof listIssuersQuery>;
export const issuerRefParams = z.strictObject({ ref: z.string().min(1).max(200).describe('id or name') });
export const deleteIssuerQuery = z.strictObject({ reason });
