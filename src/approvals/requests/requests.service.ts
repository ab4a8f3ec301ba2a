import { purposeProblem } from '../../authz/index.js';
import type { Actor } from '../../platform/actor.js';
import { AppError, errors } from '../../platform/http/errors.js';
import { decodeCursor, pageOf } from '../../platform/http/pagination.js';
import type { Trx, WriteBatch } from '../../platform/store/db.js';
import type { AccessRequestsTable } from '../../platform/store/schema.js';
import { resolveGroups } from '../groups.js';
import type { Notification, PersonRef } from '../notifications.js';
import type { ApprovalsPartContext } from '../parts.js';
import type { GrantRecord, RegistryPrincipal, RegistryResource } from '../ports.js';
import { requestHash } from '../request-hash.js';
import { effectiveTier, riskier, type ApprovalSettings, type ApproverGroup, type ConflictPair, type Tier } from '../settings.js';
import type { CancelInput, CreateRequestInput, DecideInput, DenyInput, ListRequestsQuery, RequestView, UpdateRequestInput } from './requests.schemas.js';
import * as repo from './requests.repo.js';
import { approverRefusal, eligibleForAnySlot, evaluateRule, type ApproverFacts, type RequestParties, type RuleOutcome } from './sod.js';

// Access and registration requests: filed by a person (for themselves, for a principal they or their team own, or —
// admins and security — for anyone) or by an agent for itself (its owner is then the accountable requester);
// decided by people under the approval rule of the riskiest resource, with separation of duties (sod.ts) enforced
// here on every decision and never configurable. Everything a decision causes — the approval row, the grants or the
// activation, the status change, the audit events and the webhook notifications — is one db.write job, so it all
// commits or none of it does; the status change is conditional on the revision read, so two racing approvers
// cannot both finalise, and an edit voids earlier approvals by changing the hash they are bound to.

type StoredResource = { id: string; name: string; kind: string; risk_tier: string; classification: string };

interface Requirement {
  slots: ApproverGroup[];
  owner_not_sole: boolean;
  auto_approve: boolean;
  max_duration_seconds: number;
  pending_seconds: number;
  conflicts: ConflictPair[];
}

const STAFF = new Set(['admin', 'security']);

function personOf(actor: Actor) {
  if (!actor.principal) throw errors.forbidden('requests are filed and decided by principals');
  return actor.principal;
}

function factsOf(actor: Actor): ApproverFacts {
  const p = personOf(actor);
  return { personId: p.id, kind: p.kind, chain: actor.delegationChain.map((l) => l.principalId) };
}

function resourcesOf(row: AccessRequestsTable): StoredResource[] {
  return JSON.parse(row.resources) as StoredResource[];
}

function requirementOf(row: AccessRequestsTable): Requirement {
  const stored = JSON.parse(row.requirement) as Partial<Requirement>;
  // Break-glass rows share the table and store their own shape: no approver was asked.
  return {
    slots: stored.slots ?? [], owner_not_sole: stored.owner_not_sole ?? false, auto_approve: stored.auto_approve ?? false,
    max_duration_seconds: stored.max_duration_seconds ?? row.duration_seconds, pending_seconds: stored.pending_seconds ?? 0, conflicts: stored.conflicts ?? [],
  };
}

function auditTarget(row: AccessRequestsTable, subjectName: string) {
  const what = row.kind === 'registration' ? 'registration' : resourcesOf(row).map((r) => r.name).join(', ');
  return { type: 'access_request', id: row.id, name: `${subjectName} → ${what}` };
}

