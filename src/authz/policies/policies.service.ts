import crypto from 'node:crypto';
import type { Actor } from '../../platform/actor.js';
import { errors } from '../../platform/http/errors.js';
import { decodeCursor, pageOf } from '../../platform/http/pagination.js';
import type { Trx, WriteBatch } from '../../platform/store/db.js';
import type { PolicyVersionsTable } from '../../platform/store/schema.js';
import { NO_FACTS, type DecisionRequest, type RequestFacts, type ResourceTarget } from '../contracts.js';
import type { AuthzPartContext } from '../parts.js';
import { reasonText } from '../pdp.js';
import { screenPolicyInput } from '../cedar-screen.js';
import { invalidPolicy, notActivatable, testsFailed } from './errors.js';
import * as repo from './policies.repo.js';
import {
  DEFAULT_IMPACT_LIMIT, type Activated, type CreatePolicyInput, type Impact, type ImpactInput, type ListQuery, type RollbackInput,
  type TestReport, type VersionSummary, type VersionView,
} from './policies.schemas.js';
import { actionProblems, caseContext, caseRequest, parseTestCases, refusalWarnings, TestCasesError, type CaseResult, type TestCase } from './test-cases.js';
import { knownActions, policyIds, policyProblems } from './validation.js';

// The policy lifecycle (policy as code): versioned user policy sets with their test cases.
//
// Rules:
// - Text from a request (policies, application schema) is screened first (cedar-screen.ts: parsed in a worker, too
//   deep a nesting refused) before any Cedar call in this thread sees it: a hostile text must not break the engine
//   every decision uses. Stored versions are screened again before activation, rollback and impact.
// - A version is created as a `candidate` only when its Cedar text parses, validates against the shipped schema in
//   strict mode and its test cases parse; otherwise nothing is stored (422 listing every problem with line/column).
//   Versions are numbered 1, 2, … in creation order and never change afterwards (text, tests and SHA-256 are fixed).
// - Activation is its own call, by a person holding policy.write, with a reason. It validates again (the schema
//   ships with Custos and may have changed) and runs the version's tests against the current registry through the
//   decision point (guardrails and live grants included). Only if both pass does it become active: the previous
//   active version is `superseded` in the same transaction (one db.write job, with its `policy.activated` event),
//   and the store's partial unique index makes two active versions impossible. The decision point's snapshot reads
//   the version counter the triggers bump in that transaction, so no decision sees half of a version.
// - A refused activation changes nothing that decides: the previous version stays active; a candidate becomes
//   `rejected` (its status_reason says why it was refused); `policy.activation_refused` records who, why and the
//   failures.
// - Rollback returns to a version that was active before (default: the most recent one), with a reason, audited as
//   `policy.rolled_back`. It validates again but does not block on tests (rolling back is how one gets out of
//   trouble); their results are reported.
// - Impact replays recent recorded decisions (their request and the Cedar context used then) against the current
//   active policies and against a candidate, and lists every decision that would flip. It changes nothing.

type Ctx = Pick<AuthzPartContext, 'db' | 'audit' | 'clock' | 'newId' | 'pdp' | 'entities' | 'recentDecisions'>;

