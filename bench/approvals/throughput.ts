// The rate figures over real HTTP, one round at a time, against a served control plane (`custos serve`):
// - grant:    the baseline, `POST /v1/grants` by an admin (the same access made without a request);
// - file:     `POST /v1/access-requests` by the agents' owner for a medium resource → 201 pending (1 approver needed);
// - decide:   `POST /v1/access-requests/{id}/approve {request_hash}` by a security operator (another person) on each
//             request the file phase left pending → 200 approved, one grant made in the same transaction;
// - critical: file a critical request, approve it as sam (still pending: needs a second person), approve it as sue
//             (approved, grant made): one unit is the whole chain, three requests in a row.
// Each phase runs `count` units with `concurrency` in flight (closed loop) and reports units/s, p50/p99 per unit and
// the server's CPU per unit (from /proc). Every answer is checked (status, and the request's status after each step).
import { cpuSeconds } from '../registry/server.js';
import { percentile } from '../registry/stats.js';
import { grantBody, requestBody, type Fixture } from './fixture.js';
import { closedLoop, type Client, type LoadResult } from './http.js';

export const PHASES = ['grant', 'file', 'decide', 'critical'] as const;
export type Phase = (typeof PHASES)[number];

export interface PhaseResult {
  phase: Phase;
  count: number;
  per_second: number;
  p50_ms: number;
  p99_ms: number;
  server_cpu_ms_per_unit: number | null;
  seconds: number;
}

function expectStatus(body: any, want: string, what: string) {
  if (body?.status !== want) throw new Error(`${what}: expected status ${want}, got ${body?.status} (${JSON.stringify(body?.needs ?? null)})`);
}

export interface Round {
  results: PhaseResult[];
}

/**
 * One round: the phases in `order`. Units are numbered from `offset` so every request and grant of the run has its
 * own number (the pairs cycle over the fixture's agents and resources).
 */
export async function runRound(opts: { client: Client; fx: Fixture; count: number; concurrency: number; offset: number; order: readonly Phase[]; serverPid?: number }): Promise<Round> {
  const { client, fx, count, concurrency, offset, serverPid } = opts;
  const pair = (i: number, tier: 'medium' | 'critical') => {
    const n = offset + i;
    const resources = fx[tier];
    // Agent and resource vary independently, so consecutive units touch different rows.
    return { agent: fx.agents[n % fx.agents.length]!, resource: resources[Math.floor(n / fx.agents.length) % resources.length]!, n };
  };
  let pending: Array<{ id: string; hash: string }> | undefined;
  const results: PhaseResult[] = [];

  const units: Record<Phase, (i: number) => Promise<void>> = {
    grant: async (i) => {
      const { agent, resource, n } = pair(i, 'medium');
      await client.must('POST', '/v1/grants', grantBody(agent, resource, n), fx.admin);
    },
    file: async (i) => {
      const { agent, resource, n } = pair(i, 'medium');
      const r = await client.must('POST', '/v1/access-requests', requestBody(agent, resource, n), fx.owen);
      expectStatus(r, 'pending', 'file');
      pending![i] = { id: r.id, hash: r.request_hash };
    },
    decide: async (i) => {
      const { id, hash } = pending![i]!;
      const r = await client.must('POST', `/v1/access-requests/${id}/approve`, { request_hash: hash }, fx.sam, 200);
      expectStatus(r, 'approved', 'decide');
    },
    critical: async (i) => {
      const { agent, resource, n } = pair(i, 'critical');
      const r = await client.must('POST', '/v1/access-requests', requestBody(agent, resource, n), fx.owen);
      expectStatus(r, 'pending', 'critical file');
      const first = await client.must('POST', `/v1/access-requests/${r.id}/approve`, { request_hash: r.request_hash }, fx.sam, 200);
      expectStatus(first, 'pending', 'critical first approval');
      const second = await client.must('POST', `/v1/access-requests/${r.id}/approve`, { request_hash: r.request_hash }, fx.sue, 200);
      expectStatus(second, 'approved', 'critical second approval');
    },
  };

  // decide needs the requests file left pending: it always runs after file in the same round.
  const order = [...opts.order];
  if (order.indexOf('decide') < order.indexOf('file')) throw new Error('decide must come after file');
  for (const phase of order) {
    if (phase === 'file') pending = new Array(count);
    const cpu0 = serverPid ? cpuSeconds(serverPid) : 0;
    const res: LoadResult = await closedLoop(count, concurrency, units[phase]);
    const cpu1 = serverPid ? cpuSeconds(serverPid) : 0;
    results.push({
      phase, count, per_second: res.perSecond, seconds: res.seconds,
      p50_ms: percentile(res.latenciesMs, 50), p99_ms: percentile(res.latenciesMs, 99),
      server_cpu_ms_per_unit: serverPid ? ((cpu1 - cpu0) * 1000) / count : null,
    });
  }
  return { results };
}
