// Approvals figures (issue: access requests and approvals): requests filed and decided per second through the API on
// SQLite and PostgreSQL, a critical request end to end (file + two approvals), each beside the same access made
// directly (`POST /v1/grants`, the baseline) in the same run with the ratio request path ÷ direct grant; and the time
// from the final approval to the first allowed decision on the enforcement path (p50/p99), with the decisions needed.
//
//   npm run bench -- approvals [--rounds 3] [--count 300] [--postgres-count 100] [--concurrency 16]
//                              [--backends sqlite,postgres] [--latency-samples 30] [--latency-grants 0,1000]
//
// Rates (throughput.ts): `node bin/custos.js serve` as its own process (bench/registry/server.ts) on a fresh SQLite
// data dir, or a fresh PostgreSQL database dropped afterwards; the fixture (fixture.ts) made through the API; a
// warm-up round, then `--rounds` rounds of the four phases (grant, file, decide, critical), the order reversed every
// other round; medians over rounds. Latency (latency.ts): a control plane of the same build inside the bench process,
// listening on loopback, on its own fresh store; approvals over HTTP, decisions through `cp.authz.pdp.decide`.
// PostgreSQL unreachable: said, and that store skipped. Nothing here asserts a timing.
//
// The server is the committed HEAD, compiled into bench/.work/approvals-build (git archive + tsc), so other sessions'
// uncommitted edits are not measured; --no-build uses the working tree's dist/ as it is.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { buildRev, num } from '../registry/build.js';
import { freshPostgres, startServer } from '../registry/server.js';
import { median, percentile, round } from '../registry/stats.js';
import { fmt, gitCommit, load, postgresReachable } from '../run-info.js';
import { createFixture } from './fixture.js';
import { createClient } from './http.js';
import { startInProcess, type Sample } from './latency.js';
import { PHASES, runRound, type Phase, type PhaseResult } from './throughput.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');

