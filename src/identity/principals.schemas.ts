import { z } from 'zod';
import { paginationQuery, pageSchema } from '../platform/http/pagination.js';
import { isKindEntry, kindOfEntry, MAX_DELEGATES } from './delegation.js';
import {
  boolQuery, labelFilter, labelPatchFields, labelsSchema, namePrefix, nameSchema, nullable, reasonSchema, refSchema, refView, text, tokenList,
} from './fields.schemas.js';
import {
  AUTONOMY_LEVELS, CLASSIFICATIONS, ENVIRONMENTS, LIFECYCLE_ACTIONS, PRINCIPAL_KINDS, PRINCIPAL_STATUSES, RISK_TIERS,
} from './taxonomy.js';

// Request and response shapes. Objects are strict (unknown fields are rejected) and every string is bounded.

export const externalIdsSchema = z.strictObject({
  spiffe_id: z.string().max(2048).regex(/^spiffe:\/\/[a-z0-9._-]+(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*$/, 'must be a SPIFFE ID: spiffe://trust-domain/path').optional(),
  cloud: z.array(z.strictObject({
    provider: z.enum(['aws', 'gcp', 'azure', 'kubernetes', 'other']),
    id: z.string().min(1).max(2048),
  })).max(20).optional(),
});

/** Who may act for the principal through token exchange: principals (id or name) and `kind:<kind>` entries. */
export const mayDelegateToSchema = z.array(
  refSchema.refine((e) => !isKindEntry(e) || kindOfEntry(e) !== undefined, `a kind: entry names a principal kind: ${PRINCIPAL_KINDS.map((k) => `kind:${k}`).join(', ')}`),
).max(MAX_DELEGATES)
  .describe('Who may act for this principal through token exchange (RFC 8693): principals by id or name, and kind:<kind> entries (e.g. kind:agent) admitting every principal of that kind; on PATCH replaces the list, [] clears it');

const taxonomy = {
  display_name: text(200).optional(),
  description: text(4000).optional(),
  team: refSchema.optional().describe('Home team (id or name): where the principal is filed, not who owns it; owners may only pick teams they belong to'),
  scopes: tokenList.optional().describe('Approved scopes, e.g. model:invoke'),
  purposes: tokenList.optional().describe('Allowed purposes, e.g. customer-support'),
  autonomy: z.enum(AUTONOMY_LEVELS).optional(),
  platform: text(100).optional(),
  framework: text(100).optional(),
  environment: z.enum(ENVIRONMENTS).optional(),
  data_ceiling: z.enum(CLASSIFICATIONS).optional().describe('Highest data classification it may touch'),
  risk_tier: z.enum(RISK_TIERS).optional(),
  external_ids: externalIdsSchema.optional(),
  labels: labelsSchema.optional(),
  may_delegate_to: mayDelegateToSchema.optional(),
};

export const createPrincipalBody = z.strictObject({
  name: nameSchema,
  kind: z.enum(PRINCIPAL_KINDS),
  owner: refSchema.optional().describe('Owning human principal (id or name)'),
  owner_team: refSchema.optional().describe('Owning team (id or name); one of owner or owner_team is required for non-humans'),
  status: z.enum(['proposed', 'active']).optional().describe('Initial status; non-humans default to proposed'),
  reason: reasonSchema,
  ...taxonomy,
});
export type CreatePrincipalInput = z.infer<typeof createPrincipalBody>;

export const updatePrincipalBody = z.strictObject({
  display_name: nullable(text(200)),
  description: nullable(text(4000)),
  owner: nullable(refSchema),
  owner_team: nullable(refSchema),
  team: nullable(refSchema).describe('Home team (id or name); null clears it'),
  scopes: tokenList.optional(),
  purposes: tokenList.optional(),
  autonomy: nullable(z.enum(AUTONOMY_LEVELS)),
  platform: nullable(text(100)),
  framework: nullable(text(100)),
  environment: nullable(z.enum(ENVIRONMENTS)),
  data_ceiling: nullable(z.enum(CLASSIFICATIONS)),
  risk_tier: z.enum(RISK_TIERS).optional(),
  external_ids: externalIdsSchema.optional(),
  may_delegate_to: mayDelegateToSchema.optional(),
  ...labelPatchFields,
  review_due_at: z.iso.datetime().optional(),
  expected_version: z.number().int().min(1).optional().describe('Optimistic concurrency: reject if the principal changed since'),
  reason: reasonSchema,
});
export type UpdatePrincipalInput = z.infer<typeof updatePrincipalBody>;

export const lifecycleParams = z.strictObject({ ref: refSchema, action: z.enum(Object.keys(LIFECYCLE_ACTIONS) as [keyof typeof LIFECYCLE_ACTIONS]) });

const bool = boolQuery;
export const listPrincipalsQuery = z.strictObject({
  ...paginationQuery,
  kind: z.enum(PRINCIPAL_KINDS).optional(),
  status: z.enum(PRINCIPAL_STATUSES).optional(),
  owner: refSchema.optional(),
  owner_team: refSchema.optional(),
  team: refSchema.optional().describe('Home team (not membership: see GET /v1/teams?member=)'),
  environment: z.enum(ENVIRONMENTS).optional(),
  risk_tier: z.enum(RISK_TIERS).optional(),
  autonomy: z.enum(AUTONOMY_LEVELS).optional(),
  orphaned: bool.optional(),
  review_overdue: bool.optional().describe('Only principals whose review_due_at has passed'),
  label: labelFilter,
  name_prefix: namePrefix,
  format: z.enum(['json', 'csv']).default('json'),
});
export type ListPrincipalsQuery = z.infer<typeof listPrincipalsQuery>;

export const principalSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(PRINCIPAL_KINDS),
  display_name: z.string().nullable(),
  description: z.string().nullable(),
  status: z.enum(PRINCIPAL_STATUSES),
  owner: refView.nullable(),
  owner_team: refView.nullable(),
  team: refView.nullable().describe('Home team'),
  scopes: z.array(z.string()),
  purposes: z.array(z.string()),
  autonomy: z.string().nullable(),
  platform: z.string().nullable(),
  framework: z.string().nullable(),
  environment: z.string().nullable(),
  data_ceiling: z.string().nullable(),
  risk_tier: z.string(),
  external_ids: z.record(z.string(), z.unknown()),
  labels: z.record(z.string(), z.string()),
  may_delegate_to: z.array(z.string()).describe('Who may act for it through token exchange: principal names and kind:<kind> entries'),
  orphaned: z.boolean(),
  review_due_at: z.string().nullable(),
  status_reason: z.string().nullable(),
  created_at: z.string(),
  created_by: z.string().nullable(),
  updated_at: z.string(),
  version: z.number(),
});
export type PrincipalView = z.infer<typeof principalSchema>;
export const principalPage = pageSchema(principalSchema);
