import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decision, DecisionRequest } from '../../src/authz/index.js';
import { PRINCIPALS, PURPOSES, RESOURCES, TEAMS, principalId, registry, request, seedRegistry } from '../support/authz.js';
import { startHarness, type Harness } from '../support/harness.js';

// Properties of OUR decision point (guardrails, grants, context building, the any-error-denies rule and delegation as
// intersection included), not of raw Cedar. Policy sets come from a small grammar over the registry fixture
// (test/support/authz.ts) and are evaluated as candidates (`evaluate(request, { candidate })`), so no store write is
// needed per case. Conditions include ones that error for some principals or resources (a label read without
// `hasTag`), so errors show up in ordinary generated sets too.

const NUM_RUNS = 100;

const TYPE: Record<string, string> = {
  human: 'Human', agent: 'Agent', service_account: 'ServiceAccount', workload: 'Workload', model: 'Model', dataset: 'Dataset', tool: 'Tool',
};
const ACTIONS = ['read', 'invoke', 'write', 'deploy'] as const;
const uidOf = (kind: string, name: string) => `Custos::${TYPE[kind]}::"${name}"`;

// ---- the grammar -------------------------------------------------------------------------------------------------

const principalScope = fc.oneof(
  { weight: 4, arbitrary: fc.constant('principal') },
  { weight: 1, arbitrary: fc.constantFrom(...PRINCIPALS).map((p) => `principal == ${uidOf(p.kind, p.name)}`) },
  { weight: 1, arbitrary: fc.constantFrom('Human', 'Agent', 'ServiceAccount', 'Workload').map((t) => `principal is Custos::${t}`) },
  { weight: 1, arbitrary: fc.constantFrom(...TEAMS).map((t) => `principal in Custos::Team::"${t}"`) },
);
const actionScope = fc.oneof(
  { weight: 3, arbitrary: fc.constant('action') },
  { weight: 1, arbitrary: fc.constantFrom(...ACTIONS).map((a) => `action == Custos::Action::"${a}"`) },
  { weight: 1, arbitrary: fc.subarray([...ACTIONS], { minLength: 1 }).map((as) => `action in [${as.map((a) => `Custos::Action::"${a}"`).join(', ')}]`) },
);
const resourceScope = fc.oneof(
  { weight: 4, arbitrary: fc.constant('resource') },
  { weight: 1, arbitrary: fc.constantFrom(...RESOURCES).map((r) => `resource == ${uidOf(r.kind, r.name)}`) },
  { weight: 1, arbitrary: fc.constant(`resource in ${uidOf('dataset', 'coll')}`) },
  { weight: 1, arbitrary: fc.constantFrom('Dataset', 'Model', 'Tool').map((t) => `resource is Custos::${t}`) },
);

const atom = fc.oneof(
  fc.constant('true'),
  fc.constantFrom(...PURPOSES).map((p) => `context.purpose == "${p}"`),
  fc.constant('principal.purposes.contains(context.purpose)'),
  fc.constant('resource.purposes.contains(context.purpose)'),
  fc.integer({ min: 0, max: 3 }).map((n) => `resource.classification_rank <= ${n}`),
  fc.constantFrom('human', 'agent', 'workload').map((k) => `principal.kind == "${k}"`),
  fc.constant('context.auth.dpop_bound'),
  fc.constant('context.delegation.depth > 0'),
  fc.constant('resource.environment == "prod"'),
  fc.constant('principal.hasTag("clearance") && principal.getTag("clearance") == "high"'),
  // These error where the label is missing (Cedar would skip the policy; our PDP denies).
  fc.constantFrom('principal.getTag("clearance") == "high"', 'principal.getTag("clearance") == "low"'),
  fc.constant('resource.getTag("environment") == "dev"'),
);
const condition: fc.Arbitrary<string> = fc.letrec<{ c: string }>((tie) => ({
  c: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    atom,
    tie('c').map((c) => `!(${c})`),
    fc.tuple(tie('c'), tie('c')).map(([a, b]) => `(${a} && ${b})`),
    fc.tuple(tie('c'), tie('c')).map(([a, b]) => `(${a} || ${b})`),
  ),
})).c;

