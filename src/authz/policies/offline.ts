// `custos policy test` without a server: the test cases of a policy repository evaluated with Cedar directly,
// against entities described in a file of the repository (docs/policies.md, "Entities for offline tests").
//
// Rules (the decision point's, pdp.ts, so a case that passes here passes at activation when the registry holds the
// same entities):
// - the policy set is the built-in guardrails plus the policies under test (no grants: grants live on a server);
// - unknown principal, chain principal or resource: deny (refused);
// - ANY policy error makes a principal's verdict deny; every principal of the delegation chain must be allowed too;
// - the context is the case's (test-cases.ts), asserted values as `Asserted` entities.
// The entities file is YAML (or JSON) of `teams`, `principals` and `resources` in the registry's own terms (names,
// kinds, statuses, classifications, purposes, labels, parents); they become Cedar entities through entities.ts, the
// same functions the snapshot uses.
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { APP_NAMESPACE, authorize, GUARDRAILS, preparse, splitPolicies, type CedarContext, type EntityJson } from '../cedar.js';
import { ACTIONS, type EntityUid } from '../contracts.js';
import {
  ACTION_TYPE, API_ENTITY, API_UID, appResourceEntity, assertedEntity, NOTHING_ASSERTED_ENTITY, principalEntity, PRINCIPAL_TYPES,
  resourceEntity, RESOURCE_TYPES, teamEntity, withAsserted,
} from '../entities.js';
import { composePolicySet } from '../policy-set.js';
import { caseContext, caseRequest, TestCasesError, yamlProblems, type CaseResult, type InputProblem, type TestCase } from './test-cases.js';

const name = z.string().min(1).max(200);
const names = z.array(name).max(1000);
const labels = z.record(z.string().min(1).max(100), z.string().max(500));

const principalSchema = z.strictObject({
  name, id: name.optional(),
  kind: z.enum(Object.keys(PRINCIPAL_TYPES) as [string, ...string[]]),
  status: z.enum(['proposed', 'active', 'suspended', 'decommissioned']).default('active'),
  owner: name.optional(), owner_team: name.optional(), team: name.optional(), member_of: names.default([]),
  risk_tier: z.enum(['low', 'medium', 'high', 'critical']).default('medium'),
  purposes: names.default([]), scopes: names.default([]),
  environment: z.enum(['dev', 'staging', 'prod']).optional(),
  autonomy: z.enum(['assistive', 'supervised', 'autonomous']).optional(),
  data_ceiling: z.enum(['public', 'internal', 'confidential', 'restricted']).optional(),
  spiffe_id: z.string().min(1).max(2000).optional(),
  labels: labels.default({}),
});
const resourceSchema = z.strictObject({
  name, id: name.optional(),
  kind: z.enum(Object.keys(RESOURCE_TYPES) as [string, ...string[]]),
  owner: name.optional(), owner_team: name.optional(),
  classification: z.enum(['public', 'internal', 'confidential', 'restricted']).default('internal'),
  risk_tier: z.enum(['low', 'medium', 'high', 'critical']).default('medium'),
  purposes: names.default([]),
  uri: z.string().min(1).max(2000).optional(),
  labels: labels.default({}),
  parent: name.optional().describe('the parent resource\'s name'),
});
const entitiesFileSchema = z.strictObject({
  teams: z.array(z.strictObject({ name, id: name.optional() })).max(10_000).default([]),
  principals: z.array(principalSchema).max(10_000).default([]),
  resources: z.array(resourceSchema).max(10_000).default([]),
});
export type EntitiesFile = z.infer<typeof entitiesFileSchema>;

interface OfflinePrincipal { id: string; name: string; kind: string; entities: EntityJson[] }
interface OfflineResource { id: string; name: string; kind: string; entities: EntityJson[] }

export interface OfflineEntities {
  principal(ref: string): OfflinePrincipal | undefined;
  resource(ref: string, kind?: string): OfflineResource | undefined;
}