export function createRequestService(ctx: ApprovalsPartContext) {
  const { db, audit, clock, directory } = ctx;

  async function load(q: Trx | typeof db.kysely, id: string): Promise<AccessRequestsTable> {
    const row = await repo.findRequest(q, id);
    if (!row) throw errors.notFound('access request', id);
    return row;
  }

  async function principalOrFail(trx: Trx, ref: string): Promise<RegistryPrincipal> {
    const p = await directory.principal(trx, ref);
    if (!p) throw new AppError('principal_not_found', `principal '${ref}' does not exist`);
    return p;
  }

  /** The rule a request falls under, frozen into the row when it is filed or edited. */
  function requirementFor(settings: ApprovalSettings, kind: 'access' | 'registration', subject: RegistryPrincipal, resources: RegistryResource[], actions: readonly string[]): { tier: Tier; requirement: Requirement } {
    const tier: Tier = kind === 'registration'
      ? (subject.riskTier === 'critical' ? 'critical' : 'high')
      : resources.map((r) => effectiveTier(settings, r)).reduce<Tier>((a, b) => riskier(a, b), 'low');
    const rule = kind === 'registration' ? settings.registration[tier as 'high' | 'critical'] : settings.rules[tier];
    const conflicts = settings.conflicts.filter((c) => c.actions.some((a) => actions.includes(a))
      && (!c.resource_kinds || resources.some((r) => c.resource_kinds!.includes(r.kind))));
    return {
      tier,
      requirement: {
        slots: [...rule.slots], owner_not_sole: tier === 'high' || tier === 'critical', auto_approve: kind === 'access' && rule.auto_approve,
        max_duration_seconds: rule.max_duration_seconds, pending_seconds: rule.pending_seconds, conflicts,
      },
    };
  }

  async function partiesOf(trx: Trx, row: AccessRequestsTable): Promise<RequestParties> {
    const subject = await directory.principal(trx, row.subject_id);
    const owners = new Set<string>();
    if (subject?.ownerId) owners.add(subject.ownerId);
    if (subject?.ownerTeamId) for (const id of await directory.activeHumanMembers(trx, subject.ownerTeamId)) owners.add(id);
    // The subject benefits: a person never decides access for themselves, whoever filed it.
    return { requesterChain: new Set([...(JSON.parse(row.requester_chain) as string[]), row.subject_id]), subjectOwners: owners };
  }

  /** Group membership and conflicting-role pairs for one request, read in the deciding transaction. */
  async function checkersOf(trx: Trx, row: AccessRequestsTable) {
    const settings = await ctx.settings(trx);
    const requirement = requirementOf(row);
    const resources: Array<Pick<RegistryResource, 'ownerId' | 'ownerTeamId'>> = [];
    for (const r of resourcesOf(row)) {
      const current = await directory.resource(trx, r.id);
      if (current) resources.push(current);
    }
    const subject = (await directory.principal(trx, row.subject_id)) ?? { ownerId: null, ownerTeamId: null };
    const members = await resolveGroups(directory, trx, settings, [...requirement.slots, ...requirement.conflicts.map((c) => c.holders)], { resources, subject });
    const inGroup = (g: ApproverGroup, person: string) => {
      const m = members.get(g);
      return m === 'anyone' || (m?.has(person) ?? false);
    };
    const conflictOf = (person: string) => requirement.conflicts.find((c) => inGroup(c.holders, person));
    return { requirement, members, inGroup, conflictOf, conflicted: (p: string) => conflictOf(p) !== undefined };
  }

  /** The approvals that count for the current revision, with each approver's present state. */
  async function currentApprovals(trx: Trx, row: AccessRequestsTable): Promise<ApproverFacts[]> {
    const out: ApproverFacts[] = [];
    for (const a of await repo.approvalsOf(trx, row.id)) {
      if (a.decision !== 'approve' || a.request_hash !== row.request_hash || a.revision !== row.revision) continue;
      const p = await directory.principal(trx, a.approver_id);
      // Someone suspended since approving no longer counts.
      out.push({ personId: a.approver_id, kind: p && p.status === 'active' ? p.kind : 'inactive', chain: [] });
    }
    return out;
  }

  /** The rule's outcome now; a decision that has already read the groups and parties passes them in. */
  async function outcomeOf(trx: Trx, row: AccessRequestsTable, read?: { checks: Awaited<ReturnType<typeof checkersOf>>; parties: RequestParties }): Promise<RuleOutcome> {
    const checks = read?.checks ?? await checkersOf(trx, row);
    return evaluateRule({
      slots: checks.requirement.slots, ownerNotSole: checks.requirement.owner_not_sole, parties: read?.parties ?? await partiesOf(trx, row),
      approvals: await currentApprovals(trx, row), inGroup: checks.inGroup, conflicted: checks.conflicted,
    });
  }

  async function nameOf(trx: Trx | typeof db.kysely, id: string | null, cache: Map<string, { id: string; name: string; kind: string }>) {
    if (id === null) return null;
    let hit = cache.get(id);
    if (!hit) {
      const p = await directory.principal(trx as Trx, id);
      hit = { id, name: p?.name ?? id, kind: p?.kind ?? 'unknown' };
      cache.set(id, hit);
    }
    return hit;
  }

  async function toView(q: Trx | typeof db.kysely, row: AccessRequestsTable, cache = new Map<string, { id: string; name: string; kind: string }>()): Promise<RequestView> {
    const requirement = requirementOf(row);
    const approvals = await repo.approvalsOf(q, row.id);
    const needs = row.status === 'pending' ? (await outcomeOf(q as Trx, row)).needs : [];
    const named = async (id: string) => { const p = (await nameOf(q, id, cache))!; return { id: p.id, name: p.name }; };
    return {
      id: row.id, kind: row.kind, status: row.status,
      requester: (await nameOf(q, row.requester_id, cache))!,
      accountable: row.accountable_id ? await named(row.accountable_id) : null,
      subject: (await nameOf(q, row.subject_id, cache))!,
      resources: resourcesOf(row), actions: JSON.parse(row.actions) as string[], purpose: row.purpose, justification: row.justification,
      duration_seconds: row.duration_seconds, ticket: row.ticket, tier: row.tier,
      requirement: { ...requirement, conflicts: requirement.conflicts.map((c) => c.name) },
      request_hash: row.request_hash, revision: row.revision, created_at: row.created_at, updated_at: row.updated_at, pending_until: row.pending_until,
      decided_at: row.decided_at, decided_by: row.decided_by, decision_reason: row.decision_reason, grant_ids: JSON.parse(row.grant_ids) as string[],
      approvals: await Promise.all(approvals.map(async (a) => ({
        approver: await named(a.approver_id), decision: a.decision, revision: a.revision, counts: a.request_hash === row.request_hash && a.revision === row.revision,
        comment: a.comment, created_at: a.created_at,
      }))),
      needs,
    };
  }

  async function summary(trx: Trx, row: AccessRequestsTable) {
    const v = await toView(trx, row);
    return {
      id: v.id, kind: v.kind, status: v.status, requester: v.requester, accountable: v.accountable, subject: v.subject,
      resources: v.resources.map((r) => ({ id: r.id, name: r.name, kind: r.kind })), actions: v.actions, purpose: v.purpose, tier: v.tier,
      justification: v.justification, duration_seconds: v.duration_seconds, ticket: v.ticket, request_hash: v.request_hash, revision: v.revision,
      pending_until: v.pending_until, needs: v.needs, grant_ids: v.grant_ids,
    };
  }

  /** The people a pending request is waiting for (named groups only; 'anyone' is not enumerated). */
  async function approverRecipients(trx: Trx, row: AccessRequestsTable): Promise<PersonRef[]> {
    const checks = await checkersOf(trx, row);
    const chain = new Set(JSON.parse(row.requester_chain) as string[]);
    const ids = new Set<string>();
    for (const g of checks.requirement.slots) {
      const m = checks.members.get(g);
      if (m && m !== 'anyone') for (const id of m) if (!chain.has(id)) ids.add(id);
    }
    const cache = new Map<string, { id: string; name: string; kind: string }>();
    return Promise.all([...ids].map(async (id) => { const p = (await nameOf(trx, id, cache))!; return { id: p.id, name: p.name }; }));
  }

  async function notify(trx: Trx, batch: WriteBatch, type: Notification['type'], row: AccessRequestsTable, extra: Record<string, unknown> = {}, recipients?: PersonRef[]) {
    await ctx.notify(trx, batch, { type, data: { request: await summary(trx, row), ...extra }, ...(recipients ? { recipients } : {}) });
  }

  async function record(trx: Trx, batch: WriteBatch, actor: Actor, type: string, row: AccessRequestsTable, details: Record<string, unknown>) {
    const subject = await directory.principal(trx, row.subject_id);
    await audit.record(trx, batch, { type, action: type, actor, target: auditTarget(row, subject?.name ?? row.subject_id), outcome: 'success', purpose: row.purpose, details });
  }

  /** Approval complete (or auto-approved): grants made, or the principal activated, in this transaction. */
  async function finalise(trx: Trx, batch: WriteBatch, row: AccessRequestsTable, how: { auto: boolean; approvers: string[] }): Promise<AccessRequestsTable> {
    const cause = ctx.workflowActor(`request/${row.id}`);
    const grants: GrantRecord[] = [];
    if (row.kind === 'access') {
      for (const r of resourcesOf(row)) {
        grants.push(await ctx.grants.createGrant(trx, batch, cause, {
          principal: row.subject_id, resource: r.id, actions: JSON.parse(row.actions) as string[], purpose: row.purpose,
          durationSeconds: row.duration_seconds, reason: `access request ${row.id}: ${row.justification}`.slice(0, 1000), source: 'approval', sourceRef: row.id,
        }));
      }
    } else {
      await directory.activate(trx, batch, cause, row.subject_id, `registration request ${row.id} approved`, row.id);
    }
    const now = clock.now().toISOString();
    const patch = { status: 'approved' as const, decided_at: now, decided_by: how.auto ? 'auto' : how.approvers.join(','), grant_ids: JSON.stringify(grants.map((g) => g.id)), updated_at: now };
    if (!(await repo.updatePending(trx, row.id, row.revision, patch))) throw new AppError('request_not_pending', `access request '${row.id}' was decided meanwhile`, { status: 'decided' });
    const after = { ...row, ...patch };
    await record(trx, batch, cause, 'access_request.approved', after, {
      auto: how.auto, approvers: how.approvers, revision: row.revision, request_hash: row.request_hash,
      grants: grants.map((g) => ({ id: g.id, resource: g.resource.name, expires_at: g.expires_at })), ...(row.kind === 'registration' ? { activated: row.subject_id } : {}),
    });
    await notify(trx, batch, 'request.approved', after, { auto: how.auto, grants: grants.map((g) => ({ id: g.id, resource: g.resource, expires_at: g.expires_at })) });
    return after;
  }

  interface Draft {
    kind: 'access' | 'registration';
    subject: RegistryPrincipal;
    resources: RegistryResource[];
    actions: string[];
    purpose: string | null;
    justification: string;
    durationSeconds: number;
    ticket: string | null;
  }

  /** The named resources and everything below them: a grant on a resource covers its descendants, so they set the tier. */
  async function covered(trx: Trx, resources: readonly RegistryResource[]): Promise<RegistryResource[]> {
    const out = [...resources];
    for (const r of resources) for (const d of await directory.descendants(trx, r.id)) if (!out.some((x) => x.id === d.id)) out.push(d);
    return out;
  }

  /** Checks a request's content (filing or editing) and computes its rule and hash. */
  async function prepare(trx: Trx, d: Draft, revision: number) {
    const settings = await ctx.settings(trx);
    if (d.kind === 'access') {
      if (d.subject.status !== 'active') throw new AppError('principal_not_active', `'${d.subject.name}' is ${d.subject.status}: access is requested for active principals (a proposed one needs its registration first)`);
      for (const r of d.resources) {
        const problem = purposeProblem(d.purpose, d.subject.purposes, r.purposes);
        if (problem) throw new AppError('purpose_not_allowed', `${r.name}: ${problem}`);
      }
    }
    const { tier, requirement } = requirementFor(settings, d.kind, d.subject, await covered(trx, d.resources), d.actions);
    if (d.kind === 'access' && d.durationSeconds > requirement.max_duration_seconds) {
      throw new AppError('request_too_long', `a ${tier} risk request lasts at most ${requirement.max_duration_seconds} seconds`, { max_seconds: requirement.max_duration_seconds });
    }
    const hash = requestHash({
      kind: d.kind, revision, subjectId: d.subject.id, resourceIds: d.resources.map((r) => r.id), actions: d.actions, purpose: d.purpose,
      durationSeconds: d.durationSeconds, justification: d.justification, ticket: d.ticket,
    });
    const stored: StoredResource[] = d.resources.map((r) => ({ id: r.id, name: r.name, kind: r.kind, risk_tier: r.riskTier, classification: r.classification }));
    return { tier, requirement, hash, stored };
  }

  async function resolveResources(trx: Trx, refs: readonly string[]): Promise<RegistryResource[]> {
    const out: RegistryResource[] = [];
    for (const ref of refs) {
      const r = await directory.resource(trx, ref);
      if (!r) throw new AppError('resource_not_found', `resource '${ref}' does not exist`);
      if (!out.some((x) => x.id === r.id)) out.push(r);
    }
    return out;
  }

  const ACTION_ORDER = ['invoke', 'read', 'write', 'train', 'fine_tune', 'deploy', 'promote', 'delegate', 'call_tool', 'export'];
  const normalise = (actions: readonly string[]) => ACTION_ORDER.filter((a) => actions.includes(a));

  /** The requester, the human answerable, and whoever else may not decide this request. */
  async function requesterChain(trx: Trx, actor: Actor, requester: RegistryPrincipal): Promise<{ accountable: string | null; chain: string[] }> {
    const chain = new Set<string>([requester.id, ...actor.delegationChain.map((l) => l.principalId)]);
    // A team-owned agent has no single answerable human: its team's members are all on the chain instead.
    const accountable: string | null = requester.kind === 'human' ? requester.id : requester.ownerId;
    if (requester.kind !== 'human') {
      if (requester.ownerId) chain.add(requester.ownerId);
      if (requester.ownerTeamId) for (const id of await directory.activeHumanMembers(trx, requester.ownerTeamId)) chain.add(id);
    }
    return { accountable, chain: [...chain] };
  }

  function assertMayFileFor(actor: Actor, requester: RegistryPrincipal, subject: RegistryPrincipal) {
    if (requester.kind !== 'human') {
      if (subject.id !== requester.id) throw errors.forbidden('an agent or other non-human principal asks for access only for itself');
      return;
    }
    if (subject.id === requester.id || (actor.role && STAFF.has(actor.role))) return;
    if (subject.ownerId === requester.id || (subject.ownerTeamId !== null && actor.teamIds.includes(subject.ownerTeamId))) return;
    throw errors.forbidden(`you may file requests for yourself and for principals you or your teams own; '${subject.name}' is not one of them`);
  }

  function assertRequesterSide(actor: Actor, row: AccessRequestsTable, what: string) {
    const me = personOf(actor).id;
    if (row.requester_id !== me && row.accountable_id !== me) throw errors.forbidden(`only the requester (or the human answerable for it) may ${what} a request`);
  }

  /** Decided, cancelled and expired requests (swept or not yet) take no decision, edit or cancellation. */
  function assertPending(row: AccessRequestsTable) {
    if (row.status !== 'pending') throw new AppError('request_not_pending', `access request '${row.id}' is ${row.status}`, { status: row.status });
    if (row.pending_until !== null && clock.now().getTime() >= Date.parse(row.pending_until)) {
      throw new AppError('request_not_pending', `access request '${row.id}' expired at ${row.pending_until}`, { status: 'expired' });
    }
  }

  /** Raises a pending request to the rule the registry implies now when that is riskier than the frozen one. */
  async function retier(trx: Trx, batch: WriteBatch, row: AccessRequestsTable): Promise<AccessRequestsTable> {
    const settings = await ctx.settings(trx);
    const subject = await principalOrFail(trx, row.subject_id);
    const named = row.kind === 'access' ? await resolveResources(trx, resourcesOf(row).map((r) => r.id)) : [];
    const now = requirementFor(settings, row.kind as 'access' | 'registration', subject, await covered(trx, named), JSON.parse(row.actions) as string[]);
    if (riskier(now.tier, row.tier as Tier) === row.tier) return row;
    const patch = { tier: now.tier, requirement: JSON.stringify(now.requirement), updated_at: clock.now().toISOString() };
    if (!(await repo.updatePending(trx, row.id, row.revision, patch))) throw new AppError('request_not_pending', `access request '${row.id}' was decided meanwhile`, { status: 'decided' });
    const after = { ...row, ...patch };
    await record(trx, batch, ctx.workflowActor(`request/${row.id}`), 'access_request.retiered', after, { from: row.tier, to: now.tier, requirement: { ...now.requirement, conflicts: now.requirement.conflicts.map((c) => c.name) } });
    return after;
  }

  async function decide(actor: Actor, id: string, decision: 'approve' | 'deny', input: { request_hash: string; comment?: string; reason?: string }): Promise<RequestView> {
    const me = personOf(actor);
    return db.write(async (trx, batch) => {
      const read = await load(trx, id);
      assertPending(read);
      if (input.request_hash !== read.request_hash) {
        throw new AppError('request_changed', `access request '${id}' changed since you read it (revision ${read.revision}): read it again`, { current_hash: read.request_hash });
      }
      // The rule is the stricter of the one frozen at filing and the one the registry implies now (a resource or
      // the subject may have become riskier since).
      const row = await retier(trx, batch, read);
      const parties = await partiesOf(trx, row);
      const refusal = approverRefusal(factsOf(actor), parties);
      if (refusal) throw new AppError(refusal.code, refusal.detail);
      const checks = await checkersOf(trx, row);
      const conflict = checks.conflictOf(me.id);
      if (conflict) throw new AppError('approver_not_eligible', `the conflicting-role pair '${conflict.name}' excludes you from deciding this request`, { conflict: conflict.name });
      if (!eligibleForAnySlot(checks.requirement.slots, me.id, checks.inGroup)) {
        throw new AppError('approver_not_eligible', `this ${row.tier} risk request needs approvers from: ${checks.requirement.slots.join(', ')}; you are in none of them`, { needs: (await outcomeOf(trx, row, { checks, parties })).needs });
      }
      const previous = await repo.approvalsOf(trx, row.id);
      if (previous.some((a) => a.approver_id === me.id && a.request_hash === row.request_hash && a.revision === row.revision)) {
        throw new AppError('already_decided', `you already decided revision ${row.revision} of this request: one person counts once`);
      }
      const now = clock.now().toISOString();
      await repo.insertApproval(trx, {
        id: ctx.newId(), request_id: row.id, approver_id: me.id, decision, request_hash: row.request_hash, revision: row.revision,
        comment: input.comment ?? input.reason ?? null, credential_id: actor.credential?.id ?? null, created_at: now,
      });
      if (decision === 'deny') {
        const patch = { status: 'denied' as const, decided_at: now, decided_by: me.id, decision_reason: input.reason ?? null, updated_at: now };
        if (!(await repo.updatePending(trx, row.id, row.revision, patch))) throw new AppError('request_not_pending', `access request '${id}' was decided meanwhile`, { status: 'decided' });
        const after = { ...row, ...patch };
        await record(trx, batch, actor, 'access_request.denied', after, { reason: input.reason ?? null, revision: row.revision, request_hash: row.request_hash });
        await notify(trx, batch, 'request.denied', after, { reason: input.reason ?? null, by: { id: me.id, name: me.name } });
        return toView(trx, after);
      }
      await record(trx, batch, actor, 'access_request.approval', row, { revision: row.revision, request_hash: row.request_hash, comment: input.comment ?? null });
      const outcome = await outcomeOf(trx, row, { checks, parties });
      const final = outcome.satisfied ? await finalise(trx, batch, row, { auto: false, approvers: outcome.counted }) : row;
      return toView(trx, final);
    });
  }

  return {
    async create(actor: Actor, input: CreateRequestInput): Promise<RequestView> {
      const me = personOf(actor);
      return db.write(async (trx, batch) => {
        const requester = await principalOrFail(trx, me.id);
        const subject = input.subject === undefined ? requester : await principalOrFail(trx, input.subject);
        assertMayFileFor(actor, requester, subject);
        const kind = input.kind;
        if (kind === 'registration') {
          if (input.resources || input.actions || input.purpose || input.duration_seconds) {
            throw errors.validation('a registration request names only its subject, a justification and optionally a ticket', [{ path: ['kind'], message: 'registration takes no resources, actions, purpose or duration' }]);
          }
          if (subject.status !== 'proposed' || subject.kind === 'human' || (subject.riskTier !== 'high' && subject.riskTier !== 'critical')) {
            throw errors.validation(`'${subject.name}' (${subject.status}, ${subject.riskTier} risk ${subject.kind}) needs no registration request: only proposed high and critical risk non-human principals do`, [{ path: ['subject'], message: 'no registration needed' }]);
          }
        } else {
          const missing = (['resources', 'actions', 'purpose', 'duration_seconds'] as const).filter((k) => input[k] === undefined);
          if (missing.length) throw errors.validation(`an access request needs ${missing.join(', ')}`, missing.map((m) => ({ path: [m], message: 'required' })));
        }
        const resources = kind === 'access' ? await resolveResources(trx, input.resources!) : [];
        const draft: Draft = {
          kind, subject, resources, actions: normalise(input.actions ?? []), purpose: input.purpose ?? null, justification: input.justification,
          durationSeconds: kind === 'access' ? input.duration_seconds! : 0, ticket: input.ticket ?? null,
        };
        const { tier, requirement, hash, stored } = await prepare(trx, draft, 1);
        const { accountable, chain } = await requesterChain(trx, actor, requester);
        const now = clock.now();
        const row: AccessRequestsTable = {
          id: ctx.newId(), kind, status: 'pending', requester_id: requester.id, accountable_id: accountable, requester_chain: JSON.stringify(chain),
          subject_id: subject.id, resources: JSON.stringify(stored), actions: JSON.stringify(draft.actions), purpose: draft.purpose,
          justification: draft.justification, duration_seconds: draft.durationSeconds, ticket: draft.ticket, tier, requirement: JSON.stringify(requirement),
          request_hash: hash, revision: 1, created_at: now.toISOString(), updated_at: now.toISOString(),
          pending_until: new Date(now.getTime() + requirement.pending_seconds * 1000).toISOString(), decided_at: null, decided_by: null, decision_reason: null,
          grant_ids: '[]', review_status: null, review_finding: null, review_closed_by: null, review_closed_at: null,
        };
        await repo.insertRequest(trx, row);
        await record(trx, batch, actor, 'access_request.created', row, {
          kind, subject: { id: subject.id, name: subject.name }, resources: stored, actions: draft.actions, purpose: draft.purpose, justification: draft.justification,
          duration_seconds: draft.durationSeconds, ticket: draft.ticket, tier, requirement: { ...requirement, conflicts: requirement.conflicts.map((c) => c.name) },
          request_hash: hash, accountable, requester_chain: chain,
        });
        await notify(trx, batch, 'request.created', row, {}, await approverRecipients(trx, row));
        const final = requirement.auto_approve ? await finalise(trx, batch, row, { auto: true, approvers: [] }) : row;
        return toView(trx, final);
      });
    },

    async update(actor: Actor, id: string, input: UpdateRequestInput): Promise<RequestView> {
      return db.write(async (trx, batch) => {
        const row = await load(trx, id);
        assertRequesterSide(actor, row, 'edit');
        assertPending(row);
        if (row.kind !== 'access' && (input.resources || input.actions || input.purpose || input.duration_seconds)) {
          throw errors.validation('a registration request changes only its justification and ticket', [{ path: [], message: 'registration takes no resources, actions, purpose or duration' }]);
        }
        const subject = await principalOrFail(trx, row.subject_id);
        const resources = row.kind === 'access' ? await resolveResources(trx, input.resources ?? resourcesOf(row).map((r) => r.id)) : [];
        const draft: Draft = {
          kind: row.kind as 'access' | 'registration', subject, resources, actions: normalise(input.actions ?? JSON.parse(row.actions) as string[]),
          purpose: input.purpose ?? row.purpose, justification: input.justification ?? row.justification,
          durationSeconds: input.duration_seconds ?? row.duration_seconds, ticket: input.ticket === undefined ? row.ticket : input.ticket,
        };
        const unchanged = await prepare(trx, draft, row.revision);
        if (unchanged.hash === row.request_hash) return toView(trx, row);
        const { tier, requirement, hash, stored } = await prepare(trx, draft, row.revision + 1);
        const now = clock.now().toISOString();
        const patch = {
          resources: JSON.stringify(stored), actions: JSON.stringify(draft.actions), purpose: draft.purpose, justification: draft.justification,
          duration_seconds: draft.durationSeconds, ticket: draft.ticket, tier, requirement: JSON.stringify(requirement), request_hash: hash,
          revision: row.revision + 1, updated_at: now,
        };
        if (!(await repo.updatePending(trx, row.id, row.revision, patch))) throw new AppError('request_not_pending', `access request '${id}' was decided meanwhile`, { status: 'decided' });
        const after = { ...row, ...patch };
        await record(trx, batch, actor, 'access_request.updated', after, {
          revision: after.revision, previous_hash: row.request_hash, request_hash: hash, changed: Object.keys(input), tier,
        });
        const final = requirement.auto_approve ? await finalise(trx, batch, after, { auto: true, approvers: [] }) : after;
        return toView(trx, final);
      });
    },

    approve: (actor: Actor, id: string, input: DecideInput) => decide(actor, id, 'approve', input),
    deny: (actor: Actor, id: string, input: DenyInput) => decide(actor, id, 'deny', input),

    async cancel(actor: Actor, id: string, input: CancelInput): Promise<RequestView> {
      return db.write(async (trx, batch) => {
        const row = await load(trx, id);
        if (!(actor.role && STAFF.has(actor.role))) assertRequesterSide(actor, row, 'cancel');
        assertPending(row);
        const now = clock.now().toISOString();
        const patch = { status: 'cancelled' as const, decided_at: now, decided_by: personOf(actor).id, decision_reason: input.reason ?? null, updated_at: now };
        if (!(await repo.updatePending(trx, row.id, row.revision, patch))) throw new AppError('request_not_pending', `access request '${id}' was decided meanwhile`, { status: 'decided' });
        const after = { ...row, ...patch };
        await record(trx, batch, actor, 'access_request.cancelled', after, { reason: input.reason ?? null });
        await notify(trx, batch, 'request.cancelled', after, { reason: input.reason ?? null });
        return toView(trx, after);
      });
    },

    async get(actor: Actor, id: string): Promise<RequestView> {
      const row = await load(db.kysely, id);
      if (!actor.role) {
        const me = personOf(actor).id;
        if (row.requester_id !== me && row.subject_id !== me) throw errors.notFound('access request', id);
      }
      return toView(db.kysely, row);
    },

    async list(actor: Actor, query: ListRequestsQuery) {
      const after = decodeCursor(query.cursor);
      const subjectId = query.subject === undefined ? undefined : (await directory.principal(db.kysely as Trx, query.subject))?.id ?? '-';
      const rows = await repo.listRequests(db.kysely, {
        afterId: after === undefined ? undefined : String(after), limit: query.limit + 1, status: query.status, kind: query.kind, subjectId,
        mineOf: query.mine ? personOf(actor).id : undefined,
        // Principals without an operator role (agents asking for themselves) see only their own.
        selfOf: actor.role ? undefined : personOf(actor).id,
      });
      const page = pageOf(rows, query.limit, (r) => r.id);
      const cache = new Map<string, { id: string; name: string; kind: string }>();
      const items: RequestView[] = [];
      for (const r of page.items) items.push(await toView(db.kysely, r, cache));
      return { items, next_cursor: page.next_cursor };
    },

    /** Pending requests past their time become expired (and are reported). */
    async expireDue(): Promise<number> {
      const due = await repo.duePending(db.kysely, clock.now().toISOString(), 100);
      if (due.length === 0) return 0;
      return db.write(async (trx, batch) => {
        let n = 0;
        for (const stale of due) {
          const row = await repo.findRequest(trx, stale.id);
          if (!row || row.status !== 'pending') continue;
          const now = clock.now().toISOString();
          const patch = { status: 'expired' as const, decided_at: now, decided_by: 'system', updated_at: now };
          if (!(await repo.updatePending(trx, row.id, row.revision, patch))) continue;
          const after = { ...row, ...patch };
          await record(trx, batch, ctx.workflowActor(`request/${row.id}`), 'access_request.expired', after, { pending_until: row.pending_until });
          await notify(trx, batch, 'request.expired', after);
          n++;
        }
        return n;
      });
    },

    /** An approver of the request behind an approval grant may revoke that grant early. */
    async mayRevokeGrant(trx: Trx, actor: Actor, grant: { source: string; source_ref: string | null }): Promise<boolean> {
      if (grant.source !== 'approval' || !grant.source_ref || !actor.principal || actor.delegationChain.length) return false;
      const row = await repo.findRequest(trx, grant.source_ref);
      if (!row) return false;
      const me = actor.principal.id;
      return (await repo.approvalsOf(trx, row.id)).some((a) => a.approver_id === me && a.decision === 'approve' && a.request_hash === row.request_hash && a.revision === row.revision);
    },

    async assertDirectGrantAllowed(trx: Trx, resourceRef: string): Promise<void> {
      const resource = await directory.resource(trx, resourceRef);
      if (!resource) return; // the grant itself answers resource_not_found
      const settings = await ctx.settings(trx);
      const all = await covered(trx, [resource]);
      const tier = all.map((r) => effectiveTier(settings, r)).reduce<Tier>((a, b) => riskier(a, b), 'low');
      if (tier === 'high' || tier === 'critical') {
        throw new AppError('approval_required', `'${resource.name}' is ${tier} risk${tier !== effectiveTier(settings, resource) ? ' (through what is below it)' : ''}: access is granted through an approved access request (custos request create …), not directly`, { tier });
      }
    },

    async grantRevoked(trx: Trx, batch: WriteBatch, actor: Actor, grant: GrantRecord, reason: string): Promise<void> {
      await ctx.notify(trx, batch, {
        type: 'grant.revoked',
        data: {
          grant: { id: grant.id, principal: grant.principal, resource: grant.resource, actions: grant.actions, purpose: grant.purpose, source: grant.source, source_ref: grant.source_ref },
          reason, revoked_by: actor.principal ? { id: actor.principal.id, name: actor.principal.name } : { id: null, name: actor.label },
        },
      });
    },
  };
}

export type RequestService = ReturnType<typeof createRequestService>;
