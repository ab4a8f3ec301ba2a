// The policy decision point: one function every enforcement point calls (the gateway in-process, the AuthZEN API
// over HTTP, the explain and access routes). Its rules, in order:
//   1. The snapshot is current (store counters read first); a store that cannot be read throws: the caller answers
//      503 or denies — never allows.
//   2. Unknown principal, resource or action, or a chain principal we do not know: deny, recorded with the reason.
//   3. The context is built here (context.ts) from verified facts; caller assertions only as `asserted`/`request`.
//   4. Default deny, forbid wins (Cedar). Cedar skips a policy whose evaluation errors and may still allow:
//      here ANY error makes the verdict deny, the errors are reasons, and an `authz.policy_error` alert is recorded.
//   5. Delegation is an intersection: the acting principal and every principal of its act chain are evaluated
//      with the same action, resource and context; all must be allowed.
//   6. `decide` records `authz.decision` (decision, reasons, policy and entity versions, request id) and returns
//      only after it is committed (audit before response); an audit failure throws (503), never allows.
import crypto from 'node:crypto';
import canonicalize from 'canonicalize';
import type { AuditWriter } from '../audit/index.js';
import type { Actor } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import type { Database } from '../platform/store/db.js';
import { APP_NAMESPACE, appActionsOf, authorize, engineFailure, type CedarContext, type EntityJson } from './cedar.js';
import { AppError } from '../platform/http/errors.js';
import { buildContext } from './context.js';
import {
  ACTIONS, type CandidatePolicies, type Decision, type DecisionReason, type DecisionRequest, type EntityUid, type EvaluateOptions, type Pdp,
  type PreparedDecision, type PrincipalVerdict, type RefusalCode, type RequestFacts, type SnapshotPrincipal,
} from './contracts.js';
import type { DevicePosture } from './devices/index.js';
import {
  ACTION_TYPE, API_ENTITY, API_UID, appResourceEntity, assertedEntity, NOTHING_ASSERTED_ENTITY, withAsserted,
} from './entities.js';
import { displayPolicyId } from './policy-set.js';
import { candidatePolicySet, createParsedSetSlots, type Snapshot, type SnapshotSource } from './snapshot.js';
import { pruneContext, pruneEntity } from './usage.js';

export interface PdpDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  snapshots: SnapshotSource;
  postureOf(principalId: string, facts: RequestFacts): Promise<DevicePosture>;
  zoneOf(sourceIp: string | null): string;
  timeZone: string;
}

const ACTION_SET = new Set<string>(ACTIONS);
const APP_ACTION_TYPE = `${APP_NAMESPACE}::Action`;
const UNKNOWN_POSTURE: DevicePosture = { posture: 'unknown', id: '', source: 'none' };

interface Prepared {
  snapshot: Snapshot;
  principals: SnapshotPrincipal[];
  actionUid: EntityUid;
  resourceUid: EntityUid;
  resourceEntities: EntityJson[];
  target: { type: string; id: string | null; name: string | null };
  context: Record<string, unknown>;
  /** What is handed to the engine: the active set gets entities and context with only what it can read. */
  pruned: boolean;
  cedarContext: Record<string, unknown>;
  /**
   * The parsed set's id in the engine's cache, placed (parsed again if its slot was reused) — called synchronously
   * right before evaluating, never across an await, so no other decision can take the slot in between.
   */
  placeSet: () => string;
  /** Names the parsed set's content (active version or candidate text, with the grants it saw). */
  policySetKey: string;
  policyVersion: string;
}

/** A broken engine answers nothing (not even from the memo): every decision fails closed until a restart. */
function assertEngineUsable(): void {
  const failure = engineFailure();
  if (failure) throw new AppError('authz_unavailable', `the policy engine failed (${failure}); decisions are refused until the server restarts`);
}

class Refusal {
  constructor(readonly code: RefusalCode, readonly message: string) {}
}