const { values: opt } = parseArgs({
  options: {
    backends: { type: 'string', default: process.env.BENCH_APPROVALS_BACKENDS ?? 'sqlite,postgres' },
    rounds: { type: 'string', default: process.env.BENCH_APPROVALS_ROUNDS ?? '3' },
    count: { type: 'string', default: process.env.BENCH_APPROVALS_COUNT ?? '300' },
    'postgres-count': { type: 'string', default: process.env.BENCH_APPROVALS_POSTGRES_COUNT ?? '100' },
    warmup: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '16' },
    agents: { type: 'string', default: '20' },
    resources: { type: 'string', default: '20' },
    'latency-samples': { type: 'string', default: process.env.BENCH_APPROVALS_LATENCY_SAMPLES ?? '30' },
    'latency-grants': { type: 'string', default: '0,1000' },
    only: { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    'postgres-url': { type: 'string', default: process.env.CUSTOS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    out: { type: 'string', default: path.join(here, 'results.json') },
    'no-build': { type: 'boolean', default: false },
    rev: { type: 'string', default: 'HEAD' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (opt.help) {
  process.stdout.write(`usage: npm run bench -- approvals [options]
  --backends LIST         stores: sqlite,postgres (default both; env BENCH_APPROVALS_BACKENDS)
  --rounds N              timed rounds per store; tables show medians over rounds (default 3; env BENCH_APPROVALS_ROUNDS)
  --count N               units per phase per round on SQLite: grants, requests filed, decided, critical chains
                          (default 300; env BENCH_APPROVALS_COUNT)
  --postgres-count N      the same on PostgreSQL, where the request path is several times slower (default 100;
                          env BENCH_APPROVALS_POSTGRES_COUNT)
  --warmup N              units per phase in the untimed warm-up round (default 50; 0 skips it)
  --concurrency N         units in flight, one keep-alive connection each (default 16)
  --agents N              agents owned by the requester (default 20)
  --resources N           resources of each tier (default 20)
  --latency-samples N     approvals timed to the first allow, per tier and per --latency-grants size (default 30;
                          env BENCH_APPROVALS_LATENCY_SAMPLES)
  --latency-grants LIST   live direct grants in the store before each set of samples (default 0,1000): a new grant
                          makes the next decision rebuild the policy set with every live grant
  --only rates|latency    one part only
  --log-level L           served control plane's log level (default info, as a user runs it; the log goes to /dev/null)
  --postgres-url URL      admin URL; a fresh database is created for each control plane and dropped after it
  --out FILE              results JSON (default bench/approvals/results.json)
  --no-build              use the working tree's dist/ as it is (default: build the committed HEAD into
                          bench/.work/approvals-build, so others' uncommitted edits are not measured)
  --rev REV               build this commit instead of HEAD
`);
  process.exit(0);
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
const rounds = num('rounds', opt.rounds, 1, 20);
const counts = { sqlite: num('count', opt.count, 10, 100_000), postgres: num('postgres-count', opt['postgres-count'], 10, 100_000) };
const warmup = num('warmup', opt.warmup, 0, 100_000);
const concurrency = num('concurrency', opt.concurrency, 1, 256);
const agents = num('agents', opt.agents, 1, 10_000);
const resources = num('resources', opt.resources, 1, 10_000);
const latencySamples = num('latency-samples', opt['latency-samples'], 0, 10_000);
const latencyGrants = list(opt['latency-grants']).map((v) => num('latency-grants', v, 0, 1_000_000));
const backends = list(opt.backends) as Array<'sqlite' | 'postgres'>;
for (const b of backends) if (b !== 'sqlite' && b !== 'postgres') throw new Error(`unknown backend '${b}'`);
if (opt.only !== undefined && opt.only !== 'rates' && opt.only !== 'latency') throw new Error('--only is rates or latency');
const doRates = opt.only !== 'latency';
const doLatency = opt.only !== 'rates' && latencySamples > 0;

const log = (line: string) => process.stderr.write(`${line}\n`);
const style = { head: [] as string[], border: [] as string[] };


const results: Record<string, any> = {
  when: new Date().toISOString(),
  ...gitCommit(repoRoot),
  machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length, memory_gb: round(os.totalmem() / 1e9, 1), node: process.version, platform: `${os.platform()} ${os.release()}`, loadavg_start: load() },
  options: { rounds, counts, warmup, concurrency, agents, resources, latency_samples: latencySamples, latency_grants: latencyGrants, backends, log_level: opt['log-level'] },
  rates: {} as Record<string, unknown>,
  latency: {} as Record<string, unknown>,
};

const started = performance.now();
const serverRoot = opt['no-build'] ? repoRoot : buildRev({ repoRoot, rev: opt.rev, name: 'approvals-build', log });
if (!fs.existsSync(path.join(serverRoot, 'dist', 'app.js'))) throw new Error(`${serverRoot}/dist/app.js is missing: run \`npm run build\``);
results.options.server_build = opt['no-build'] ? 'dist/ of the working tree' : `${opt.rev === 'HEAD' ? `HEAD (${results.commit})` : opt.rev} built into bench/.work/approvals-build`;

const LABEL: Record<Phase, string> = {
  grant: 'direct grant POST /v1/grants (baseline)',
  file: 'file: POST /v1/access-requests (medium, pending)',
  decide: 'decide: POST …/approve (medium, final)',
  critical: 'critical end to end: file + 2 approvals',
};

/** Medians over rounds of each phase's figures. */
function medians(roundsOf: PhaseResult[][]) {
  const out = {} as Record<Phase, { per_second: number; p50_ms: number; p99_ms: number; server_cpu_ms_per_unit: number; runs_per_second: number[]; ratio_to_grant: number; ratio_per_round: number[]; cpu_ratio_to_grant: number }>;
  for (const phase of PHASES) {
    const rows = roundsOf.map((r) => r.find((x) => x.phase === phase)!);
    const grants = roundsOf.map((r) => r.find((x) => x.phase === 'grant')!);
    out[phase] = {
      per_second: median(rows.map((r) => r.per_second)),
      p50_ms: median(rows.map((r) => r.p50_ms)),
      p99_ms: median(rows.map((r) => r.p99_ms)),
      server_cpu_ms_per_unit: median(rows.map((r) => r.server_cpu_ms_per_unit ?? Number.NaN)),
      runs_per_second: rows.map((r) => round(r.per_second, 1)),
      ratio_to_grant: 0,
      ratio_per_round: rows.map((r, i) => round(r.per_second / grants[i]!.per_second, 3)),
      cpu_ratio_to_grant: 0,
    };
  }
  for (const phase of PHASES) {
    out[phase].ratio_to_grant = out[phase].per_second / out.grant.per_second;
    out[phase].cpu_ratio_to_grant = out[phase].server_cpu_ms_per_unit / out.grant.server_cpu_ms_per_unit;
  }
  return out;
}

async function ratesFor(backend: 'sqlite' | 'postgres'): Promise<void> {
  const count = counts[backend];
  const db = backend === 'postgres' ? await freshPostgres(opt['postgres-url']) : undefined;
  log(`[${backend}] starting custos serve${db ? ' on a fresh database' : ''}…`);
  const server = await startServer({ repoRoot: serverRoot, databaseUrl: db?.url, logLevel: opt['log-level'] });
  const client = createClient(server.url, concurrency);
  try {
    const fx = await createFixture(client, server.token, { agents, resources });
    let offset = 0;
    if (warmup > 0) {
      log(`[${backend}] warm-up round (${warmup} per phase)…`);
      await runRound({ client, fx, count: warmup, concurrency, offset, order: PHASES });
      offset += warmup;
    }
    const all: PhaseResult[][] = [];
    for (let r = 0; r < rounds; r++) {
      // Reversed every other round, so neither side always runs on the smaller store.
      const order: Phase[] = r % 2 === 0 ? ['grant', 'file', 'decide', 'critical'] : ['critical', 'file', 'decide', 'grant'];
      const round_ = await runRound({ client, fx, count, concurrency, offset, order, serverPid: server.pid });
      offset += count;
      all.push(round_.results);
      log(`[${backend}] round ${r + 1}/${rounds} (load ${load().join(' ')}): ${round_.results.map((x) => `${x.phase} ${fmt(x.per_second)}/s`).join(', ')}`);
    }
    results.rates[backend] = { rounds: all.map((rs) => rs.map((x) => ({ ...x, per_second: round(x.per_second, 1), p50_ms: round(x.p50_ms, 2), p99_ms: round(x.p99_ms, 2), server_cpu_ms_per_unit: round(x.server_cpu_ms_per_unit ?? Number.NaN, 3), seconds: round(x.seconds, 2) }))), medians: medians(all) };
  } finally {
    await client.close();
    await server.stop();
    await db?.drop();
  }
}

async function latencyFor(backend: 'sqlite' | 'postgres'): Promise<void> {
  const db = backend === 'postgres' ? await freshPostgres(opt['postgres-url']) : undefined;
  log(`[${backend}] in-process control plane for the approval → allow figure…`);
  const pairsNeeded = latencySamples * latencyGrants.length;
  const latencyAgents = 10;
  const ip = await startInProcess({ serverRoot, databaseUrl: db?.url, agents: latencyAgents, resources: Math.ceil(pairsNeeded / latencyAgents) });
  try {
    const sets: Array<{ tier: string; background_grants: number; live_grants_after: number; samples: Sample[] }> = [];
    for (const background of latencyGrants) {
      for (const tier of ['medium', 'critical'] as const) {
        const samples = await ip.samples(tier, latencySamples, background);
        sets.push({ tier, background_grants: background, live_grants_after: ip.liveGrants(), samples });
        log(`[${backend}] ${tier}, ${fmt(background)} background grants: to allow p50 ${fmt(percentile(samples.map((s) => s.to_allow_ms), 50), 2)} ms`);
      }
    }
    results.latency[backend] = sets.map((s) => ({
      tier: s.tier, background_grants: s.background_grants, live_grants_after: s.live_grants_after, samples: s.samples.length,
      approve_p50_ms: round(percentile(s.samples.map((x) => x.approve_ms), 50), 2), approve_p99_ms: round(percentile(s.samples.map((x) => x.approve_ms), 99), 2),
      to_allow_p50_ms: round(percentile(s.samples.map((x) => x.to_allow_ms), 50), 2), to_allow_p99_ms: round(percentile(s.samples.map((x) => x.to_allow_ms), 99), 2),
      decisions_max: Math.max(...s.samples.map((x) => x.decisions)), decisions_all_one: s.samples.every((x) => x.decisions === 1),
      current_decision_p50_ms: round(percentile(s.samples.map((x) => x.current_ms), 50), 2), current_decision_p99_ms: round(percentile(s.samples.map((x) => x.current_ms), 99), 2),
    }));
  } finally {
    await ip.close();
    await db?.drop();
  }
}

const skipped: Record<string, string> = {};
for (const backend of backends) {
  if (backend === 'postgres') {
    const why = await postgresReachable(opt['postgres-url']);
    if (why) {
      const redacted = opt['postgres-url'].replace(/\/\/[^@/]*@/, '//…@');
      process.stdout.write(`PostgreSQL unreachable at ${redacted} (${why}): the postgres store is skipped\n`);
      skipped[backend] = why;
      continue;
    }
  }
  if (doRates) await ratesFor(backend);
  if (doLatency) await latencyFor(backend);
}
results.skipped = skipped;
results.machine.loadavg_end = load();
results.wall_seconds = round((performance.now() - started) / 1000, 1);

// ---- Output ----

for (const backend of Object.keys(results.rates)) {
  const m = results.rates[backend].medians as ReturnType<typeof medians>;
  const table = new Table({ style, head: [`${backend}: median of ${rounds} rounds × ${counts[backend as 'sqlite']}, ${concurrency} in flight`, 'per s', 'p50 ms', 'p99 ms', 'server CPU ms', '÷ direct grant', 'CPU ÷ direct grant', 'rounds (per s)', 'rounds (÷ grant)'] });
  for (const phase of PHASES) {
    const x = m[phase];
    table.push([LABEL[phase], fmt(x.per_second), fmt(x.p50_ms, 1), fmt(x.p99_ms, 1), fmt(x.server_cpu_ms_per_unit, 2), phase === 'grant' ? '1' : `${fmt(x.ratio_to_grant, 2)}×`, phase === 'grant' ? '1' : `${fmt(x.cpu_ratio_to_grant, 2)}×`, x.runs_per_second.map((v) => fmt(v)).join(' / '), phase === 'grant' ? '' : x.ratio_per_round.map((v) => fmt(v, 2)).join(' / ')]);
  }
  process.stdout.write(`\n${table.toString()}\n`);
}
for (const backend of Object.keys(results.latency)) {
  const table = new Table({ style, head: [`${backend}: final approval → first allow (pdp.decide, in process)`, 'samples', 'to allow p50 / p99 ms', 'decisions needed', 'one decision p50 / p99 ms', 'final approve p50 / p99 ms'] });
  for (const s of results.latency[backend] as Array<Record<string, any>>) {
    table.push([`${s.tier}, ${fmt(s.background_grants)} background grants (${fmt(s.live_grants_after)} live after)`, String(s.samples),
      `${fmt(s.to_allow_p50_ms, 2)} / ${fmt(s.to_allow_p99_ms, 2)}`, s.decisions_all_one ? '1 (every sample)' : `max ${s.decisions_max}`,
      `${fmt(s.current_decision_p50_ms, 2)} / ${fmt(s.current_decision_p99_ms, 2)}`, `${fmt(s.approve_p50_ms, 1)} / ${fmt(s.approve_p99_ms, 1)}`]);
  }
  process.stdout.write(`\n${table.toString()}\n`);
}
process.stdout.write(`\n"one decision": the pair's first decision, before any approval (a deny on a current snapshot, not from the memo). ${results.machine.cpus} × ${results.machine.cpu}, Node ${process.version}, load ${results.machine.loadavg_start.join(' ')} → ${results.machine.loadavg_end.join(' ')}; ${fmt(results.wall_seconds, 0)} s\n`);

fs.mkdirSync(path.dirname(opt.out), { recursive: true });
fs.writeFileSync(opt.out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`results: ${path.relative(process.cwd(), opt.out)}\n`);