/** Parses an entities file (YAML or JSON); throws TestCasesError with line and column on a bad one. */
export function parseEntitiesFile(source: string): OfflineEntities {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length) throw new TestCasesError(yamlProblems(doc, lines, 'entities: '));
  const parsed = entitiesFileSchema.safeParse(doc.toJS({ maxAliasCount: 100 }) ?? {});
  if (!parsed.success) {
    throw new TestCasesError(parsed.error.issues.slice(0, 50).map((i): InputProblem => ({ message: `entities: ${i.path.map(String).join('.')}: ${i.message}`, line: null, column: null })));
  }
  return buildEntities(parsed.data);
}

export function buildEntities(file: EntitiesFile): OfflineEntities {
  const problems: InputProblem[] = [];
  const teams = new Map(file.teams.map((t) => [t.name, teamEntity(t.id ?? t.name, t.name)]));
  const team = (n: string | undefined, where: string) => {
    if (n !== undefined && !teams.has(n)) problems.push({ message: `entities: ${where} names team '${n}', which is not in teams`, line: null, column: null });
    return n ?? null;
  };
  const principals = new Map<string, OfflinePrincipal>();
  for (const p of file.principals) {
    const id = p.id ?? p.name;
    const entity = principalEntity({
      id, name: p.name, kind: p.kind, status: p.status, ownerName: p.owner ?? null, ownerTeamName: team(p.owner_team, `principal '${p.name}'`),
      teamName: team(p.team, `principal '${p.name}'`), riskTier: p.risk_tier, purposes: p.purposes, scopes: p.scopes,
      environment: p.environment ?? null, autonomy: p.autonomy ?? null, dataCeiling: p.data_ceiling ?? null, spiffeId: p.spiffe_id ?? null,
      labels: p.labels, memberOf: p.member_of.map((m) => team(m, `principal '${p.name}'`)!),
    });
    if (principals.has(p.name)) problems.push({ message: `entities: two principals are named '${p.name}'`, line: null, column: null });
    const teamEntities = p.member_of.map((m) => teams.get(m)).filter((t): t is EntityJson => t !== undefined);
    principals.set(p.name, { id, name: p.name, kind: p.kind, entities: [entity, ...teamEntities] });
  }
  const byName = new Map(file.resources.map((r) => [r.name, r]));
  const resourceEntityOf = new Map<string, EntityJson>();
  for (const r of file.resources) {
    const parent = r.parent === undefined ? undefined : byName.get(r.parent);
    if (r.parent !== undefined && !parent) problems.push({ message: `entities: resource '${r.name}' has parent '${r.parent}', which is not in resources`, line: null, column: null });
    resourceEntityOf.set(r.name, resourceEntity({
      id: r.id ?? r.name, name: r.name, kind: r.kind, ownerName: r.owner ?? null, ownerTeamName: team(r.owner_team, `resource '${r.name}'`),
      classification: r.classification, riskTier: r.risk_tier, purposes: r.purposes, uri: r.uri ?? null, labels: r.labels,
      parent: parent ? { name: parent.name, kind: parent.kind } : null,
    }));
  }
  const resources = new Map<string, OfflineResource>();
  for (const r of file.resources) {
    const chain: EntityJson[] = [];
    const seen = new Set<string>();
    for (let at: typeof r | undefined = r; at && !seen.has(at.name); at = at.parent ? byName.get(at.parent) : undefined) {
      seen.add(at.name);
      chain.push(resourceEntityOf.get(at.name)!);
    }
    resources.set(r.name, { id: r.id ?? r.name, name: r.name, kind: r.kind, entities: chain });
  }
  if (problems.length) throw new TestCasesError(problems);
  const find = <T extends { id: string; name: string }>(map: Map<string, T>, ref: string) => map.get(ref) ?? [...map.values()].find((v) => v.id === ref);
  return {
    principal: (ref) => find(principals, ref),
    resource: (ref, kind) => {
      const r = find(resources, ref);
      return r && (kind === undefined || r.kind === kind) ? r : undefined;
    },
  };
}

let setCounter = 0;

/**
 * Evaluates test cases against `policies` (user Cedar text) and `entities`, without a server. `appActions` are the
 * actions the version's application schema declares (knownActions in validation.ts).
 */
export function runCasesOffline(policies: string, cases: TestCase[], entities: OfflineEntities, appActions: ReadonlySet<string> = new Set()): CaseResult[] {
  const setId = `offline:${++setCounter}`;
  preparse(setId, composePolicySet({ guardrails: splitPolicies(GUARDRAILS, { builtIn: true }), user: splitPolicies(policies), grants: [] }));
  return cases.map((c) => runCase(setId, c, entities, appActions));
}