export function createPdp(deps: PdpDeps): Pdp {
  // Candidates (tests, impact replays) parse into slots of their own, keyed by a digest of their text and the
  // policy counter (the grants they see), never by a reusable number.
  const candidateSlots = createParsedSetSlots(`candidate-${crypto.randomUUID()}`, 16);

  function candidateSet(snapshot: Snapshot, candidate: CandidatePolicies): { place: () => string; key: string } {
    const digest = crypto.createHash('sha256').update(candidate.text).digest('hex');
    const key = `candidate:${digest}:${snapshot.policiesVersion}`;
    return { key, place: () => candidateSlots.place(key, () => candidatePolicySet(snapshot, candidate.text)) };
  }

  const candidateAppActions = new Map<string, ReadonlySet<string>>();
  function appActions(snapshot: Snapshot, candidate: CandidatePolicies | undefined): ReadonlySet<string> {
    if (!candidate) return snapshot.appActions;
    const text = candidate.appSchema ?? '';
    let actions = candidateAppActions.get(text);
    if (!actions) {
      actions = new Set(text ? appActionsOf(text) : []);
      if (candidateAppActions.size > 64) candidateAppActions.clear();
      candidateAppActions.set(text, actions);
    }
    return actions;
  }

  async function prepare(request: DecisionRequest, options: EvaluateOptions): Promise<Prepared | { refusal: Refusal; snapshot: Snapshot; target: Prepared['target'] }> {
    assertEngineUsable();
    const snapshot = await deps.snapshots.current();
    const target = targetOf(request);
    const refuse = (code: RefusalCode, message: string) => ({ refusal: new Refusal(code, message), snapshot, target });
    // Custos actions apply to everything; an application's own actions (declared by the policy version's application
    // schema) only to application objects, so they can never reach a model, a dataset or the Custos API.
    let actionUid: EntityUid;
    if (ACTION_SET.has(request.action)) actionUid = { type: ACTION_TYPE, id: request.action };
    else if (request.resource.kind === 'app' && appActions(snapshot, options.candidate).has(request.action)) actionUid = { type: APP_ACTION_TYPE, id: request.action };
    else if (appActions(snapshot, options.candidate).has(request.action)) return refuse('unknown_action', `'${request.action}' is an application action: it applies to application objects only`);
    else return refuse('unknown_action', `'${request.action}' is not an action Custos or the active policy version's application schema declares`);
    const principal = snapshot.principal(request.principal);
    if (!principal) return refuse('unknown_principal', 'no such principal');
    const chain: SnapshotPrincipal[] = [];
    for (const id of request.facts.delegationChain) {
      const link = snapshot.principal(id);
      if (!link) return refuse('unknown_principal', 'a principal of the delegation chain is not known');
      chain.push(link);
    }

    let resourceUid: EntityUid;
    let resourceEntities: EntityJson[];
    const assertedResource = request.asserted?.resource !== undefined;
    if (request.resource.kind === 'registry') {
      const resource = snapshot.resource(request.resource.ref, request.resource.resourceKind);
      if (!resource) return refuse('unknown_resource', 'no such resource');
      target.id = resource.id;
      target.name = resource.name;
      resourceUid = resource.uid;
      const [own, ...ancestors] = options.candidate ? snapshot.resourceEntities(resource.id) : snapshot.prunedResourceEntities(resource.id);
      resourceEntities = [assertedResource ? withAsserted(own!, 'resource') : own!, ...ancestors];
    } else if (request.resource.kind === 'app') {
      const entity = appResourceEntity(request.resource.type, request.resource.id, assertedResource);
      resourceUid = entity.uid as EntityUid;
      resourceEntities = [options.candidate ? entity : pruneEntity(entity, snapshot.usage)];
    } else {
      resourceUid = API_UID;
      resourceEntities = [API_ENTITY];
    }

    let context = options.context;
    if (!context) {
      const posture = await deps.postureOf(principal.id, request.facts).catch(() => UNKNOWN_POSTURE);
      context = buildContext({
        facts: request.facts, principalKind: principal.kind, chainNames: chain.map((p) => p.name), zone: deps.zoneOf(request.facts.sourceIp),
        posture, now: deps.clock.now(), timeZone: deps.timeZone, assertedRequest: request.asserted?.context !== undefined,
      });
    }
    const set = options.candidate ? candidateSet(snapshot, options.candidate) : { place: () => snapshot.policySetId, key: `active:${snapshot.policiesVersion}` };
    const policyVersion = options.candidate ? options.candidate.label : `${snapshot.activePolicyVersion ?? 0}.${snapshot.policiesVersion}`;
    const pruned = !options.candidate;
    const cedarContext = pruned ? pruneContext(context, snapshot.usage) : context;
    return {
      snapshot, principals: [principal, ...chain], actionUid, resourceUid, resourceEntities, target, context, pruned, cedarContext,
      placeSet: set.place, policySetKey: set.key, policyVersion,
    };
  }

  function targetOf(request: DecisionRequest): Prepared['target'] {
    const r = request.resource;
    if (r.kind === 'registry') return { type: r.resourceKind ?? 'resource', id: null, name: r.ref };
    if (r.kind === 'app') return { type: r.type, id: r.id, name: null };
    return { type: 'api', id: 'custos', name: 'custos' };
  }

  // Verdicts are a pure function of (parsed policy set, entities, request, context): they are memoised under a key
  // naming all of them — the set's slot and policy version, the entity version, principal, action, resource, the
  // whole context (which carries the time to the second, so grant expiry stays exact) and anything asserted.
  // A change to policies, grants or entities changes the key; nothing is ever served across versions.
  const verdictCache = new Map<string, PrincipalVerdict>();
  const VERDICT_CACHE_MAX = 10_000;

  function verdictFor(p: Prepared, setId: string, principal: SnapshotPrincipal, index: number, request: DecisionRequest, contextKey: string): PrincipalVerdict {
    // A JSON array, so no part can run into the next (names and ids may hold any character).
    const key = JSON.stringify([p.policySetKey, p.snapshot.entitiesVersion, principal.id, p.actionUid, p.resourceUid, index === 0, contextKey]);
    const cached = verdictCache.get(key);
    if (cached) return cached;
    const verdict = evaluateVerdict(p, setId, principal, index, request);
    if (verdictCache.size >= VERDICT_CACHE_MAX) verdictCache.clear();
    verdictCache.set(key, verdict);
    return verdict;
  }

  function evaluateVerdict(p: Prepared, setId: string, principal: SnapshotPrincipal, index: number, request: DecisionRequest): PrincipalVerdict {
    const own = p.pruned ? p.snapshot.prunedPrincipalEntities(principal.id) : p.snapshot.principalEntities(principal.id);
    const assertedSubject = index === 0 && request.asserted?.subject !== undefined;
    const entities: EntityJson[] = [
      ...(assertedSubject ? [withAsserted(own[0]!, 'subject'), ...own.slice(1)] : own),
      ...p.resourceEntities,
    ];
    // Asserted entities only when the set can reach them (through `asserted` or `context.request`).
    const readsAssertions = !p.pruned || p.snapshot.usage.attributes.has('asserted') || p.snapshot.usage.attributes.has('request');
    if (readsAssertions) {
      entities.push(NOTHING_ASSERTED_ENTITY);
      if (assertedSubject) entities.push(assertedEntity('subject', request.asserted!.subject!));
      if (request.asserted?.resource !== undefined) entities.push(assertedEntity('resource', request.asserted.resource));
      if (request.asserted?.context !== undefined) entities.push(assertedEntity('request', request.asserted.context));
    }
    let answer;
    try {
      answer = authorize({
        principal: principal.uid, action: p.actionUid, resource: p.resourceUid, context: p.cedarContext as CedarContext,
        preparsedPolicySetId: setId, entities,
      });
    } catch (error) {
      answer = { decision: 'deny' as const, determining: [], errors: [{ policy: '', message: `evaluation failed: ${(error as Error).message}` }] };
    }
    // Sorted: the engine reports determining policies and errors in no stable order.
    const determining = answer.determining.map(displayPolicyId).sort();
    answer.errors.sort((a, b) => (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0));
    return {
      principal: principal.name,
      decision: answer.decision === 'allow' && answer.errors.length === 0 ? 'allow' : 'deny',
      permits: answer.decision === 'allow' ? determining : [],
      forbids: answer.decision === 'deny' ? determining : [],
      errors: answer.errors.map((e) => ({ policy: displayPolicyId(e.policy), message: e.message })),
    };
  }

  async function run(request: DecisionRequest, options: EvaluateOptions = {}): Promise<{ decision: Decision; target: Prepared['target'] }> {
    const p = await prepare(request, options);
    if ('refusal' in p) {
      return { target: p.target, decision: {
        decision: 'deny', reasons: [{ kind: 'refused', code: p.refusal.code, message: p.refusal.message }],
        policyVersion: options.candidate?.label ?? `${p.snapshot.activePolicyVersion ?? 0}.${p.snapshot.policiesVersion}`,
        entityVersion: p.snapshot.entitiesVersion, verdicts: [], context: options.context ?? {}, auditEventId: null,
      } };
    }
    const contextKey = JSON.stringify([p.context, request.asserted ?? null]);
    // From here to the last verdict nothing awaits: the set placed now is the set evaluated.
    assertEngineUsable();
    const setId = p.placeSet();
    const verdicts = p.principals.map((principal, i) => verdictFor(p, setId, principal, i, request, contextKey));
    assertEngineUsable();
    const reasons: DecisionReason[] = [];
    for (const v of verdicts) {
      for (const policy of v.permits) reasons.push({ kind: 'permit', policy, principal: v.principal });
      for (const policy of v.forbids) reasons.push({ kind: 'forbid', policy, principal: v.principal });
      for (const e of v.errors) reasons.push({ kind: 'error', policy: e.policy, principal: v.principal, message: e.message });
      if (v.decision === 'deny' && v.forbids.length === 0 && v.errors.length === 0) reasons.push({ kind: 'no_permit', principal: v.principal });
    }
    return { target: p.target, decision: {
      decision: verdicts.every((v) => v.decision === 'allow') ? 'allow' : 'deny',
      reasons, policyVersion: p.policyVersion, entityVersion: p.snapshot.entitiesVersion, verdicts, context: p.context, auditEventId: null,
    } };
  }

  async function prepareDecision(request: DecisionRequest, askedBy: Actor): Promise<PreparedDecision> {
    const { decision, target } = await run(request);
    const errored = decision.reasons.filter((r) => r.kind === 'error');
    return {
      decision,
      async record(trx, batch) {
        const recorded = await deps.audit.record(trx, batch, {
          type: 'authz.decision', actor: askedBy, action: request.action, target,
          decision: decision.decision, reasons: decision.reasons.map(reasonText), policyVersion: decision.policyVersion,
          purpose: request.facts.purpose, outcome: decision.decision === 'allow' ? 'success' : 'failure',
          details: {
            request: recordedRequest(request), context: decision.context, entity_version: decision.entityVersion,
            request_id: request.requestId ?? askedBy.provenance.requestId,
            verdicts: decision.verdicts.map((v) => ({ principal: v.principal, decision: v.decision })),
            ...(request.simulated ? { simulated_facts: request.simulated.facts, stated_by: request.simulated.statedBy } : {}),
          },
        });
        // An erroring policy is a policy bug someone must look at: raise it as its own event.
        if (errored.length) {
          await deps.audit.record(trx, batch, {
            type: 'authz.policy_error', actor: askedBy, action: request.action, target, decision: 'deny',
            reasons: errored.map(reasonText), policyVersion: decision.policyVersion, outcome: 'failure',
            details: { decision_event: recorded.id, request_id: request.requestId ?? askedBy.provenance.requestId },
          });
        }
        return { id: recorded.id };
      },
    };
  }

  return {
    async evaluate(request, options) {
      return (await run(request, options)).decision;
    },

    async decide(request, askedBy: Actor) {
      const prepared = await prepareDecision(request, askedBy);
      const event = await deps.db.write((trx, batch) => prepared.record(trx, batch));
      return { ...prepared.decision, auditEventId: event.id };
    },

    prepareDecision,

    async versions() {
      const s = await deps.snapshots.current();
      return { entities: s.entitiesVersion, policies: s.policiesVersion, activePolicyVersion: s.activePolicyVersion, appActions: [...s.appActions] };
    },
  };
}

