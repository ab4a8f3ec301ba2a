import { z } from 'zod';
import { RESOURCE_KINDS } from '../../identity/index.js';
import { ACTIONS } from '../contracts.js';
import { purposeSchema, refSchema } from './grants.schemas.js';
import { STATED_AUTH_METHODS, STATED_CREDENTIALS } from './stated-facts.js';

// Shapes of `POST /v1/authz/check` (`custos authz check`): one real decision, recorded like any other, explained in
// full. The facts in the body are stated by the operator (simulated), never seen on a connection; the response and
// the audit say so.

export const checkBody = z.strictObject({
  principal: refSchema.describe('The acting principal (id or name)'),
  action: z.enum(ACTIONS).describe('An asset action, or a management action (then the resource is the Custos API and `resource` is omitted)'),
  resource: refSchema.optional().describe('The registry resource (id or name); required for asset actions'),
  resource_kind: z.enum(RESOURCE_KINDS).optional().describe('Narrows a resource name to one kind'),
  purpose: purposeSchema.optional().describe('Simulated: the purpose bound to the credential (default none)'),
  dpop_bound: z.boolean().optional().describe('Simulated: the credential is DPoP-bound (default false)'),
  source_ip: z.union([z.ipv4(), z.ipv6()]).optional().describe('Simulated: the source address (its network zone applies)'),
  via: z.enum(['direct', 'gateway']).optional().describe('Simulated: direct (default) or through the gateway'),
  auth_method: z.enum(STATED_AUTH_METHODS).optional().describe('Simulated: how the principal authenticated (default none); `operator_token` is an alias of `operator`'),
  credential: z.enum(STATED_CREDENTIALS).optional().describe('Simulated: what it presented (default: what auth_method implies — operator → operator_token, api_key → api_key, none → none, others → access_token)'),
  workload_id: z.string().min(1).max(2048).optional().describe('Simulated: SPIFFE ID or federated subject of an attested workload'),
  delegation_chain: z.array(refSchema).max(10).optional().describe('Simulated: the act chain, outermost first (ids or names); every principal in it must be permitted'),
  token_age_seconds: z.number().int().min(0).max(10 * 366 * 86_400).optional().describe('Simulated: seconds since the credential was issued'),
  device_id: z.string().min(1).max(200).optional().describe('Simulated: the device the request comes from (its pushed posture record applies)'),
  posture_assertion: z.string().min(1).max(16_384).optional().describe('Simulated: a signed posture assertion (JWT) presented with the request; verified like a real one'),
  risk: z.number().int().min(0).max(100).optional().describe('Simulated: the risk score (default 0)'),
});
export type CheckInput = z.infer<typeof checkBody>;

const verdict = z.object({
  principal: z.string(),
  decision: z.enum(['allow', 'deny']),
  permits: z.array(z.string()),
  forbids: z.array(z.string()),
  errors: z.array(z.object({ policy: z.string(), message: z.string() })),
});

export const checkSchema = z.object({
  decision: z.enum(['allow', 'deny']),
  reasons: z.array(z.record(z.string(), z.unknown())).describe('permit / forbid / error / no_permit per principal, or why the request could not be evaluated (refused)'),
  permitted_by: z.array(z.string()).describe('Policies that permitted, over every principal evaluated'),
  forbidden_by: z.array(z.string()).describe('Policies that forbade'),
  errored: z.array(z.object({ policy: z.string(), principal: z.string(), message: z.string() })).describe('Policies that errored (any error makes the decision deny)'),
  verdicts: z.array(verdict).describe('One per principal evaluated: the actor, then each principal of the delegation chain'),
  context: z.record(z.string(), z.unknown()).describe('The Cedar context the decision used'),
  device: z.object({
    posture: z.enum(['compliant', 'noncompliant', 'unknown']),
    id: z.string(),
    source: z.enum(['assertion', 'record', 'none']),
    detail: z.string().optional().describe('Why the posture is what it is: no device presented, no record, expired, another principal\'s, assertion refused: …'),
  }).describe('The device posture the decision saw (context.device), explained'),
  policy_version: z.string(),
  entity_version: z.number(),
  simulated_facts: z.record(z.string(), z.unknown()).describe('What the operator stated about the request: simulated, not seen'),
  stated_by: z.object({ id: z.string().nullable(), name: z.string().nullable() }),
  decision_event_id: z.string().nullable().describe('The authz.decision audit event'),
  check_event_id: z.string().describe('The authz.checked audit event naming the simulated facts'),
});
export type CheckView = z.infer<typeof checkSchema>;
