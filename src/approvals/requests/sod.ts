import type { ApproverGroup } from '../settings.js';

// Separation of duties, as pure rules with no switch to turn them off (they are not in the approval settings).
// The service reads the registry and hands these functions plain facts; property tests (sod.test.ts) check that no
// approval set including the requester, anyone on the requester's chain, a non-human principal, a delegated token
// or the same person twice can satisfy a rule that it would not satisfy without them.
//
// Rules:
// - The subject never decides a request for itself (a person filed for by someone else still benefits), and the
//   requester never approves their own request, nor does anyone on the requester's chain: the human answerable
//   for it (an agent's owner when the agent asked for itself), the members of an owning team when a team-owned agent
//   asked, and every principal of the requesting token's delegation chain. An approver whose own token carries a
//   delegation chain touching the requester's chain is refused as a self-approval too (a token delegated to or by
//   the requester).
// - Only a person acting directly approves: no agent or other non-human principal, and no delegated token whoever
//   is behind it (nobody approves on behalf of someone else).
// - One person counts once, whatever roles, teams or tokens they hold: approvals are counted by person id.
// - Each slot of the rule is filled by a distinct person from the slot's group (a bipartite matching).
// - For high and critical requests the subject's owner (its owning principal and the members of its owning team)
//   cannot be the only approver: a satisfying assignment must include someone else.

export interface ApproverFacts {
  /** The acting principal's id (the person, or the agent that tried). */
  personId: string;
  /** Its principal kind. */
  kind: string;
  /** Principal ids of the acting token's delegation chain (empty when acting directly). */
  chain: readonly string[];
}

export interface RequestParties {
  /** Who may never decide: the subject, the requester, the human answerable for the request, the requesting token's chain. */
  requesterChain: ReadonlySet<string>;
  /** The subject's owning principal and the active members of its owning team. */
  subjectOwners: ReadonlySet<string>;
}

export type SodRefusal = { code: 'self_approval' | 'approver_not_human'; detail: string };

/** Why this approver may not decide this request at all, or null. Self-approval is checked first. */
export function approverRefusal(a: ApproverFacts, p: RequestParties): SodRefusal | null {
  if (p.requesterChain.has(a.personId)) {
    return { code: 'self_approval', detail: 'you filed this request or are answerable for it (directly, or through an agent or a delegated token): someone else must decide' };
  }
  if (a.chain.some((id) => p.requesterChain.has(id))) {
    return { code: 'self_approval', detail: 'your token is delegated to or by the requester: the requester never decides their own request, however the token came about' };
  }
  if (a.kind !== 'human') return { code: 'approver_not_human', detail: `a ${a.kind} never approves or denies requests: only a person acting directly does` };
  if (a.chain.length > 0) return { code: 'approver_not_human', detail: 'decide with your own credential, not a delegated token: nobody approves on behalf of someone else' };
  return null;
}

export interface RuleInput {
  slots: readonly ApproverGroup[];
  /** High and critical: the subject's owner cannot be the only approver. */
  ownerNotSole: boolean;
  parties: RequestParties;
  /** Every approval recorded for the current revision (refused or duplicate ones are ignored here too). */
  approvals: readonly ApproverFacts[];
  /** Whether a person is in a group ('anyone' is everyone who may approve). */
  inGroup(group: ApproverGroup, personId: string): boolean;
  /** Whether a conflicting-role pair excludes this person from this request. */
  conflicted(personId: string): boolean;
}

export interface RuleOutcome {
  satisfied: boolean;
  /** Distinct people whose approval counts. */
  counted: string[];
  /** What is still missing: the groups of unfilled slots, or 'someone other than the subject\'s owner'. */
  needs: string[];
}

export const NOT_THE_OWNER = 'someone other than the subject\'s owner';

/** The people whose approvals count: allowed to decide, not conflicted, each once. */
export function countedApprovers(input: Pick<RuleInput, 'parties' | 'approvals' | 'conflicted'>): string[] {
  const out: string[] = [];
  for (const a of input.approvals) {
    if (approverRefusal(a, input.parties) || input.conflicted(a.personId) || out.includes(a.personId)) continue;
    out.push(a.personId);
  }
  return out;
}

/** Maximum matching of slots to distinct people (Kuhn's augmenting paths; slots and people are few). */
function matchSlots(slots: readonly ApproverGroup[], people: readonly string[], inGroup: RuleInput['inGroup']): Array<string | undefined> {
  const bySlot: Array<string | undefined> = slots.map(() => undefined);
  const augment = (slot: number, seen: Set<string>): boolean => {
    for (const person of people) {
      if (seen.has(person) || !inGroup(slots[slot]!, person)) continue;
      seen.add(person);
      const holder = bySlot.indexOf(person);
      // The person is free, or the slot holding them can be given to someone else (which reassigns that slot).
      if (holder === -1 || augment(holder, seen)) {
        bySlot[slot] = person;
        return true;
      }
    }
    return false;
  };
  for (let s = 0; s < slots.length; s++) augment(s, new Set());
  return bySlot;
}

export function evaluateRule(ruleInput: RuleInput): RuleOutcome {
  // Specific groups first, so what is reported missing is the group nobody has filled yet, not 'anyone'.
  const input = { ...ruleInput, slots: [...ruleInput.slots.filter((g) => g !== 'anyone'), ...ruleInput.slots.filter((g) => g === 'anyone')] };
  const counted = countedApprovers(input);
  const matched = matchSlots(input.slots, counted, input.inGroup);
  const unfilled = input.slots.filter((_, i) => matched[i] === undefined);
  if (unfilled.length) return { satisfied: false, counted, needs: unfilled.map(String) };
  if (!input.ownerNotSole || input.slots.length === 0) return { satisfied: true, counted, needs: [] };
  if (matched.some((p) => p !== undefined && !input.parties.subjectOwners.has(p))) return { satisfied: true, counted, needs: [] };
  // Every full assignment found so far uses owners only: try each non-owner in each slot they can fill.
  const others = counted.filter((p) => !input.parties.subjectOwners.has(p));
  for (const person of others) {
    for (let s = 0; s < input.slots.length; s++) {
      if (!input.inGroup(input.slots[s]!, person)) continue;
      const restSlots = input.slots.filter((_, i) => i !== s);
      const rest = matchSlots(restSlots, counted.filter((p) => p !== person), input.inGroup);
      if (rest.every((p) => p !== undefined)) return { satisfied: true, counted, needs: [] };
    }
  }
  return { satisfied: false, counted, needs: [NOT_THE_OWNER] };
}

/** Whether a person could fill any slot of the rule at all (else their approval is refused as not eligible). */
export function eligibleForAnySlot(slots: readonly ApproverGroup[], personId: string, inGroup: RuleInput['inGroup']): boolean {
  return slots.some((g) => inGroup(g, personId));
}