interface Policy { effect: 'permit' | 'forbid'; scope: string; clause: { kind: 'when' | 'unless'; body: string } | null }
const scope = fc.tuple(principalScope, actionScope, resourceScope).map(([p, a, r]) => `${p}, ${a}, ${r}`);
const clause = fc.option(fc.record({ kind: fc.constantFrom('when' as const, 'unless' as const), body: condition }), { nil: null, freq: 3 });
const policyOf = (effect: fc.Arbitrary<'permit' | 'forbid'>): fc.Arbitrary<Policy> => fc.record({ effect, scope, clause });
const anyPolicy = policyOf(fc.constantFrom('permit' as const, 'permit' as const, 'forbid' as const));
const policies = fc.array(anyPolicy, { minLength: 0, maxLength: 6 });

const render = (p: Policy, id: string) => `@id("${id}")\n${p.effect} (${p.scope})${p.clause ? ` ${p.clause.kind} { ${p.clause.body} }` : ''};`;
/** Cedar text with stable ids (`u0`, `u1`, … by generation order) so reasons are comparable across orderings. */
const textOf = (set: Array<{ policy: Policy; id: string }>) => set.map(({ policy, id }) => render(policy, id)).join('\n');
const named = (set: Policy[], prefix = 'u') => set.map((policy, i) => ({ policy, id: `${prefix}${i}` }));

// ---- requests ----------------------------------------------------------------------------------------------------

interface Ask { principal: string; action: string; resource: string; purpose: string | null; dpopBound: boolean; chain: string[] }
const ask: fc.Arbitrary<Ask> = fc.record({
  principal: fc.constantFrom(...PRINCIPALS.map((p) => p.name)),
  action: fc.constantFrom(...ACTIONS),
  resource: fc.constantFrom(...RESOURCES.map((r) => r.name)),
  purpose: fc.option(fc.constantFrom(...PURPOSES), { nil: null }),
  dpopBound: fc.boolean(),
  chain: fc.constant([] as string[]),
});
const delegatedAsk = fc.record({
  base: ask,
  chain: fc.array(fc.constantFrom(...PRINCIPALS.map((p) => p.name)), { minLength: 1, maxLength: 2 }),
}).map(({ base, chain }) => ({ ...base, chain }));

