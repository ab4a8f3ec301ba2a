import { z } from 'zod';

// Request and response shapes of the OpenID AuthZEN Authorization API 1.0 (final), §5–§8 and the HTTPS binding
// (§10). Two deliberate differences from the rest of the Custos API, both required by the specification:
// - objects are NOT strict: "receivers MUST ignore unknown fields" (§10.1.1), so unknown members are dropped (zod's
//   default), never refused and never passed on;
// - `properties` and `context` hold any JSON (the caller's own attributes). They are bounded here (members per
//   object, serialised size) so one request cannot make the decision point or the audit log carry megabytes.
// Every string is bounded; a missing required member or a wrong type is 400 (§10.1.1).

export const MAX_BATCH = 100;
export const MAX_PAGE_LIMIT = 500;
export const DEFAULT_PAGE_LIMIT = 50;
const MAX_MEMBERS = 64;
const MAX_JSON_CHARS = 16_384;

const typeSchema = z.string().min(1).max(128);
const idSchema = z.string().min(1).max(1024);

/** Caller-asserted attributes: any JSON values, at most 64 members and 16 KiB serialised. */
export const assertedSchema = z.record(z.string().min(1).max(256), z.unknown())
  .refine((o) => Object.keys(o).length <= MAX_MEMBERS, `at most ${MAX_MEMBERS} members`)
  .refine((o) => JSON.stringify(o).length <= MAX_JSON_CHARS, `at most ${MAX_JSON_CHARS} characters of JSON`);

export const subjectSchema = z.object({
  type: typeSchema.describe('A principal kind (human, agent, service_account, workload, training_job, pipeline; "user" means human)'),
  id: idSchema.describe('Registry id, name, or the `authzen_id` label of the principal'),
  properties: assertedSchema.optional().describe('Asserted by the caller (policies see `principal.asserted`); `token` is a Custos access token the PEP received and is verified, never asserted'),
});
export const resourceSchema = z.object({
  type: typeSchema.describe('A Custos resource kind (model, dataset, …), `custos_api`, or an application\'s own type'),
  id: idSchema,
  properties: assertedSchema.optional().describe('Asserted by the caller (policies see `resource.asserted`)'),
});
export const actionSchema = z.object({
  name: z.string().min(1).max(256),
  properties: assertedSchema.optional(),
});
export const contextSchema = assertedSchema.describe('Asserted by the caller (policies see `context.request`)');

/** One Access Evaluation request (§6.1). `subject` may be omitted only by a principal asking about itself. */
export const evaluationBody = z.object({
  subject: subjectSchema.optional(),
  action: actionSchema,
  resource: resourceSchema,
  context: contextSchema.optional(),
});
export type EvaluationInput = z.infer<typeof evaluationBody>;

export const SEMANTICS = ['execute_all', 'deny_on_first_deny', 'permit_on_first_permit'] as const;
export type Semantic = (typeof SEMANTICS)[number];

/**
 * Access Evaluations (§7.1): the top-level members are defaults for each item. Items are checked one by one after
 * the defaults are applied: an item that is still incomplete is a `decision: false` with an error in its context,
 * not a 400 for the whole batch (the certification scenario's reading of §7.3).
 */
export const evaluationsBody = z.object({
  subject: subjectSchema.optional(),
  action: actionSchema.optional(),
  resource: resourceSchema.optional(),
  context: contextSchema.optional(),
  evaluations: z.array(z.record(z.string(), z.unknown())).max(MAX_BATCH, `at most ${MAX_BATCH} evaluations per request`).optional(),
  options: z.object({ evaluations_semantic: z.enum(SEMANTICS).optional() }).optional(),
});
export type EvaluationsInput = z.infer<typeof evaluationsBody>;

export const pageRequestSchema = z.object({
  token: z.string().min(1).max(1000).optional().describe('next_token of the previous page'),
  limit: z.number().int().min(1).max(MAX_PAGE_LIMIT).optional().describe(`Results per page, 1-${MAX_PAGE_LIMIT} (default ${DEFAULT_PAGE_LIMIT})`),
});

const searchedSubject = subjectSchema.extend({ id: idSchema.optional().describe('Ignored (§8.4)') });
const searchedResource = resourceSchema.extend({ id: idSchema.optional().describe('Ignored (§8.5)') });

export const subjectSearchBody = z.object({
  subject: searchedSubject, action: actionSchema, resource: resourceSchema, context: contextSchema.optional(), page: pageRequestSchema.optional(),
});
export const resourceSearchBody = z.object({
  subject: subjectSchema.optional(), action: actionSchema, resource: searchedResource, context: contextSchema.optional(), page: pageRequestSchema.optional(),
});
export const actionSearchBody = z.object({
  subject: subjectSchema.optional(), resource: resourceSchema, context: contextSchema.optional(), page: pageRequestSchema.optional(),
});
export type SubjectSearchInput = z.infer<typeof subjectSearchBody>;
export type ResourceSearchInput = z.infer<typeof resourceSearchBody>;
export type ActionSearchInput = z.infer<typeof actionSearchBody>;

export const decisionSchema = z.object({
  decision: z.boolean(),
  context: z.record(z.string(), z.unknown()).optional(),
});
export type DecisionOut = z.infer<typeof decisionSchema>;

export const evaluationsResponse = z.object({
  decision: z.boolean().optional(),
  context: z.record(z.string(), z.unknown()).optional(),
  evaluations: z.array(decisionSchema).optional(),
});

const pageResponse = z.object({ next_token: z.string(), count: z.number().int() });
export const entityResult = z.object({ type: z.string(), id: z.string() });
export const subjectSearchResponse = z.object({ page: pageResponse, results: z.array(entityResult) });
export const resourceSearchResponse = z.object({ page: pageResponse, results: z.array(entityResult) });
export const actionSearchResponse = z.object({ page: pageResponse, results: z.array(z.object({ name: z.string() })) });

export const configurationSchema = z.object({
  policy_decision_point: z.string(),
  access_evaluation_endpoint: z.string(),
  access_evaluations_endpoint: z.string(),
  search_subject_endpoint: z.string(),
  search_resource_endpoint: z.string(),
  search_action_endpoint: z.string(),
});
