// Raw cedar-wasm on the bench model: the shipped Custos schema, the shipped guardrails and the bench's user policy
// (below, the same text Custos activates as its policy version), pre-parsed once (`preparsePolicySet`,
// `preparseSchema`), then one `statefulIsAuthorized` per decision with the request's entities — the agent (a
// member of its team), the team, the resource and the empty `Asserted::"none"` the schema's `asserted` attributes
// point to, which is what Custos's PDP passes for such a request — in the Custos schema's shape, with the full
// `RequestContext`.
//
// Two variants, both printed: without the schema (as Custos's PDP calls it: policies are validated against the
// schema when a version is created, not per request) and with it (request and entities validated on every call). The entity and context objects of every request are
// built before the clock starts, so the figure is cedar-wasm's own cost, not the bench's.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Agent, BenchRequest, Model, Resource } from './model.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cedarDir = path.resolve(here, '..', '..', 'src', 'authz', 'cedar');

/** The bench's user policy set: what an administrator of this model writes (guardrails are added by Custos). */
export const USER_POLICY = `// bench/authz: an agent invokes or reads what its team owns, or what allows the purpose of its token.
@id("bench:owning-team")
permit (principal, action in [Custos::Action::"invoke", Custos::Action::"read"], resource)
when { resource has owner_team && principal.team != "" && principal.team == resource.owner_team };

@id("bench:allowed-purpose")
permit (principal, action in [Custos::Action::"invoke", Custos::Action::"read"], resource)
when { resource has purposes && context.purpose != "" && resource.purposes.contains(context.purpose) };
`;

export const schemaText = () => fs.readFileSync(path.join(cedarDir, 'custos.cedarschema'), 'utf8');
export const guardrailsText = () => fs.readFileSync(path.join(cedarDir, 'guardrails.cedar'), 'utf8');

const RANK: Record<string, number> = { public: 0, internal: 1, confidential: 2, restricted: 3 };
const uid = (type: string, id: string) => ({ type: `Custos::${type}`, id });
const ref = (type: string, id: string) => ({ __entity: uid(type, id) });

function agentEntity(a: Agent): cedar.EntityJson {
  return {
    uid: uid('Agent', a.name),
    attrs: {
      id: a.name, name: a.name, kind: 'agent', status: a.status, owner: '', owner_team: a.team, team: a.team, risk_tier: 'medium', risk_rank: 1,
      purposes: a.purposes, scopes: [], environment: 'prod', autonomy: 'supervised', data_ceiling: '', data_ceiling_rank: 3, spiffe_id: '',
      asserted: ref('Asserted', 'none'),
    },
    parents: a.team ? [uid('Team', a.team)] : [],
    tags: {},
  };
}

function resourceEntity(r: Resource): cedar.EntityJson {
  const type = r.kind === 'model' ? 'Model' : 'Dataset';
  return {
    uid: uid(type, r.name),
    attrs: {
      id: r.name, name: r.name, kind: r.kind, owner: '', owner_team: r.ownerTeam, classification: r.classification,
      classification_rank: RANK[r.classification]!, risk_tier: 'medium', risk_rank: 1, purposes: r.purposes, environment: 'prod', uri: '',
      asserted: ref('Asserted', 'none'),
    },
    parents: [],
    tags: {},
  };
}

const teamEntity = (t: string): cedar.EntityJson => ({ uid: uid('Team', t), attrs: { id: t, name: t }, parents: [] });
const assertedEntity = (id: string): cedar.EntityJson => ({ uid: uid('Asserted', id), attrs: {}, parents: [], tags: {} });

/** The server-built context an agent's request carries (the shape of the schema's RequestContext). */
export function requestContext(r: BenchRequest, epochSeconds: number): cedar.Context {
  return {
    purpose: r.purpose,
    delegation: { depth: 0, chain: [] },
    auth: { method: 'private_key_jwt', credential: 'access_token', dpop_bound: r.dpop, token_age_seconds: 30 },
    provenance: { source_ip: '10.0.0.7', zone: '', via: 'gateway', workload_id: '', attested: false },
    device: { posture: 'unknown', id: '', source: 'none' },
    time: { epoch_seconds: epochSeconds, hour: 12, weekday: 'wed' },
    risk: { score: 0 },
    request: ref('Asserted', 'none'),
  };
}

export interface CedarCall { call: cedar.StatefulAuthorizationCall }

export interface RawCedar {
  name: string;
  /** One decision; true = allow. */
  decide(i: number): boolean;
}

let loaded = false;
/** Pre-parses the schema and the policy set (guardrails + user policy) once. */
function preparse(): void {
  if (loaded) return;
  const schema = cedar.preparseSchema('bench-custos', schemaText());
  if (schema.type !== 'success') throw new Error(`cedar schema: ${JSON.stringify(schema.errors)}`);
  const policies = cedar.preparsePolicySet('bench-policies', { staticPolicies: `${guardrailsText()}\n${USER_POLICY}` });
  if (policies.type !== 'success') throw new Error(`cedar policies: ${JSON.stringify(policies.errors)}`);
  const valid = cedar.validate({ schema: schemaText(), policies: { staticPolicies: `${guardrailsText()}\n${USER_POLICY}` } });
  if (valid.type !== 'success' || valid.validationErrors.length) throw new Error(`the bench policy does not validate against the Custos schema: ${JSON.stringify(valid)}`);
  loaded = true;
}

/** Raw cedar-wasm over the model's requests; `withSchema` validates each request and its entities against the schema. */
export function rawCedar(model: Model, withSchema: boolean): RawCedar {
  preparse();
  const now = Math.floor(Date.now() / 1000);
  const calls: cedar.StatefulAuthorizationCall[] = model.requests.map((r) => ({
    principal: uid('Agent', r.agent.name),
    action: uid('Action', r.action),
    resource: uid(r.resource.kind === 'model' ? 'Model' : 'Dataset', r.resource.name),
    context: requestContext(r, now),
    entities: [
      agentEntity(r.agent), ...(r.agent.team ? [teamEntity(r.agent.team)] : []), resourceEntity(r.resource),
      assertedEntity('none'),
    ],
    preparsedPolicySetId: 'bench-policies',
    ...(withSchema ? { preparsedSchemaName: 'bench-custos', validateRequest: true } : {}),
  }));
  return {
    name: withSchema ? 'cedar-wasm statefulIsAuthorized (schema)' : 'cedar-wasm statefulIsAuthorized (no schema)',
    decide(i) {
      const answer = cedar.statefulIsAuthorized(calls[i % calls.length]!);
      if (answer.type !== 'success') throw new Error(`cedar-wasm: ${JSON.stringify(answer.errors)}`);
      // Custos's rule, kept here too: an erroring policy makes the decision deny.
      return answer.response.decision === 'allow' && answer.response.diagnostics.errors.length === 0;
    },
  };
}
