// The ABAC model every engine of the authz bench decides on, generated from a seed so every engine and every run
// sees the same principals, resources and requests, and the reference decision each engine must reproduce.
//
// The model (what docs/benchmarks.md calls "the same ABAC model"):
// - principals: agents, each with a home team, the purposes it may act for and a status (active or proposed);
// - resources: models and datasets, each with a classification, an owning team and the purposes it may be used for;
// - a request: agent, action (invoke | read), resource, the request's purpose (bound to the token; "" when none)
//   and whether the token is DPoP-bound.
// The rule (Custos's shipped guardrails that apply to an agent's invoke/read, plus one user policy):
// - forbid when the agent is not active;
// - forbid restricted data unless the purpose is set, allowed by the resource and held by the agent;
// - forbid restricted data through a token that is not DPoP-bound;
// - permit invoke/read when the agent's team owns the resource, or the resource's purposes contain the purpose;
// - otherwise deny (default deny; forbid wins).

export const PURPOSES = ['support', 'fraud-detection', 'marketing', 'research', 'billing', 'analytics', 'safety', 'ops'] as const;
export const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

export interface Agent { name: string; team: string; purposes: string[]; status: 'active' | 'proposed' }
export interface Resource { name: string; kind: 'model' | 'dataset'; ownerTeam: string; classification: Classification; purposes: string[] }
export interface BenchRequest { agent: Agent; action: 'invoke' | 'read'; resource: Resource; purpose: string; dpop: boolean }

export interface Model {
  teams: string[];
  agents: Agent[];
  resources: Resource[];
  requests: BenchRequest[];
  /** The reference decision of each request (same index). */
  expected: boolean[];
}

/** mulberry32: a small seeded PRNG, so the model is the same on every machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function reference(r: BenchRequest): boolean {
  const { agent, resource, purpose } = r;
  if (agent.status !== 'active') return false;
  if (resource.classification === 'restricted') {
    if (!(purpose !== '' && resource.purposes.includes(purpose) && agent.purposes.includes(purpose))) return false;
    if (!r.dpop) return false;
  }
  return (agent.team !== '' && agent.team === resource.ownerTeam) || (purpose !== '' && resource.purposes.includes(purpose));
}

export function generateModel(opts: { teams: number; agents: number; resources: number; requests: number; seed?: number }): Model {
  const rand = rng(opts.seed ?? 11);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const some = (n: number) => {
    const out = new Set<string>();
    while (out.size < n) out.add(pick(PURPOSES));
    return [...out].sort();
  };
  const teams = Array.from({ length: opts.teams }, (_, i) => `team-${i}`);
  const agents: Agent[] = Array.from({ length: opts.agents }, (_, i) => ({
    name: `agent-${i}`, team: pick(teams), purposes: some(1 + Math.floor(rand() * 3)), status: rand() < 0.9 ? 'active' : 'proposed',
  }));
  const classes: Classification[] = ['public', 'public', 'internal', 'internal', 'internal', 'confidential', 'confidential', 'restricted'];
  const resources: Resource[] = Array.from({ length: opts.resources }, (_, i) => ({
    name: `${i % 2 ? 'dataset' : 'model'}-${i}`, kind: i % 2 ? 'dataset' : 'model', ownerTeam: pick(teams), classification: pick(classes),
    purposes: some(1 + Math.floor(rand() * 3)),
  }));
  const byTeam = new Map<string, Resource[]>();
  for (const r of resources) byTeam.set(r.ownerTeam, [...(byTeam.get(r.ownerTeam) ?? []), r]);
  const requests: BenchRequest[] = Array.from({ length: opts.requests }, () => {
    const agent = pick(agents);
    // A third of the requests are about the agent's own team's resources, so allows and each forbid all occur.
    const own = byTeam.get(agent.team);
    const resource = own && rand() < 0.33 ? pick(own) : pick(resources);
    const roll = rand();
    const purpose = roll < 0.8 ? pick(agent.purposes) : roll < 0.9 ? '' : pick(PURPOSES);
    return { agent, action: rand() < 0.5 ? 'invoke' : 'read', resource, purpose, dpop: rand() < 0.5 };
  });
  return { teams, agents, resources, requests, expected: requests.map(reference) };
}

/** How the reference decisions split (printed, so a model that allows everything or nothing is seen). */
export function decisionMix(model: Model): { allow: number; deny: number } {
  const allow = model.expected.filter(Boolean).length;
  return { allow, deny: model.expected.length - allow };
}