const CUSTOS_ACTIONS = new Set<string>(ACTIONS);

function refused(c: TestCase, code: string): CaseResult {
  return { name: c.name, expect: c.expect, got: 'deny', passed: c.expect === 'deny', reasons: [`refused:${code}`] };
}

function runCase(setId: string, c: TestCase, entities: OfflineEntities, appActions: ReadonlySet<string>): CaseResult {
  const request = caseRequest(c);
  // Custos actions apply to everything; an application's own actions only to application objects (as pdp.ts).
  let actionUid: EntityUid;
  if (CUSTOS_ACTIONS.has(request.action)) actionUid = { type: ACTION_TYPE, id: request.action };
  else if (request.resource.kind === 'app' && appActions.has(request.action)) actionUid = { type: `${APP_NAMESPACE}::Action`, id: request.action };
  else return refused(c, 'unknown_action');
  const actor = entities.principal(request.principal);
  if (!actor) return refused(c, 'unknown_principal');
  const chain: OfflinePrincipal[] = [];
  for (const ref of request.facts.delegationChain) {
    const link = entities.principal(ref);
    if (!link) return refused(c, 'unknown_principal');
    chain.push(link);
  }
  const assertedResource = request.asserted?.resource !== undefined;
  let resourceUid: EntityUid;
  let resourceEntities: EntityJson[];
  if (request.resource.kind === 'registry') {
    const r = entities.resource(request.resource.ref, request.resource.resourceKind);
    if (!r) return refused(c, 'unknown_resource');
    resourceUid = r.entities[0]!.uid as EntityUid;
    resourceEntities = [assertedResource ? withAsserted(r.entities[0]!, 'resource') : r.entities[0]!, ...r.entities.slice(1)];
  } else if (request.resource.kind === 'app') {
    const e = appResourceEntity(request.resource.type, request.resource.id, assertedResource);
    resourceUid = e.uid as EntityUid;
    resourceEntities = [e];
  } else {
    resourceUid = API_UID;
    resourceEntities = [API_ENTITY];
  }
  const context = caseContext(c, actor.kind, chain.map((p) => p.name));
  const reasons: string[] = [];
  let allowed = true;
  for (const [i, p] of [actor, ...chain].entries()) {
    const subjectAsserted = i === 0 && request.asserted?.subject !== undefined;
    const own = subjectAsserted ? [withAsserted(p.entities[0]!, 'subject'), ...p.entities.slice(1)] : p.entities;
    const all = [...own, ...resourceEntities, NOTHING_ASSERTED_ENTITY];
    if (subjectAsserted) all.push(assertedEntity('subject', request.asserted!.subject!));
    if (assertedResource) all.push(assertedEntity('resource', request.asserted!.resource!));
    if (request.asserted?.context !== undefined) all.push(assertedEntity('request', request.asserted.context));
    const answer = authorize({ principal: p.entities[0]!.uid as EntityUid, action: actionUid, resource: resourceUid, context: context as CedarContext, preparsedPolicySetId: setId, entities: dedupe(all) });
    const ok = answer.decision === 'allow' && answer.errors.length === 0;
    for (const policy of answer.determining) reasons.push(`${answer.decision === 'allow' ? 'permit' : 'forbid'}:${policy}@${p.name}`);
    for (const e of answer.errors) reasons.push(`error:${e.policy}@${p.name}: ${e.message}`);
    if (!ok && answer.determining.length === 0 && answer.errors.length === 0) reasons.push(`no_permit@${p.name}`);
    if (!ok) allowed = false;
  }
  const got = allowed ? 'allow' : 'deny';
  return { name: c.name, expect: c.expect, got, passed: got === c.expect, reasons };
}

/** Cedar refuses two entities with one uid (a principal's team that is also the resource's owner team is fine, but
 * the same team twice is not). */
function dedupe(entities: EntityJson[]): EntityJson[] {
  const seen = new Set<string>();
  return entities.filter((e) => {
    const uid = e.uid as EntityUid;
    const key = `${uid.type}\u0000${uid.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
