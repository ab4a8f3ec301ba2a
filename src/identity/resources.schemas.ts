import { z } from 'zod';
import { paginationQuery } from '../platform/http/pagination.js';
import {
  labelFilter, labelPatchFields, labelsSchema, namePrefix, nameSchema, nullable, reasonSchema, refSchema, refView, text, tokenList,
} from './fields.schemas.js';
import { MAX_URI_LENGTH, resourceUriProblem } from './audience.js';
import { CLASSIFICATIONS, RESOURCE_KINDS, RISK_TIERS } from './taxonomy.js';

// Request and response shapes of /v1/resources: the catalog of governed AI assets.

/** The audience identifier tokens for the resource carry (RFC 8707 resource indicator); rules in audience.ts. */
export const resourceUriSchema = z.string().min(1).max(MAX_URI_LENGTH).superRefine((value, ctx) => {
  const problem = resourceUriProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
}).describe('Audience identifier tokens for it carry (RFC 8707 resource indicator): an absolute http(s) URI or a urn:, unique across resources, compared exactly as written; without one the audience is urn:custos:resource:<name>');
const serverSchema = refSchema.describe('The non-human principal serving the resource (id or name): it may introspect tokens addressed to it');

export const createResourceBody = z.strictObject({
  name: nameSchema,
  kind: z.enum(RESOURCE_KINDS),
  display_name: text(200).optional(),
  description: text(4000).optional(),
  owner: refSchema.optional().describe('Owning human principal (id or name)'),
  owner_team: refSchema.optional().describe('Owning team (id or name); one of owner or owner_team is required'),
  classification: z.enum(CLASSIFICATIONS).default('internal'),
  risk_tier: z.enum(RISK_TIERS).default('medium'),
  purposes: tokenList.optional().describe('Purposes the resource may be used for'),
  labels: labelsSchema.optional(),
  parent: refSchema.optional().describe('Parent resource (id or name), e.g. the project a dataset belongs to; owners may only pick resources they own'),
  uri: resourceUriSchema.optional(),
  server: serverSchema.optional(),
  reason: reasonSchema,
});
export type CreateResourceInput = z.infer<typeof createResourceBody>;

export const updateResourceBody = z.strictObject({
  display_name: nullable(text(200)),
  description: nullable(text(4000)),
  owner: refSchema.optional(),
  owner_team: refSchema.optional(),
  classification: z.enum(CLASSIFICATIONS).optional(),
  risk_tier: z.enum(RISK_TIERS).optional(),
  purposes: tokenList.optional(),
  ...labelPatchFields,
  parent: nullable(refSchema).describe('Move under another resource; null detaches it'),
  uri: nullable(resourceUriSchema).describe('Audience identifier (RFC 8707); null clears it (the audience becomes urn:custos:resource:<name>)'),
  server: nullable(serverSchema).describe('The non-human principal serving the resource (id or name); null clears it'),
  reason: reasonSchema,
});
export type UpdateResourceInput = z.infer<typeof updateResourceBody>;

export const resourceSchema = z.object({
  id: z.string(), name: z.string(), kind: z.string(), display_name: z.string().nullable(), description: z.string().nullable(),
  owner: refView.nullable(), owner_team: refView.nullable(), classification: z.string(), risk_tier: z.string(), purposes: z.array(z.string()),
  labels: z.record(z.string(), z.string()), parent: refView.nullable(),
  uri: z.string().nullable().describe('Its own audience URI, if set'),
  audience: z.string().describe('What tokens for it carry in aud: uri if set, else urn:custos:resource:<name>'),
  server: refView.nullable().describe('The principal serving it'),
  created_at: z.string(), updated_at: z.string(),
});
export type ResourceView = z.infer<typeof resourceSchema>;

export const listResourcesQuery = z.strictObject({
  ...paginationQuery,
  kind: z.enum(RESOURCE_KINDS).optional(),
  classification: z.enum(CLASSIFICATIONS).optional(),
  parent: refSchema.optional(),
  owner: refSchema.optional(),
  owner_team: refSchema.optional(),
  label: labelFilter,
  name_prefix: namePrefix,
});
export type ListResourcesQuery = z.infer<typeof listResourcesQuery>;
export const deleteResourceQuery = z.strictObject({ reason: reasonSchema });