/** The request as the audit log keeps it: enough to replay (impact), never a presented assertion or token. */
export function recordedRequest(request: DecisionRequest): Record<string, unknown> {
  const f = request.facts;
  return {
    principal: request.principal, action: request.action, resource: request.resource,
    facts: {
      purpose: f.purpose, delegation_chain: f.delegationChain, auth_method: f.authMethod, credential_kind: f.credentialKind,
      dpop_bound: f.dpopBound, issued_at: f.issuedAt ? f.issuedAt.toISOString() : null, source_ip: f.sourceIp, via: f.via,
      workload_id: f.workloadId, risk: f.risk ?? 0, device_id: f.device?.deviceId ?? null,
      posture_assertion: f.device?.assertion ? 'presented' : null,
    },
    ...(request.asserted
      ? request.assertedInAudit === 'digest'
        ? { asserted_sha256: crypto.createHash('sha256').update(canonicalize(request.asserted) ?? '').digest('hex') }
        : { asserted: request.asserted }
      : {}),
  };
}

/** One reason as one line of an audit event's `reasons`. */
export function reasonText(r: DecisionReason): string {
  switch (r.kind) {
    case 'permit': return `permit:${r.policy}@${r.principal}`;
    case 'forbid': return `forbid:${r.policy}@${r.principal}`;
    case 'error': return `error:${r.policy}@${r.principal}: ${r.message}`;
    case 'no_permit': return `no_permit@${r.principal}`;
    case 'refused': return `refused:${r.code}`;
  }
}