export function sha256Hex(text: string): string {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

function summary(row: PolicyVersionsTable): VersionSummary {
  return {
    version: row.version, status: row.status, description: row.description, sha256: row.sha256, created_at: row.created_at,
    created_by: row.created_by, activated_at: row.activated_at, activated_by: row.activated_by, status_reason: row.status_reason,
  };
}

function countCases(tests: string | null): number {
  if (!tests) return 0;
  try {
    return parseTestCases(tests).length;
  } catch {
    return 0;
  }
}

function view(row: PolicyVersionsTable, names: { created: string | null; activated: string | null } = { created: null, activated: null }): VersionView {
  let ids: string[] = [];
  try {
    ids = policyIds(row.policies);
  } catch {
    // Stored versions parsed when they were created; a Cedar upgrade that no longer parses one shows no ids.
  }
  return {
    ...summary(row), policies: row.policies, tests: row.tests, app_schema: row.app_schema, policy_ids: ids, test_count: countCases(row.tests),
    created_by_name: names.created, activated_by_name: names.activated,
  };
}

function report(results: CaseResult[]): TestReport {
  const failed = results.filter((r) => !r.passed).length;
  return { passed: results.length - failed, failed, results, warnings: refusalWarnings(results) };
}

const NO_REPORT: TestReport = { passed: 0, failed: 0, results: [], warnings: [] };

/** Parses a version's test cases and checks their actions; throws TestCasesError. */
function casesOf(tests: string | null | undefined, appSchema: string | null | undefined): TestCase[] {
  if (!tests || tests.trim() === '') return [];
  const cases = parseTestCases(tests);
  const problems = actionProblems(cases, knownActions(appSchema));
  if (problems.length) throw new TestCasesError(problems);
  return cases;
}

function checkedCases(tests: string | null | undefined, appSchema: string | null | undefined): TestCase[] {
  try {
    return casesOf(tests, appSchema);
  } catch (error) {
    if (error instanceof TestCasesError) throw invalidPolicy('tests', error.problems);
    throw error;
  }
}

/** Screens, then validates; throws invalid_policy listing the problems. */
async function checkedPolicies(text: string, appSchema: string | null | undefined): Promise<void> {
  const unsafe = await screenPolicyInput({ policies: text, appSchema: appSchema ?? null });
  if (unsafe.length) throw invalidPolicy('policies', unsafe);
  const problems = policyProblems(text, appSchema);
  if (problems.length) throw invalidPolicy('policies', problems);
}

/** Every problem of a stored version's text: screening first (nothing else runs on a text it refuses). */
async function storedProblems(text: string, appSchema: string | null): Promise<ReturnType<typeof policyProblems>> {
  const unsafe = await screenPolicyInput({ policies: text, appSchema });
  return unsafe.length ? unsafe : policyProblems(text, appSchema);
}

/** Why a rejected version was refused, in one line (its status_reason). */
function refusalSummary(reason: string, problems: Array<{ message: string }>, testProblems: Array<{ message: string }>, failures: CaseResult[]): string {
  const why = problems.length ? `the Cedar text is not valid: ${problems[0]!.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`
    : testProblems.length ? `the test cases are not valid: ${testProblems[0]!.message}${testProblems.length > 1 ? ` (and ${testProblems.length - 1} more)` : ''}`
      : `test '${failures[0]!.name}' expected ${failures[0]!.expect} but got ${failures[0]!.got}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''}`;
  return `activation refused: ${why}; activation reason: ${reason}`.slice(0, 2000);
}

function describeTarget(r: ResourceTarget): string {
  if (r.kind === 'registry') return r.resourceKind ? `${r.resourceKind}:${r.ref}` : r.ref;
  if (r.kind === 'app') return `${r.type}:${r.id}`;
  return 'api:custos';
}

/** The DecisionRequest an `authz.decision` event recorded (pdp.ts recordedRequest), or undefined when it holds none. */
export function replayableRequest(event: Record<string, unknown>): { request: DecisionRequest; context: Record<string, unknown> } | undefined {
  const details = event.details as { request?: Record<string, unknown>; context?: Record<string, unknown>; simulated_facts?: unknown } | undefined;
  const r = details?.request;
  const context = details?.context;
  // An explanation (`custos authz check`) ran on facts an operator stated: not traffic to replay.
  if (details?.simulated_facts !== undefined) return undefined;
  if (!r || !context || typeof r.principal !== 'string' || typeof r.action !== 'string' || typeof r.resource !== 'object' || r.resource === null) return undefined;
  const f = (r.facts ?? {}) as Record<string, unknown>;
  const facts: RequestFacts = {
    ...NO_FACTS,
    purpose: typeof f.purpose === 'string' ? f.purpose : null,
    delegationChain: Array.isArray(f.delegation_chain) ? f.delegation_chain.filter((x): x is string => typeof x === 'string') : [],
    authMethod: (f.auth_method as RequestFacts['authMethod']) ?? 'none',
    credentialKind: (f.credential_kind as RequestFacts['credentialKind']) ?? 'none',
    dpopBound: f.dpop_bound === true,
    issuedAt: typeof f.issued_at === 'string' ? new Date(f.issued_at) : null,
    sourceIp: typeof f.source_ip === 'string' ? f.source_ip : null,
    via: f.via === 'gateway' ? 'gateway' : 'direct',
    workloadId: typeof f.workload_id === 'string' ? f.workload_id : null,
    risk: typeof f.risk === 'number' ? f.risk : 0,
  };
  return {
    request: {
      principal: r.principal, action: r.action, resource: r.resource as ResourceTarget, facts,
      ...(r.asserted ? { asserted: r.asserted as DecisionRequest['asserted'] } : {}), requestId: null,
    },
    context,
  };
}

export function createPoliciesService(ctx: Ctx) {
  const { db, audit, clock, newId, pdp, entities } = ctx;

  async function load(version: number): Promise<PolicyVersionsTable> {
    const row = await repo.findVersion(db.kysely, version);
    if (!row) throw errors.notFound('policy version', String(version));
    return row;
  }

  const nameOf = async (id: string | null) => (id ? (await entities.principal(id))?.name ?? null : null);

  /** A version with the names of who created and activated it (the registry's, today). */
  async function named(row: PolicyVersionsTable): Promise<VersionView> {
    return view(row, { created: await nameOf(row.created_by), activated: await nameOf(row.activated_by) });
  }

  /** Runs test cases against `text` through the decision point (current registry, guardrails, live grants). */
  async function runCases(text: string, appSchema: string | null | undefined, cases: TestCase[], label: string): Promise<TestReport> {
    const results: CaseResult[] = [];
    for (const c of cases) {
      const request = caseRequest(c);
      const principal = await entities.principal(request.principal);
      const chainNames: string[] = [];
      for (const ref of request.facts.delegationChain) chainNames.push((await entities.principal(ref))?.name ?? ref);
      const context = caseContext(c, principal?.kind ?? 'unknown', chainNames);
      const decision = await pdp.evaluate(request, { candidate: { text, label, appSchema: appSchema ?? null }, context });
      results.push({ name: c.name, expect: c.expect, got: decision.decision, passed: decision.decision === c.expect, reasons: decision.reasons.map(reasonText) });
    }
    return report(results);
  }

  const target = (row: PolicyVersionsTable) => ({ type: 'policy_version', id: row.id, name: String(row.version) });
  const by = (actor: Actor) => actor.principal?.id ?? null;

  async function record(trx: Trx, batch: WriteBatch, actor: Actor, type: string, row: PolicyVersionsTable, outcome: 'success' | 'failure', details: Record<string, unknown>) {
    await audit.record(trx, batch, { type, action: type, actor, target: target(row), outcome, details });
  }

  /** Makes `row` the active version in one job: the current one superseded, the event recorded. */
  async function makeActive(actor: Actor, row: PolicyVersionsTable, reason: string, type: 'policy.activated' | 'policy.rolled_back', report: TestReport) {
    return db.write(async (trx, batch) => {
      const fresh = await repo.findVersion(trx, row.version);
      if (!fresh) throw errors.notFound('policy version', String(row.version));
      if (fresh.status === 'active') throw notActivatable(`version ${row.version} is already active`);
      const current = await repo.findActive(trx);
      // activated_at strictly increases from one activation to the next (even on a coarse or stepped clock), so "the
      // version active most recently before this one" — the rollback target — is always well defined.
      const nowMs = clock.now().getTime();
      const now = new Date(current?.activated_at ? Math.max(nowMs, Date.parse(current.activated_at) + 1) : nowMs).toISOString();
      if (current) await repo.setStatus(trx, current.id, { status: 'superseded' });
      await repo.setStatus(trx, fresh.id, { status: 'active', activated_at: now, activated_by: by(actor), status_reason: reason });
      await record(trx, batch, actor, type, fresh, 'success', {
        from: current?.version ?? null, to: fresh.version, reason, sha256: fresh.sha256,
        tests: { passed: report.passed, failed: report.failed, failures: report.results.filter((r) => !r.passed).map((r) => r.name) },
      });
      return { active: (await repo.findVersion(trx, fresh.version))!, previous: current?.version ?? null };
    }).then(async ({ active, previous }) => ({ active: await named(active), previous, test_report: report }) satisfies Activated);
  }

  /** Replays recent decisions against `text` and lists the ones that would flip. */
  async function impact(text: string, appSchema: string | null | undefined, input: ImpactInput, label = 'candidate:impact'): Promise<Impact> {
    await checkedPolicies(text, appSchema);
    const events = await ctx.recentDecisions({ ...(input.since ? { since: input.since } : {}), limit: input.limit ?? DEFAULT_IMPACT_LIMIT });
    const out: Impact = { candidate: label, replayed: 0, skipped: 0, flips: [] };
    for (const event of events) {
      const replay = replayableRequest(event);
      if (!replay) {
        out.skipped += 1;
        continue;
      }
      const { request, context } = replay;
      const before = await pdp.evaluate(request, { context });
      const after = await pdp.evaluate(request, { candidate: { text, label, appSchema: appSchema ?? null }, context });
      out.replayed += 1;
      if (before.decision === after.decision) continue;
      out.flips.push({
        event_id: String(event.id ?? ''), time: String(event.time ?? ''), principal: request.principal, principal_name: await nameOf(request.principal), action: request.action,
        resource: describeTarget(request.resource), recorded: event.decision === 'allow' || event.decision === 'deny' ? event.decision : null,
        before: before.decision, after: after.decision, reasons_before: before.reasons.map(reasonText), reasons_after: after.reasons.map(reasonText),
      });
    }
    return out;
  }

  return {
    runCases,

    async create(actor: Actor, input: CreatePolicyInput): Promise<VersionView & { test_report: TestReport }> {
      await checkedPolicies(input.policies, input.app_schema);
      const cases = checkedCases(input.tests, input.app_schema);
      const row = await db.write(async (trx, batch) => {
        const version = (await repo.latestVersion(trx)) + 1;
        const r: PolicyVersionsTable = {
          id: newId(), version, status: 'candidate', policies: input.policies, tests: input.tests && input.tests.trim() !== '' ? input.tests : null,
          app_schema: input.app_schema ?? null,
          description: input.description ?? null, sha256: sha256Hex(input.policies), created_at: clock.now().toISOString(), created_by: by(actor),
          activated_at: null, activated_by: null, status_reason: null,
        };
        await repo.insertVersion(trx, r);
        await record(trx, batch, actor, 'policy.created', r, 'success', {
          version, sha256: r.sha256, policy_ids: policyIds(r.policies), test_count: cases.length, app_actions: [...knownActions(r.app_schema).app],
          description: r.description, reason: input.reason ?? null,
        });
        return r;
      });
      return { ...(await named(row)), test_report: await runCases(row.policies, row.app_schema, cases, `candidate:${row.version}`) };
    },

    async list(query: ListQuery): Promise<{ items: VersionSummary[]; next_cursor: string | null }> {
      const after = decodeCursor(query.cursor);
      const rows = await repo.listVersions(db.kysely, { beforeVersion: after === undefined ? undefined : Number(after), status: query.status, limit: query.limit + 1 });
      const page = pageOf(rows, query.limit, (r) => r.version);
      return { items: page.items.map(summary), next_cursor: page.next_cursor };
    },

    async get(version: number): Promise<VersionView> {
      return named(await load(version));
    },

    async active(): Promise<VersionView> {
      const row = await repo.findActive(db.kysely);
      if (!row) throw errors.notFound('active policy version', 'active');
      return named(row);
    },

    async activate(actor: Actor, version: number, reason: string): Promise<Activated> {
      const row = await load(version);
      if (row.status === 'active') throw notActivatable(`version ${version} is already active`);
      const problems = await storedProblems(row.policies, row.app_schema);
      let cases: TestCase[] = [];
      let testProblems: TestCasesError['problems'] = [];
      try {
        cases = casesOf(row.tests, row.app_schema);
      } catch (error) {
        if (!(error instanceof TestCasesError)) throw error;
        testProblems = error.problems;
      }
      const tested = problems.length || testProblems.length ? NO_REPORT : await runCases(row.policies, row.app_schema, cases, `candidate:${version}`);
      const failures = tested.results.filter((r) => !r.passed);
      if (problems.length || testProblems.length || failures.length) {
        await db.write(async (trx, batch) => {
          const current = await repo.findActive(trx);
          if (row.status === 'candidate' || row.status === 'rejected') await repo.setStatus(trx, row.id, { status: 'rejected', status_reason: refusalSummary(reason, problems, testProblems, failures) });
          await record(trx, batch, actor, 'policy.activation_refused', row, 'failure', {
            version, active: current?.version ?? null, reason,
            problems: [...problems, ...testProblems].map((p) => ({ message: p.message, line: p.line, column: p.column })),
            failures: failures.map((f) => ({ name: f.name, expect: f.expect, got: f.got })),
          });
        });
        if (problems.length) throw invalidPolicy('policies', problems);
        if (testProblems.length) throw invalidPolicy('tests', testProblems);
        throw testsFailed(version, failures);
      }
      return makeActive(actor, row, reason, 'policy.activated', tested);
    },

    async rollback(actor: Actor, input: RollbackInput): Promise<Activated> {
      const row = input.to !== undefined ? await load(input.to) : await repo.findPreviouslyActive(db.kysely);
      if (!row) throw notActivatable('no version was active before the current one: there is nothing to roll back to');
      if (row.status === 'active') throw notActivatable(`version ${row.version} is the active version`);
      if (row.status !== 'superseded') throw notActivatable(`version ${row.version} was never active (${row.status}): activate it instead, which runs its tests`, ['activate']);
      const problems = await storedProblems(row.policies, row.app_schema);
      if (problems.length) throw invalidPolicy('policies', problems);
      let tested: TestReport = NO_REPORT;
      try {
        tested = await runCases(row.policies, row.app_schema, casesOf(row.tests, row.app_schema), `candidate:${row.version}`);
      } catch (error) {
        if (!(error instanceof TestCasesError)) throw error;
      }
      return makeActive(actor, row, input.reason, 'policy.rolled_back', tested);
    },

    impact,

    async impactOfVersion(version: number, input: ImpactInput): Promise<Impact> {
      const row = await load(version);
      return impact(row.policies, row.app_schema, input, `candidate:${row.version}`);
    },
  };
}

export type PoliciesService = ReturnType<typeof createPoliciesService>;
