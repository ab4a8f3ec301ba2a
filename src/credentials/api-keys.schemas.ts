import { z } from 'zod';
import { CREDENTIAL_ID_PATTERN } from '../platform/credential-format.js';
import { heldCredentialFields, listHeldQuery, replacedBy } from './held.schemas.js';

// Request and response shapes of /v1/api-keys; the OpenAPI document is generated from them.
// The request bounds here are only the shape: the lifetime a principal may have is decided by the service
// (its risk tier, answered with ttl_too_long and max_seconds), so the schema accepts up to ten years.

export const DEFAULT_API_KEY_TTL_SECONDS = 86_400;
export const MIN_API_KEY_TTL_SECONDS = 60;
/** The longest lifetime the request shape accepts; the principal's risk tier caps it far lower. */
export const API_KEY_TTL_SHAPE_MAX_SECONDS = 10 * 366 * 86_400;
export const DEFAULT_OVERLAP_SECONDS = 3600;
export const MAX_OVERLAP_SECONDS = 7 * 86_400;

/** RFC 6749 §3.3 scope-token, bounded: printable ASCII without space, `"` or `\`. */
const scopeToken = z.string().min(1).max(128).regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a scope is printable ASCII without spaces, quotes or backslashes');
/** An RFC 8707 resource indicator (absolute URI), `urn:custos:resource:<name>` or a bare resource name. */
const indicator = z.string().min(1).max(2048);

export const createApiKeyBody = z.strictObject({
  principal: z.string().min(1).max(200).describe('Principal the key acts as (id or name)'),
  scope: z.array(scopeToken).max(100).optional().describe('Scopes the key carries, a subset of the principal\'s approved scopes (default: all of them)'),
  purpose: z.string().min(1).max(128).optional().describe('One of the principal\'s allowed purposes; may be omitted when it has exactly one'),
  audience: z.array(indicator).min(1).max(20).optional()
    .describe('Resource indicators (RFC 8707) the key is valid for: registered resources or the management API itself (default: the management API)'),
  ttl_seconds: z.number().int().min(MIN_API_KEY_TTL_SECONDS).max(API_KEY_TTL_SHAPE_MAX_SECONDS).default(DEFAULT_API_KEY_TTL_SECONDS)
    .describe(`Lifetime in seconds, at least ${MIN_API_KEY_TTL_SECONDS}; default ${DEFAULT_API_KEY_TTL_SECONDS} (24 hours); at most 90 days (low risk tier), 30 (medium), 7 (high), 1 (critical)`),
  description: z.string().max(500).optional(),
});
export type CreateApiKeyInput = z.infer<typeof createApiKeyBody>;

export const apiKeySchema = z.object({
  ...heldCredentialFields,
  scope: z.array(z.string()),
  purpose: z.string().nullable(),
  audience: z.array(z.string()),
  description: z.string().nullable(),
  replaced_by: replacedBy('key'),
});
export type ApiKeyView = z.infer<typeof apiKeySchema>;
export const createdApiKeySchema = apiKeySchema.extend({ key: z.string().describe('Shown once; store it now') });
export const rotatedApiKeySchema = createdApiKeySchema.extend({
  replaces: apiKeySchema.describe('The old key, valid until its (shortened) expires_at'),
});

export const listApiKeysQuery = listHeldQuery('keys');
export type ListApiKeysQuery = z.infer<typeof listApiKeysQuery>;

export const apiKeyIdParams = z.strictObject({ id: z.string().regex(CREDENTIAL_ID_PATTERN) });
export const rotateApiKeyBody = z.strictObject({
  overlap_seconds: z.number().int().min(0).max(MAX_OVERLAP_SECONDS).default(DEFAULT_OVERLAP_SECONDS)
    .describe(`How long the old key keeps working, 0 to ${MAX_OVERLAP_SECONDS} (7 days); default ${DEFAULT_OVERLAP_SECONDS} (1 hour)`),
}).optional();
export type RotateApiKeyInput = z.infer<typeof rotateApiKeyBody>;
export const revokeApiKeyBody = z.strictObject({ reason: z.string().max(1000).optional() }).optional();
