// The in-process peers on the bench model (model.ts): Casbin and CASL, each with the same rule written the way its
// documentation writes ABAC, and each checked against the reference decision of every request before any timing.
//
// - Casbin 5 (node-casbin): an ABAC model whose matcher holds the whole rule over the request's attribute objects
//   (`r.sub.team == r.obj.owner_team || hasPurpose(r.obj.purposes, r.ctx.purpose)`, the forbids as negated
//   conjuncts: the matcher is a boolean, deny-overrides is the conjunction) and one policy line per action;
//   `hasPurpose` is a function added to the enforcer. `enforceSync` per decision.
// - CASL 7 (@casl/ability): an ability per request built from the agent and the request context with
//   `AbilityBuilder` (`can` on the owning team and on the purpose, `cannot` for the forbids, which CASL lets win
//   by order), then `ability.can(action, subject(kind, resource))`. Building it is part of each decision (its
//   context — purpose, DPoP — is per request); a second line caches the ability per (agent, purpose, DPoP), CASL's
//   fast path when the same caller asks again.
import { AbilityBuilder, createMongoAbility, subject, type MongoAbility } from '@casl/ability';
import { newEnforcer, newModelFromString, StringAdapter, type Enforcer } from 'casbin';
import type { Agent, BenchRequest, Model } from './model.js';

export interface Engine {
  name: string;
  decide(i: number): boolean;
}

// ---- Casbin ----

const CASBIN_MODEL = `
[request_definition]
r = sub, obj, act, ctx

[policy_definition]
p = act

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.act == p.act && r.sub.status == "active" && (r.obj.classification != "restricted" || (r.ctx.dpop && r.ctx.purpose != "" && hasPurpose(r.obj.purposes, r.ctx.purpose) && hasPurpose(r.sub.purposes, r.ctx.purpose))) && ((r.sub.team != "" && r.sub.team == r.obj.owner_team) || (r.ctx.purpose != "" && hasPurpose(r.obj.purposes, r.ctx.purpose)))
`;

export async function casbinEngine(model: Model): Promise<Engine> {
  const enforcer: Enforcer = await newEnforcer(newModelFromString(CASBIN_MODEL), new StringAdapter('p, invoke\np, read'));
  await enforcer.addFunction('hasPurpose', (set: string[], p: string) => set.includes(p));
  const args = model.requests.map((r) => [
    { team: r.agent.team, purposes: r.agent.purposes, status: r.agent.status },
    { owner_team: r.resource.ownerTeam, classification: r.resource.classification, purposes: r.resource.purposes },
    r.action,
    { purpose: r.purpose, dpop: r.dpop },
  ] as const);
  return {
    name: 'Casbin 5 enforceSync (ABAC matcher)',
    decide: (i) => enforcer.enforceSync(...args[i % args.length]!),
  };
}

// ---- CASL ----

type Subjects = 'Model' | 'Dataset';
// CASL's untyped form (any action, any subject type, Mongo-style conditions), as its ABAC examples use it.
type Ability = MongoAbility;

function abilityFor(agent: Agent, purpose: string, dpop: boolean): Ability {
  const { can, cannot, build } = new AbilityBuilder<Ability>(createMongoAbility);
  if (agent.status !== 'active') return build();
  const kinds: Subjects[] = ['Model', 'Dataset'];
  const actions: Array<'invoke' | 'read'> = ['invoke', 'read'];
  if (agent.team) can(actions, kinds, { owner_team: agent.team });
  if (purpose) can(actions, kinds, { purposes: { $all: [purpose] } });
  // Forbids come after the permits: in CASL a later inverted rule wins over an earlier one.
  if (!dpop || !purpose || !agent.purposes.includes(purpose)) cannot(actions, kinds, { classification: 'restricted' });
  else cannot(actions, kinds, { classification: 'restricted', purposes: { $nin: [purpose] } });
  return build();
}

export function caslEngine(model: Model, cached: boolean): Engine {
  const objects = model.requests.map((r) => subject(r.resource.kind === 'model' ? 'Model' : 'Dataset', {
    name: r.resource.name, owner_team: r.resource.ownerTeam, classification: r.resource.classification, purposes: r.resource.purposes,
  }));
  const cache = new Map<string, Ability>();
  const ability = (r: BenchRequest) => {
    if (!cached) return abilityFor(r.agent, r.purpose, r.dpop);
    const key = `${r.agent.name}\u0000${r.purpose}\u0000${r.dpop ? 1 : 0}`;
    let a = cache.get(key);
    if (!a) cache.set(key, (a = abilityFor(r.agent, r.purpose, r.dpop)));
    return a;
  };
  return {
    name: cached ? 'CASL 7 can (ability cached per agent+context)' : 'CASL 7 can (ability built per request)',
    decide(i) {
      const r = model.requests[i % model.requests.length]!;
      return ability(r).can(r.action, objects[i % objects.length]!);
    },
  };
}
