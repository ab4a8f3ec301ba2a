import { z } from 'zod';
import { RESOURCE_KINDS } from '../../identity/index.js';
import { ASSET_ACTIONS } from '../contracts.js';
import { purposeSchema, refSchema } from './grants.schemas.js';
import { STATED_AUTH_METHODS } from './stated-facts.js';

// Shapes of `GET /v1/principals/{ref}/access`: what a principal can do on which registry resources now, each
// answer a decision of the PDP (guardrails, policies and grants), for reviews and blast radius. Pages walk the
// registry's resources (`limit` resources per page); a page lists only those with at least one allowed action or
// an erroring policy, so it may hold fewer items than `limit` while `next_cursor` says there are more to walk.

/** The access enumeration evaluates limit × 10 actions per page, so its pages are smaller than other lists'. */
export const MAX_ACCESS_PAGE = 100;
const boolQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

export const accessParams = z.strictObject({ ref: refSchema });

export const accessQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_ACCESS_PAGE).default(25).describe(`Resources walked per page, 1-${MAX_ACCESS_PAGE}`),
  cursor: z.string().max(400).optional().describe('Opaque cursor from the previous page\'s next_cursor'),
  resource_kind: z.enum(RESOURCE_KINDS).optional().describe('Only resources of this kind'),
  purpose: purposeSchema.optional().describe('Simulated: the request carries this purpose (default none)'),
  dpop_bound: boolQuery.optional().describe('Simulated: the credential is DPoP-bound (default false)'),
  source_ip: z.union([z.ipv4(), z.ipv6()]).optional().describe('Simulated: the request comes from this address (its network zone applies)'),
  via: z.enum(['direct', 'gateway']).optional().describe('Simulated: direct (default) or through the gateway'),
  auth_method: z.enum(STATED_AUTH_METHODS).optional().describe('Simulated: how the principal authenticated (default none)'),
  device_id: z.string().min(1).max(200).optional().describe('Simulated: the request comes from this device (its pushed posture record applies)'),
});
export type AccessQuery = z.infer<typeof accessQuery>;

const actionEnum = z.enum(ASSET_ACTIONS);

export const accessSchema = z.object({
  principal: z.object({ id: z.string(), name: z.string(), kind: z.string(), status: z.string() }),
  simulated_facts: z.record(z.string(), z.unknown()).describe('What the query stated about the request (simulated, not seen); empty: no special facts'),
  evaluated_at: z.string(),
  versions: z.array(z.object({ policy: z.string(), entity: z.number() })).describe('The policy and entity versions the decisions used (more than one if they changed during the walk)'),
  items: z.array(z.object({
    resource: z.object({ id: z.string(), name: z.string(), kind: z.string(), classification: z.string() }),
    allowed: z.array(z.object({ action: actionEnum, policies: z.array(z.string()).describe('The policies that permitted it (a grant appears as grant:<id>)') })),
    errors: z.array(z.object({ action: actionEnum, policy: z.string(), message: z.string() })).describe('Policies that errored (such a decision is deny)'),
  })),
  resources_walked: z.number().int(),
  next_cursor: z.string().nullable(),
});
export type AccessView = z.infer<typeof accessSchema>;
