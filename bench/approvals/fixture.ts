// The bench's people and registry, created through the management API as an organisation would set them up:
// - a `security` team with two security operators (sam, sue) — the critical rule needs one of them and a second,
//   distinct person;
// - an owner operator (owen) who owns the agents and files their requests (a person files for principals they own);
//   he can never approve them (self_approval), and no approver owns them, so the grants are lawful;
// - the agents: active, medium risk (high/critical would need a registration), purpose `bench`;
// - medium resources (risk medium, internal) and critical resources (risk critical, confidential), purpose `bench`,
//   owned by a `data-platform` team none of the operators belongs to.
// Everything is created by the bootstrap admin, whose token also makes the direct grants of the baseline.
import type { Client } from './http.js';

export const PURPOSE = 'bench';
const REASON = 'bench/approvals fixture';

export interface Fixture {
  admin: string;
  /** Operator tokens. */
  sam: string;
  sue: string;
  owen: string;
  agents: string[];
  medium: string[];
  critical: string[];
}

export interface FixtureSize {
  agents: number;
  /** Resources of each tier. */
  resources: number;
  /** Prefix of the agents' and resources' names (a second fixture in the same store gets another). */
  prefix?: string;
}

async function inParallel<T>(items: readonly T[], inflight: number, f: (x: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(inflight, items.length) }, async () => {
    while (next < items.length) await f(items[next++]!);
  }));
}

/** People and teams (once per store). */
export async function createPeople(client: Client, admin: string): Promise<Pick<Fixture, 'admin' | 'sam' | 'sue' | 'owen'>> {
  const token = async (name: string, role: 'security' | 'owner') => {
    await client.must('POST', '/v1/principals', { name, kind: 'human', reason: REASON }, admin);
    return (await client.must('POST', '/v1/operator-tokens', { principal: name, role, description: 'bench/approvals' }, admin)).token as string;
  };
  const sam = await token('sam', 'security');
  const sue = await token('sue', 'security');
  const owen = await token('owen', 'owner');
  await client.must('POST', '/v1/teams', { name: 'security', reason: REASON }, admin);
  for (const p of ['sam', 'sue']) await client.must('PUT', `/v1/teams/security/members/${p}`, { reason: REASON }, admin, 200);
  await client.must('POST', '/v1/teams', { name: 'data-platform', reason: REASON }, admin);
  return { admin, sam, sue, owen };
}

/** Agents owned by owen and resources of both tiers. */
export async function createRegistry(client: Client, admin: string, size: FixtureSize): Promise<Pick<Fixture, 'agents' | 'medium' | 'critical'>> {
  const p = size.prefix ?? '';
  const agents = Array.from({ length: size.agents }, (_, i) => `${p}agent-${i}`);
  const medium = Array.from({ length: size.resources }, (_, i) => `${p}medium-${i}`);
  const critical = Array.from({ length: size.resources }, (_, i) => `${p}critical-${i}`);
  await inParallel(agents, 8, (name) => client.must('POST', '/v1/principals', {
    name, kind: 'agent', owner: 'owen', status: 'active', risk_tier: 'medium', purposes: [PURPOSE], environment: 'prod', reason: REASON,
  }, admin));
  await inParallel(medium, 8, (name) => client.must('POST', '/v1/resources', {
    name, kind: 'model', owner_team: 'data-platform', classification: 'internal', risk_tier: 'medium', purposes: [PURPOSE], reason: REASON,
  }, admin));
  await inParallel(critical, 8, (name) => client.must('POST', '/v1/resources', {
    name, kind: 'dataset', owner_team: 'data-platform', classification: 'confidential', risk_tier: 'critical', purposes: [PURPOSE], reason: REASON,
  }, admin));
  return { agents, medium, critical };
}

export async function createFixture(client: Client, admin: string, size: FixtureSize): Promise<Fixture> {
  const people = await createPeople(client, admin);
  return { ...people, ...(await createRegistry(client, admin, size)) };
}

/** An access request body: `invoke` on one resource for an agent, for the bench's purpose, an hour once approved. */
export function requestBody(agent: string, resource: string, i: number) {
  return {
    subject: agent, resources: [resource], actions: ['invoke'], purpose: PURPOSE, duration_seconds: 3600,
    justification: `bench/approvals: evaluation run ${i}`, ticket: `BENCH-${i}`,
  };
}

/** The same access made directly by an admin (the baseline): `POST /v1/grants`. */
export function grantBody(agent: string, resource: string, i: number) {
  return { principal: agent, resource, actions: ['invoke'], purpose: PURPOSE, duration_seconds: 3600, reason: `bench/approvals: direct grant ${i}` };
}
