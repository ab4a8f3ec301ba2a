import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ApproverGroup } from '../settings.js';
import { approverRefusal, evaluateRule, NOT_THE_OWNER, type ApproverFacts, type RequestParties, type RuleInput } from './sod.js';

const human = (id: string, chain: string[] = []): ApproverFacts => ({ personId: id, kind: 'human', chain });
const parties = (requester: string[], owners: string[] = []): RequestParties => ({ requesterChain: new Set(requester), subjectOwners: new Set(owners) });
const groups: Record<string, string[]> = { security: ['sec1', 'sec2'], resource_owners: ['ro1', 'ro2', 'owner'] };
const inGroup = (g: ApproverGroup, p: string) => g === 'anyone' || (groups[g] ?? []).includes(p);
const rule = (over: Partial<RuleInput>): RuleInput => ({
  slots: ['anyone'], ownerNotSole: false, parties: parties(['req']), approvals: [], inGroup, conflicted: () => false, ...over,
});

describe('who may decide at all', () => {
  it('refuses the requester, the chain, delegated tokens touching the chain, non-humans and delegated tokens', () => {
    const p = parties(['req', 'req-owner', 'hop']);
    expect(approverRefusal(human('req'), p)?.code).toBe('self_approval');
    expect(approverRefusal(human('req-owner'), p)?.code).toBe('self_approval');
    expect(approverRefusal(human('alice', ['req']), p)?.code).toBe('self_approval');
    expect(approverRefusal({ personId: 'bot', kind: 'agent', chain: [] }, p)?.code).toBe('approver_not_human');
    expect(approverRefusal({ personId: 'svc', kind: 'service_account', chain: [] }, p)?.code).toBe('approver_not_human');
    expect(approverRefusal(human('alice', ['bob']), p)?.code).toBe('approver_not_human');
    expect(approverRefusal(human('alice'), p)).toBeNull();
  });
});

describe('rules', () => {
  it('critical: two distinct people, one from security', () => {
    const slots: ApproverGroup[] = ['anyone', 'security'];
    expect(evaluateRule(rule({ slots, approvals: [human('sec1')] }))).toMatchObject({ satisfied: false, needs: ['anyone'] });
    expect(evaluateRule(rule({ slots, approvals: [human('sec1'), human('sec1')] })).satisfied).toBe(false);
    expect(evaluateRule(rule({ slots, approvals: [human('alice'), human('bob')] }))).toMatchObject({ satisfied: false, needs: ['security'] });
    expect(evaluateRule(rule({ slots, approvals: [human('sec1'), human('alice')] })).satisfied).toBe(true);
    expect(evaluateRule(rule({ slots, approvals: [human('sec1'), human('sec2')] })).satisfied).toBe(true);
  });

  it('a matching, not first come: a security member who approved first does not block the security slot', () => {
    // sec1 approves first and could take 'anyone'; alice can only take 'anyone': the matching moves sec1 to security.
    expect(evaluateRule(rule({ slots: ['anyone', 'security'], approvals: [human('sec1'), human('alice')] })).satisfied).toBe(true);
  });

  it('high: the subject\'s owner alone is not enough, even in the right group', () => {
    const base = { slots: ['resource_owners'] as ApproverGroup[], ownerNotSole: true, parties: parties(['req'], ['owner']) };
    expect(evaluateRule(rule({ ...base, approvals: [human('owner')] }))).toMatchObject({ satisfied: false, needs: [NOT_THE_OWNER] });
    expect(evaluateRule(rule({ ...base, approvals: [human('owner'), human('alice')] }))).toMatchObject({ satisfied: false });
    expect(evaluateRule(rule({ ...base, approvals: [human('owner'), human('ro1')] })).satisfied).toBe(true);
    expect(evaluateRule(rule({ ...base, ownerNotSole: false, approvals: [human('owner')] })).satisfied).toBe(true);
  });

  it('conflicted people do not count', () => {
    expect(evaluateRule(rule({ approvals: [human('alice')], conflicted: (p) => p === 'alice' })).satisfied).toBe(false);
  });
});

// Any world: people and agents, a requester chain, owners, delegations; any approval set.
const ids = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'a0', 'a1'];
const world = fc.record({
  requesterChain: fc.subarray(ids, { minLength: 1 }),
  owners: fc.subarray(ids),
  security: fc.subarray(ids),
  resourceOwners: fc.subarray(ids),
  slots: fc.array(fc.constantFrom<ApproverGroup>('anyone', 'security', 'resource_owners'), { minLength: 1, maxLength: 3 }),
  ownerNotSole: fc.boolean(),
  approvals: fc.array(fc.record({ personId: fc.constantFrom(...ids), kind: fc.constantFrom('human', 'human', 'agent', 'service_account'), chain: fc.subarray(ids, { maxLength: 2 }) }), { maxLength: 8 }),
});

type World = typeof world extends fc.Arbitrary<infer T> ? T : never;

function inputOf(w: World): RuleInput {
  const g: Record<string, string[]> = { security: w.security, resource_owners: w.resourceOwners };
  return {
    slots: w.slots, ownerNotSole: w.ownerNotSole, parties: parties(w.requesterChain, w.owners), approvals: w.approvals,
    inGroup: (grp, p) => grp === 'anyone' || (g[grp] ?? []).includes(p), conflicted: () => false,
  };
}

describe('properties', () => {
  it('a satisfied rule always has enough distinct, direct, human approvers outside the requester chain', () => {
    fc.assert(fc.property(world, (w) => {
      const input = inputOf(w);
      const out = evaluateRule(input);
      if (!out.satisfied) return;
      expect(new Set(out.counted).size).toBe(out.counted.length);
      expect(out.counted.length).toBeGreaterThanOrEqual(w.slots.length);
      for (const p of out.counted) {
        expect(w.requesterChain).not.toContain(p);
        expect(input.approvals.some((a) => a.personId === p && a.kind === 'human' && a.chain.length === 0)).toBe(true);
      }
      if (w.ownerNotSole) expect(out.counted.some((p) => !w.owners.includes(p))).toBe(true);
    }), { numRuns: 3000 });
  });

  it('adding approvals by the requester chain, non-humans, delegated tokens or repeats never satisfies a rule', () => {
    fc.assert(fc.property(world, fc.array(fc.constantFrom('chain', 'agent', 'delegated', 'repeat'), { minLength: 1, maxLength: 4 }), (w, extras) => {
      const input = inputOf(w);
      const before = evaluateRule(input).satisfied;
      const added: ApproverFacts[] = extras.map((kind, i): ApproverFacts => {
        if (kind === 'chain') return human(w.requesterChain[i % w.requesterChain.length]!);
        if (kind === 'agent') return { personId: ids[i % ids.length]!, kind: 'agent', chain: [] };
        if (kind === 'delegated') return human(ids[(i + 3) % ids.length]!, [ids[i % ids.length]!]);
        const first = input.approvals[0];
        return first ?? human(w.requesterChain[0]!);
      });
      // A repeat is only "bad" if the person already counted; the others are bad by construction.
      const after = evaluateRule({ ...input, approvals: [...input.approvals, ...added] }).satisfied;
      if (!before) expect(after).toBe(false);
    }), { numRuns: 3000 });
  });
});
