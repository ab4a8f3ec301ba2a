import { z } from 'zod';
import { paginationQuery } from '../../platform/http/pagination.js';
import { MAX_APP_SCHEMA_TEXT, MAX_POLICY_TEXT } from './validation.js';

// Request and response shapes of /v1/policies (versioned user policy sets, their tests, activation, rollback and
// impact); the OpenAPI document is generated from them. Cedar and YAML are carried as text and checked by the
// service (validation.ts, test-cases.ts), whose refusals list every problem with its line and column.

export const MAX_TESTS_TEXT = 512 * 1024;
export const DEFAULT_IMPACT_LIMIT = 1000;
export const MAX_IMPACT_LIMIT = 5000;

const policiesText = z.string().min(1).max(MAX_POLICY_TEXT).describe(`Cedar policies (user policies only: the built-in guardrails and grants are always added), at most ${MAX_POLICY_TEXT} characters`);
const testsText = z.string().max(MAX_TESTS_TEXT).describe('Test cases in YAML (docs/policies.md): request → expected decision');
const appSchemaText = z.string().min(1).max(MAX_APP_SCHEMA_TEXT).describe('A Cedar schema fragment in namespace App declaring an application\'s own actions (applications that use Custos as their decision point); it extends the shipped schema for this version');
const reason = z.string().min(1).max(1000).describe('Why: recorded in the audit log');
const since = z.iso.datetime({ offset: true }).optional().describe('Replay decisions made at or after this time (ISO 8601)');
const limit = z.number().int().min(1).max(MAX_IMPACT_LIMIT).optional().describe(`How many recent decisions to replay, newest first (default ${DEFAULT_IMPACT_LIMIT})`);

export const createPolicyBody = z.strictObject({
  policies: policiesText,
  tests: testsText.optional(),
  app_schema: appSchemaText.optional(),
  description: z.string().max(2000).optional(),
  reason: reason.optional(),
});
export type CreatePolicyInput = z.infer<typeof createPolicyBody>;

export const activateBody = z.strictObject({ reason });
export const rollbackBody = z.strictObject({
  reason,
  to: z.number().int().min(1).optional().describe('The version to return to (one that was active before); default: the one active most recently before the current'),
});
export type RollbackInput = z.infer<typeof rollbackBody>;

export const impactBody = z.strictObject({ policies: policiesText, app_schema: appSchemaText.optional(), since, limit });
export const versionImpactBody = z.strictObject({ since, limit });
export type ImpactInput = { since?: string; limit?: number };

export const versionParams = z.strictObject({ version: z.coerce.number().int().min(1).max(2_147_483_647).describe('The version number') });
export const listQuery = z.strictObject({
  ...paginationQuery,
  status: z.enum(['candidate', 'active', 'superseded', 'rejected']).optional(),
});
export type ListQuery = z.infer<typeof listQuery>;

export const problemSchema = z.object({
  message: z.string(),
  line: z.number().nullable(),
  column: z.number().nullable(),
  policy: z.string().nullable().optional(),
  case: z.string().optional(),
});

export const caseResultSchema = z.object({
  name: z.string(),
  expect: z.enum(['allow', 'deny']),
  got: z.enum(['allow', 'deny']),
  passed: z.boolean(),
  reasons: z.array(z.string()),
});
export const testReportSchema = z.object({
  passed: z.number(),
  failed: z.number(),
  results: z.array(caseResultSchema),
  warnings: z.array(z.string()).describe('Deny cases that passed only because the request was refused as unknown (refused:unknown_*): they test no policy'),
});
export type TestReport = z.infer<typeof testReportSchema>;

export const versionSummarySchema = z.object({
  version: z.number(),
  status: z.enum(['candidate', 'active', 'superseded', 'rejected']),
  description: z.string().nullable(),
  sha256: z.string().describe('SHA-256 of the Cedar text, hex'),
  created_at: z.string(),
  created_by: z.string().nullable(),
  activated_at: z.string().nullable().describe('When it last became active'),
  activated_by: z.string().nullable(),
  status_reason: z.string().nullable().describe('Why it has its status: for active and superseded versions the reason given when it was activated or rolled back to; for a rejected one why the activation was refused (and the reason given for trying)'),
});
export type VersionSummary = z.infer<typeof versionSummarySchema>;

export const versionSchema = versionSummarySchema.extend({
  policies: z.string(),
  tests: z.string().nullable(),
  app_schema: z.string().nullable(),
  policy_ids: z.array(z.string()),
  test_count: z.number(),
  created_by_name: z.string().nullable().describe('The name of the principal who created it, when the registry still knows it'),
  activated_by_name: z.string().nullable().describe('The name of the principal who last activated it, when the registry still knows it'),
});
export type VersionView = z.infer<typeof versionSchema>;

export const createdSchema = versionSchema.extend({ test_report: testReportSchema.describe('The tests run against the current registry (informational: activation runs them again)') });
export const activatedSchema = z.object({
  active: versionSchema,
  previous: z.number().nullable().describe('The version that was active before'),
  test_report: testReportSchema,
});
export type Activated = z.infer<typeof activatedSchema>;

export const flipSchema = z.object({
  event_id: z.string(),
  time: z.string(),
  principal: z.string().describe('The principal as the decision named it (id or name)'),
  principal_name: z.string().nullable().describe('Its name in the registry today (null when the registry no longer knows it)'),
  action: z.string(),
  resource: z.string(),
  recorded: z.enum(['allow', 'deny']).nullable().describe('The decision as it was made then'),
  before: z.enum(['allow', 'deny']).describe('The active policies now, on the recorded request and context'),
  after: z.enum(['allow', 'deny']).describe('The candidate, on the same request and context'),
  reasons_before: z.array(z.string()),
  reasons_after: z.array(z.string()),
});
export const impactSchema = z.object({
  candidate: z.string(),
  replayed: z.number(),
  skipped: z.number().describe('Decisions not replayed: explanations on operator-stated facts (custos authz check), or events recorded without their request'),
  flips: z.array(flipSchema),
});
export type Impact = z.infer<typeof impactSchema>;