describe('decision point properties (sqlite)', () => {
  let h: Harness;
  const ids = new Map<string, string>();
  let labels = 0;

  const toRequest = (a: Ask): DecisionRequest =>
    request(a.principal, a.action, registry(a.resource), { purpose: a.purpose, dpopBound: a.dpopBound, delegationChain: a.chain.map((n) => ids.get(n)!) });
  const evaluate = (a: Ask | DecisionRequest, text: string, context?: Record<string, unknown>): Promise<Decision> =>
    h.cp.authz.pdp.evaluate('facts' in a ? a : toRequest(a), { candidate: { text, label: `candidate:${labels++}` }, ...(context ? { context } : {}) });
  const canonical = (d: Decision) => ({
    decision: d.decision,
    reasons: d.reasons.map((r) => JSON.stringify(r)).sort(),
    verdicts: d.verdicts.map((v) => ({ ...v, permits: [...v.permits].sort(), forbids: [...v.forbids].sort(), errors: v.errors.map((e) => e.policy).sort() })),
  });

  beforeAll(async () => {
    h = await startHarness('sqlite');
    await seedRegistry(h);
    for (const p of PRINCIPALS) ids.set(p.name, await principalId(h, p.name));
  }, 60_000);
  afterAll(async () => { await h?.close(); });

  it('default deny: with no permitting policy the answer is deny', async () => {
    const forbidsOnly = fc.array(policyOf(fc.constant('forbid' as const)), { maxLength: 5 });
    await fc.assert(fc.asyncProperty(forbidsOnly, fc.oneof(ask, delegatedAsk), async (set, a) => {
      const d = await evaluate(a, textOf(named(set)));
      expect(d.decision).toBe('deny');
      expect(d.reasons.some((r) => r.kind === 'permit')).toBe(false);
    }), { numRuns: NUM_RUNS });
    // And in any set: an allow always names, for every principal evaluated, a permitting user policy.
    await fc.assert(fc.asyncProperty(policies, fc.oneof(ask, delegatedAsk), async (set, a) => {
      const d = await evaluate(a, textOf(named(set)));
      if (d.decision === 'allow') {
        for (const v of d.verdicts) expect(v.permits.filter((p) => /^u\d+$/.test(p)).length).toBeGreaterThan(0);
      }
    }), { numRuns: NUM_RUNS });
  });

  it('forbid beats permit: a forbid that applies denies whatever permits', async () => {
    let applied = 0;
    await fc.assert(fc.asyncProperty(policies, policyOf(fc.constant('forbid' as const)), ask, async (set, forbid, a) => {
      // Does the forbid apply (scope and condition hold, nothing errors)? Ask the same policy as a permit, alone.
      const probe = await evaluate(a, render({ ...forbid, effect: 'permit' }, 'probe'));
      const d = await evaluate(a, textOf([...named(set), { policy: forbid, id: 'f' }]));
      if (probe.decision === 'allow') {
        applied++;
        expect(d.decision).toBe('deny');
        expect(d.reasons).toContainEqual({ kind: 'forbid', policy: 'f', principal: a.principal });
      }
      // A forbid of everything, added anywhere, always denies.
      const everything = { policy: { effect: 'forbid' as const, scope: 'principal, action, resource', clause: null }, id: 'all' };
      expect((await evaluate(a, textOf([everything, ...named(set)]))).decision).toBe('deny');
      expect((await evaluate(a, textOf([...named(set), everything]))).decision).toBe('deny');
    }), { numRuns: NUM_RUNS });
    expect(applied).toBeGreaterThan(0); // the interesting branch was exercised
  });

  it('policy order does not matter: the same set shuffled gives the same decision and reasons', async () => {
    const setAndOrder = policies.chain((set) => fc.tuple(fc.constant(set), fc.shuffledSubarray(named(set), { minLength: set.length, maxLength: set.length })));
    const seen = new Set<string>();
    await fc.assert(fc.asyncProperty(setAndOrder, fc.oneof(ask, delegatedAsk), async ([set, shuffled], a) => {
      const inOrder = await evaluate(a, textOf(named(set)));
      const reordered = await evaluate(a, textOf(shuffled));
      expect(canonical(reordered)).toEqual(canonical(inOrder));
      seen.add(inOrder.decision);
    }), { numRuns: NUM_RUNS });
    expect([...seen].sort()).toEqual(['allow', 'deny']); // the grammar reaches both answers
  });

  it('delegation: denied whenever any principal of the chain alone is denied (and allowed only if all are allowed)', async () => {
    let deniedByChain = 0;
    await fc.assert(fc.asyncProperty(policies, delegatedAsk, async (set, a) => {
      const text = textOf(named(set));
      const delegated = await evaluate(a, text);
      // Each principal alone: same action, resource and (recorded) context, no chain of its own.
      const alone = await Promise.all([a.principal, ...a.chain].map((principal) => evaluate({ ...a, principal, chain: [] }, text, delegated.context)));
      const anyDenied = alone.some((d) => d.decision === 'deny');
      if (anyDenied) expect(delegated.decision).toBe('deny');
      else expect(delegated.decision).toBe('allow');
      expect(delegated.verdicts.map((v) => v.decision)).toEqual(alone.map((d) => d.decision));
      if (anyDenied && alone[0]!.decision === 'allow') deniedByChain++;
    }), { numRuns: NUM_RUNS });
    expect(deniedByChain).toBeGreaterThan(0); // some actor allowed alone was denied through its chain
  });

  it('an erroring policy never turns a deny into an allow', async () => {
    const erroring = fc.record({
      effect: fc.constantFrom('permit' as const, 'forbid' as const),
      scope,
      // Errors for every request that reaches it: an attribute no entity or context has, or a label nobody carries.
      error: fc.constantFrom('context.no_such_attribute == 1', 'principal.getTag("no-such-label") == "x"', 'resource.getTag("no-such-label") == "x"', 'context.device.no_such_field'),
      guard: fc.option(condition, { nil: null }),
      position: fc.nat(),
    });
    let errored = 0;
    await fc.assert(fc.asyncProperty(policies, erroring, fc.oneof(ask, delegatedAsk), async (set, e, a) => {
      const base = named(set);
      const before = await evaluate(a, textOf(base));
      const body = e.guard ? `(${e.guard}) && ${e.error}` : e.error;
      const bad = { policy: { effect: e.effect, scope: e.scope, clause: { kind: 'when' as const, body } }, id: 'err' };
      const withError = [...base];
      withError.splice(e.position % (base.length + 1), 0, bad);
      const after = await evaluate(a, textOf(withError));
      if (before.decision === 'deny') expect(after.decision).toBe('deny');
      if (after.reasons.some((r) => r.kind === 'error')) {
        errored++;
        expect(after.decision).toBe('deny');
      }
    }), { numRuns: NUM_RUNS });
    expect(errored).toBeGreaterThan(0);
  });
});
