// Gateway figures (issue 13): against a local upstream that answers after a fixed delay (50 ms), the latency each proxy
// adds over calling the upstream directly (p50/p99, plain and streaming time to first token) and the throughput at 64
// connections, for Custos (API key verified, a PDP `invoke` decision and the call's audit record committed before the
// answer, on every call) beside nginx (`proxy_pass`) and the Portkey gateway in front of the same upstream, in the same
// run, with the ratios Custos ÷ nginx and Custos ÷ Portkey and the issue's aims checked.
//
//   npm run bench -- gateway [--quick] [--rounds 3] [--seconds 4] [--light 8] [--connections 64]
//                            [--backends sqlite,postgres] [--only direct,nginx,portkey,custos] [--profile]
//
// Processes: the upstream (upstream.ts), nginx, Portkey and each Custos (`node bin/custos.js serve`, one per store)
// each run on their own; the load generator (load.ts, undici) is this process. All are started first and stay up;
// every round then runs four phases on every target in turn (plain and streaming at --light calls in flight, plain
// and streaming at --connections), the target order rotated each round. "Added" figures are the target's minus the
// direct upstream's in the same round and phase; the tables show medians over rounds. Nothing asserts a timing.
//
// The server is the committed HEAD compiled into bench/.work/gateway-build (git archive + tsc), so other sessions'
// uncommitted edits are not measured; --no-build uses the working tree's dist/ as it is.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { buildRev, num } from '../registry/build.js';
import { summarizeProfile, type CpuProfile } from '../registry/profile.js';
import { cpuSeconds, freshPostgres } from '../registry/server.js';
import { median, percentile, round } from '../registry/stats.js';
import { fmt, gitCommit, load, postgresReachable } from '../run-info.js';
import { startCustos, type CustosServer } from './custos.js';
import { createDriver, type Driver, type LoadRun } from './load.js';
import { directTarget, nginxTarget, portkeyTarget, startUpstream, type Target, type Upstream } from './peers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    light: { type: 'string', default: '8' },
    connections: { type: 'string', default: '64' },
    'delay-ms': { type: 'string', default: '50' },
    chunks: { type: 'string', default: '4' },
    'chunk-gap-ms': { type: 'string', default: '5' },
    backends: { type: 'string', default: process.env.BENCH_GATEWAY_BACKENDS ?? 'sqlite,postgres' },
    only: { type: 'string' },
    'nginx-workers': { type: 'string', default: '1' },
    'log-level': { type: 'string', default: 'info' },
    'postgres-url': { type: 'string', default: process.env.CUSTOS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    profile: { type: 'boolean', default: false },
    'profile-seconds': { type: 'string', default: '15' },
    out: { type: 'string', default: path.join(here, 'results.json') },
    'no-build': { type: 'boolean', default: false },
    rev: { type: 'string', default: 'HEAD' },
    'server-root': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (opt.help) {
  process.stdout.write(`usage: npm run bench -- gateway [options]
  --quick                 a short run: 1 round of 1.5 s per phase, 1 s warm-up (overrides the defaults below, not
                          --rounds/--seconds/--warmup given explicitly)
  --rounds N              timed rounds; tables show medians over rounds (default 3)
  --seconds S             seconds per phase per target per round (default 4)
  --warmup S              seconds of untimed calls per target and phase before the first round (default 2)
  --light N               calls in flight for the added-latency figures (default 8)
  --connections N         connections (and calls in flight) for the throughput figures (default 64)
  --delay-ms MS           the upstream's fixed delay before the answer or first chunk (default 50)
  --chunks N              streaming: content chunks after the first (default 4), --chunk-gap-ms apart (default 5)
  --backends LIST         Custos stores: sqlite,postgres (default both; env BENCH_GATEWAY_BACKENDS)
  --only LIST             targets among direct,nginx,portkey,custos (direct always runs: it is the baseline)
  --nginx-workers N       nginx worker_processes (default 1: one event loop, as each Node peer has)
  --log-level L           Custos's log level (default info, as a user runs it; the log goes to /dev/null)
  --postgres-url URL      admin URL; a fresh database is created for Custos on PostgreSQL and dropped after
  --profile               afterwards, Custos (SQLite) again under --cpu-prof at --connections for --profile-seconds
                          (default 15); prints where its CPU went and writes the profile under bench/.work/
  --out FILE              results JSON (default bench/gateway/results.json)
  --no-build              use the working tree's dist/ (default: build the committed HEAD into bench/.work/gateway-build)
  --rev REV               build this commit instead of HEAD
  --server-root DIR       serve this already built tree (bin/ and dist/) instead: for A/B experiments
`);
  process.exit(0);
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
const rounds = num('rounds', opt.rounds ?? (opt.quick ? '1' : '3'), 1, 50);
const seconds = num('seconds', opt.seconds ?? (opt.quick ? '1.5' : '4'), 0.5, 600, false);
const warmupSeconds = num('warmup', opt.warmup ?? (opt.quick ? '1' : '2'), 0, 600, false);
const light = num('light', opt.light, 1, 1024);
const connections = num('connections', opt.connections, 1, 1024);
const delayMs = num('delay-ms', opt['delay-ms'], 0, 10_000);
const chunks = num('chunks', opt.chunks, 0, 1000);
const chunkGapMs = num('chunk-gap-ms', opt['chunk-gap-ms'], 0, 10_000);
const nginxWorkers = num('nginx-workers', opt['nginx-workers'], 1, 64);
const profileSeconds = num('profile-seconds', opt['profile-seconds'], 1, 600, false);
const backends = list(opt.backends) as Array<'sqlite' | 'postgres'>;
for (const b of backends) if (b !== 'sqlite' && b !== 'postgres') throw new Error(`unknown backend '${b}'`);
const only = new Set(opt.only ? list(opt.only) : ['direct', 'nginx', 'portkey', 'custos']);
for (const o of only) if (!['direct', 'nginx', 'portkey', 'custos'].includes(o)) throw new Error(`--only: unknown target '${o}'`);

const log = (line: string) => process.stderr.write(`${line}\n`);
const style = { head: [] as string[], border: [] as string[] };


// ---- Phases and per-round figures ----

type PhaseId = 'plain-light' | 'stream-light' | 'plain-load' | 'stream-load';
const PHASES: Array<{ id: PhaseId; stream: boolean; concurrency: number }> = [
  { id: 'plain-light', stream: false, concurrency: light },
  { id: 'stream-light', stream: true, concurrency: light },
  { id: 'plain-load', stream: false, concurrency: connections },
  { id: 'stream-load', stream: true, concurrency: connections },
];

interface PhaseFigures {
  count: number;
  per_second: number;
  p50_ms: number;
  p99_ms: number;
  /** Streaming: time to the first event. */
  ttft_p50_ms?: number;
  ttft_p99_ms?: number;
  /** Custos: its Server-Timing custos;dur= (p50/p99). */
  server_timing_p50_ms?: number;
  server_timing_p99_ms?: number;
  /** Custos: Server-Timing upstream;dur= p50 (the upstream's time as the gateway saw it), and the client's time minus
   * custos;dur and upstream;dur per call, p50: what neither account covers (sockets, HTTP parsing, event-loop waits). */
  upstream_timing_p50_ms?: number;
  unaccounted_p50_ms?: number;
  /** CPU of the target's process per call (ms); the upstream's and this load generator's beside it. */
  target_cpu_ms_per_call?: number;
  upstream_cpu_ms_per_call: number;
  loadgen_cpu_ms_per_call: number;
  /** Custos: mean ms per pipeline step over this phase, from /metrics. */
  steps_ms?: Record<string, number>;
}

function figures(run: LoadRun, cpu: { target?: number; upstream: number; loadgen: number }): PhaseFigures {
  const ms = run.samples.map((s) => s.ms);
  const f: PhaseFigures = {
    count: run.count, per_second: round(run.perSecond, 1), p50_ms: round(percentile(ms, 50), 3), p99_ms: round(percentile(ms, 99), 3),
    upstream_cpu_ms_per_call: round((cpu.upstream * 1000) / run.count, 4), loadgen_cpu_ms_per_call: round((cpu.loadgen * 1000) / run.count, 4),
  };
  if (cpu.target !== undefined) f.target_cpu_ms_per_call = round((cpu.target * 1000) / run.count, 4);
  if (run.stream) {
    const first = run.samples.map((s) => s.firstMs!);
    f.ttft_p50_ms = round(percentile(first, 50), 3);
    f.ttft_p99_ms = round(percentile(first, 99), 3);
  }
  const st = run.samples.map((s) => s.serverMs).filter((x): x is number => x !== undefined);
  if (st.length) {
    f.server_timing_p50_ms = round(percentile(st, 50), 3);
    f.server_timing_p99_ms = round(percentile(st, 99), 3);
  }
  const both = run.samples.filter((x) => x.serverMs !== undefined && x.upstreamMs !== undefined);
  if (both.length) {
    f.upstream_timing_p50_ms = round(percentile(both.map((x) => x.upstreamMs!), 50), 3);
    f.unaccounted_p50_ms = round(percentile(both.map((x) => x.ms - x.serverMs! - x.upstreamMs!), 50), 3);
  }
  return f;
}

const STEP_RE = /^custos_gateway_step_seconds_(sum|count)\{step="([a-z_]+)"\}$/;
function stepMeans(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const sums = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const [k, v] of after) {
    const m = STEP_RE.exec(k);
    if (!m) continue;
    const d = v - (before.get(k) ?? 0);
    (m[1] === 'sum' ? sums : counts).set(m[2]!, d);
  }
  const out: Record<string, number> = {};
  for (const [step, sum] of sums) {
    const n = counts.get(step) ?? 0;
    if (n > 0) out[step] = round((sum * 1000) / n, 3);
  }
  const commitSum = (after.get('custos_audit_commit_seconds_sum') ?? 0) - (before.get('custos_audit_commit_seconds_sum') ?? 0);
  const commitCount = (after.get('custos_audit_commit_seconds_count') ?? 0) - (before.get('custos_audit_commit_seconds_count') ?? 0);
  if (commitCount > 0) {
    out.audit_commit = round((commitSum * 1000) / commitCount, 3);
    out.audit_commits_per_call = 0; // filled in by the caller, which knows the call count
    out.audit_commits = commitCount;
  }
  return out;
}

// ---- Start everything ----

const results: Record<string, any> = {
  when: new Date().toISOString(),
  ...gitCommit(repoRoot),
  machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length, memory_gb: round(os.totalmem() / 1e9, 1), node: process.version, platform: `${os.platform()} ${os.release()}`, loadavg_start: load() },
  options: { quick: opt.quick, rounds, seconds, warmup_seconds: warmupSeconds, light, connections, delay_ms: delayMs, chunks, chunk_gap_ms: chunkGapMs, backends, nginx_workers: nginxWorkers, log_level: opt['log-level'] },
  targets: {} as Record<string, string>,
  skipped: {} as Record<string, string>,
  rounds: [] as Array<Record<string, Record<PhaseId, PhaseFigures>>>,
};

const started = performance.now();
const wantCustos = only.has('custos');
const serverRoot = opt['server-root'] ? path.resolve(opt['server-root'])
  : !wantCustos || opt['no-build'] ? repoRoot : buildRev({ repoRoot, rev: opt.rev, name: 'gateway-build', log });
if (wantCustos && !fs.existsSync(path.join(serverRoot, 'dist', 'gateway', 'pipeline.js'))) {
  throw new Error(`${serverRoot}/dist/gateway/pipeline.js is missing: ${opt['no-build'] ? 'run `npm run build`' : `${opt.rev} has no gateway pipeline`}`);
}
if (wantCustos) results.options.server_build = opt['server-root'] ? `${opt['server-root']} as built` : opt['no-build'] ? 'dist/ of the working tree' : `${opt.rev === 'HEAD' ? `HEAD (${results.commit})` : opt.rev} built into bench/.work/gateway-build`;

const upstreamKey = `sk-bench-${crypto.randomBytes(12).toString('hex')}`;
log(`starting the upstream (${delayMs} ms before each answer or first chunk)…`);
const upstream: Upstream = await startUpstream({ key: upstreamKey, delayMs, chunks, chunkGapMs });
const targets: Target[] = [directTarget(upstream)];
const custosServers = new Map<string, CustosServer>();
const drops: Array<() => Promise<void>> = [];

async function stopAll(): Promise<void> {
  for (const t of targets) await t.stop().catch((e: Error) => log(`stopping ${t.label}: ${e.message}`));
  await upstream.stop();
  for (const drop of drops) await drop().catch((e: Error) => log(`dropping a bench database: ${e.message}`));
}

try {
  if (only.has('nginx')) {
    const n = await nginxTarget(upstream, nginxWorkers);
    if ('missing' in n) {
      process.stdout.write(`nginx skipped: ${n.missing}\n`);
      results.skipped.nginx = n.missing;
    } else targets.push(n);
  }
  if (only.has('portkey')) {
    const p = await portkeyTarget(upstream, repoRoot);
    if ('missing' in p) {
      process.stdout.write(`Portkey skipped: ${p.missing}\n`);
      results.skipped.portkey = p.missing;
    } else targets.push(p);
  }
  if (wantCustos) {
    for (const backend of backends) {
      let databaseUrl: string | undefined;
      if (backend === 'postgres') {
        const why = await postgresReachable(opt['postgres-url']);
        if (why) {
          const redacted = opt['postgres-url'].replace(/\/\/[^@/]*@/, '//…@');
          process.stdout.write(`PostgreSQL unreachable at ${redacted} (${why}): Custos on PostgreSQL is skipped\n`);
          results.skipped['custos-postgres'] = why;
          continue;
        }
        const db = await freshPostgres(opt['postgres-url']);
        drops.push(db.drop);
        databaseUrl = db.url;
      }
      log(`starting Custos on ${backend} and setting it up through its API…`);
      const c = await startCustos({ id: `custos-${backend}`, label: `Custos (${backend === 'sqlite' ? 'SQLite' : 'PostgreSQL'})`, serverRoot, upstream, databaseUrl, logLevel: opt['log-level'] });
      custosServers.set(c.target.id, c);
      targets.push(c.target);
    }
  }
  for (const t of targets) results.targets[t.id] = t.label;

  const drivers = new Map<string, Driver>(targets.map((t) => [t.id, createDriver(t, Math.max(light, connections))]));
  let loadgenCpu = process.cpuUsage();
  // A target's CPU: its process and its children (nginx's master does no proxying; its workers do).
  const cpuOf = (pid: number | undefined) => {
    if (pid === undefined) return undefined;
    let kids: number[] = [];
    try {
      kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch { /* no children file: count the process alone */ }
    return cpuSeconds(pid) + kids.reduce((sum, k) => sum + (fs.existsSync(`/proc/${k}`) ? cpuSeconds(k) : 0), 0);
  };

  async function runPhase(t: Target, phase: (typeof PHASES)[number], secs: number): Promise<PhaseFigures> {
    const custos = custosServers.get(t.id);
    const before = custos ? await custos.metrics() : undefined;
    const c0 = { target: cpuOf(t.pid), upstream: cpuSeconds(upstream.pid) };
    loadgenCpu = process.cpuUsage();
    const run = await drivers.get(t.id)!.run({ seconds: secs, concurrency: phase.concurrency, stream: phase.stream });
    const lg = process.cpuUsage(loadgenCpu);
    const c1 = { target: cpuOf(t.pid), upstream: cpuSeconds(upstream.pid) };
    const f = figures(run, {
      target: c0.target === undefined ? undefined : c1.target! - c0.target, upstream: c1.upstream - c0.upstream, loadgen: (lg.user + lg.system) / 1e6,
    });
    if (custos && before) {
      f.steps_ms = stepMeans(before, await custos.metrics());
      if (f.steps_ms.audit_commits !== undefined) f.steps_ms.audit_commits_per_call = round(f.steps_ms.audit_commits / run.count, 3);
    }
    return f;
  }

  if (warmupSeconds > 0) {
    for (const t of targets) {
      log(`warm-up: ${t.label}…`);
      for (const phase of PHASES) await runPhase(t, phase, warmupSeconds / 2);
    }
  }

  for (let r = 0; r < rounds; r++) {
    // Rotate the order each round, so no target always runs right after the same one.
    const order = targets.map((_, i) => targets[(i + r) % targets.length]!);
    const round_: Record<string, Record<PhaseId, PhaseFigures>> = {};
    for (const t of order) {
      round_[t.id] = {} as Record<PhaseId, PhaseFigures>;
      for (const phase of PHASES) round_[t.id]![phase.id] = await runPhase(t, phase, seconds);
      const x = round_[t.id]!;
      log(`round ${r + 1}/${rounds} ${t.label}: p50 ${fmt(x['plain-light'].p50_ms, 2)} ms, ttft p50 ${fmt(x['stream-light'].ttft_p50_ms!, 2)} ms, ${fmt(x['plain-load'].per_second)}/s at ${connections} (load ${load().join(' ')})`);
    }
    results.rounds.push(round_);
  }
  for (const d of drivers.values()) await d.close();

  const stats = await upstream.stats();
  results.upstream = stats;
  if (stats.unauthorized > 0 || stats.bad_request > 0) {
    throw new Error(`the upstream refused ${stats.unauthorized} calls without its key (last: ${stats.last_unauthorized}…) and ${stats.bad_request} malformed ones: the figures are void`);
  }
  for (const [id, c] of custosServers) {
    const m = await c.metrics();
    results[`${id}_calls`] = Object.fromEntries([...m].filter(([k]) => k.startsWith('custos_gateway_requests_total') || k.startsWith('custos_decisions_total')));
  }
} catch (error) {
  await stopAll().catch(() => undefined);
  throw error;
}

// ---- Profile (optional) ----

let profileText: string | undefined;
if (opt.profile && wantCustos) {
  const profDir = path.join(repoRoot, 'bench', '.work', 'gateway-profile');
  fs.rmSync(profDir, { recursive: true, force: true });
  fs.mkdirSync(profDir, { recursive: true });
  log(`profiling Custos (SQLite) at ${connections} connections for ${profileSeconds} s…`);
  const c = await startCustos({ id: 'custos-profile', label: 'Custos (SQLite, --cpu-prof)', serverRoot, upstream, logLevel: opt['log-level'], nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir] });
  const d = createDriver(c.target, connections);
  try {
    await d.run({ seconds: 1, concurrency: connections, stream: false });
    await d.run({ seconds: profileSeconds, concurrency: connections, stream: false });
  } finally {
    await d.close();
    await c.target.stop();
  }
  const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (file) {
    profileText = summarizeProfile(JSON.parse(fs.readFileSync(path.join(profDir, file), 'utf8')) as CpuProfile, 25);
    results.profile = { file: path.relative(repoRoot, path.join(profDir, file)), seconds: profileSeconds };
  } else log('no .cpuprofile was written (the server did not exit cleanly)');
}
await stopAll();

// ---- Medians, ratios, output ----

const ids = Object.keys(results.targets);
const med = (id: string, phase: PhaseId, key: keyof PhaseFigures) => median(results.rounds.map((r: any) => r[id]?.[phase]?.[key] as number));
const addedMed = (id: string, phase: PhaseId, key: keyof PhaseFigures) => median(results.rounds.map((r: any) => (r[id]?.[phase]?.[key] as number) - (r.direct?.[phase]?.[key] as number)));

const medians: Record<string, any> = {};
for (const id of ids) {
  medians[id] = {
    added_p50_ms: round(addedMed(id, 'plain-light', 'p50_ms'), 3),
    added_p99_ms: round(addedMed(id, 'plain-light', 'p99_ms'), 3),
    added_ttft_p50_ms: round(addedMed(id, 'stream-light', 'ttft_p50_ms'), 3),
    added_ttft_p99_ms: round(addedMed(id, 'stream-light', 'ttft_p99_ms'), 3),
    added_stream_end_p50_ms: round(addedMed(id, 'stream-light', 'p50_ms'), 3),
    per_second_at_connections: round(med(id, 'plain-load', 'per_second'), 1),
    stream_per_second_at_connections: round(med(id, 'stream-load', 'per_second'), 1),
    added_p50_ms_at_connections: round(addedMed(id, 'plain-load', 'p50_ms'), 3),
    added_p99_ms_at_connections: round(addedMed(id, 'plain-load', 'p99_ms'), 3),
    added_ttft_p50_ms_at_connections: round(addedMed(id, 'stream-load', 'ttft_p50_ms'), 3),
    p50_ms: round(med(id, 'plain-light', 'p50_ms'), 3),
    p99_ms: round(med(id, 'plain-light', 'p99_ms'), 3),
    ttft_p50_ms: round(med(id, 'stream-light', 'ttft_p50_ms'), 3),
    target_cpu_ms_per_call_at_connections: round(med(id, 'plain-load', 'target_cpu_ms_per_call'), 3),
    server_timing_p50_ms: round(med(id, 'plain-light', 'server_timing_p50_ms'), 3),
    server_timing_p99_ms: round(med(id, 'plain-light', 'server_timing_p99_ms'), 3),
    upstream_timing_p50_ms: round(med(id, 'plain-light', 'upstream_timing_p50_ms'), 3),
    unaccounted_p50_ms: round(med(id, 'plain-light', 'unaccounted_p50_ms'), 3),
  };
  if (id.startsWith('custos-')) {
    const steps: Record<string, number> = {};
    for (const phase of ['plain-light', 'plain-load'] as const) {
      const keys = new Set<string>(results.rounds.flatMap((r: any) => Object.keys(r[id]?.[phase]?.steps_ms ?? {})));
      for (const k of keys) steps[`${phase}:${k}`] = round(median(results.rounds.map((r: any) => r[id]?.[phase]?.steps_ms?.[k] as number)), 3);
    }
    medians[id].steps_ms = steps;
  }
}
results.medians = medians;

type Fig = 'added_p50_ms' | 'added_p99_ms' | 'added_ttft_p50_ms' | 'added_ttft_p99_ms' | 'per_second_at_connections' | 'added_p50_ms_at_connections' | 'added_p99_ms_at_connections';
const FIGS: Array<{ key: Fig; label: string; higherIsBetter: boolean }> = [
  { key: 'added_p50_ms', label: `added p50 (${light} in flight)`, higherIsBetter: false },
  { key: 'added_p99_ms', label: `added p99 (${light} in flight)`, higherIsBetter: false },
  { key: 'added_ttft_p50_ms', label: `added TTFT p50 (${light} in flight)`, higherIsBetter: false },
  { key: 'added_ttft_p99_ms', label: `added TTFT p99 (${light} in flight)`, higherIsBetter: false },
  { key: 'per_second_at_connections', label: `calls/s at ${connections} connections`, higherIsBetter: true },
  { key: 'added_p50_ms_at_connections', label: `added p50 at ${connections}`, higherIsBetter: false },
  { key: 'added_p99_ms_at_connections', label: `added p99 at ${connections}`, higherIsBetter: false },
];
const ratios: Record<string, Record<string, number>> = {};
const aims: Record<string, Record<string, { aim: string; value: number; met: boolean }>> = {};
for (const id of ids.filter((x) => x.startsWith('custos-'))) {
  const m = medians[id];
  ratios[id] = {};
  for (const peer of ['nginx', 'portkey'].filter((p) => medians[p])) {
    // An added figure within 0.05 ms of nothing (nginx's, often) makes no ratio: it is left out (null), not divided by.
    for (const f of FIGS) {
      const denom = medians[peer][f.key] as number;
      ratios[id][`${f.key}_vs_${peer}`] = f.higherIsBetter || denom >= 0.05 ? round(m[f.key] / denom, 3) : (null as unknown as number);
    }
  }
  const a: Record<string, { aim: string; value: number; met: boolean }> = {
    added_p50: { aim: 'added p50 < 1 ms', value: m.added_p50_ms, met: m.added_p50_ms < 1 },
    added_p99: { aim: 'added p99 < 5 ms', value: m.added_p99_ms, met: m.added_p99_ms < 5 },
  };
  if (medians.nginx) a.throughput_vs_nginx = { aim: 'throughput ≥ 95% of nginx', value: ratios[id].per_second_at_connections_vs_nginx!, met: ratios[id].per_second_at_connections_vs_nginx! >= 0.95 };
  if (medians.portkey) {
    const behind = FIGS.filter((f) => (f.higherIsBetter ? m[f.key] <= medians.portkey[f.key] : m[f.key] >= medians.portkey[f.key])).map((f) => f.key);
    a.ahead_of_portkey = { aim: `ahead of Portkey on every figure${behind.length ? ` (behind on: ${behind.join(', ')})` : ''}`, value: FIGS.length - behind.length, met: behind.length === 0 };
  }
  aims[id] = a;
}
results.ratios = ratios;
results.aims = aims;
results.machine.loadavg_end = load();
results.wall_seconds = round((performance.now() - started) / 1000, 1);

const t1 = new Table({ style, head: [`median of ${rounds} round${rounds === 1 ? '' : 's'} × ${seconds} s; upstream ${delayMs} ms`, `added p50 ms (${light})`, 'added p99 ms', 'added TTFT p50 ms', 'added TTFT p99 ms', `calls/s (${connections})`, `added p50 / p99 ms (${connections})`, `stream calls/s (${connections})`, `CPU ms/call (${connections})`] });
for (const id of ids) {
  const m = medians[id];
  const isDirect = id === 'direct';
  t1.push([
    isDirect ? `${results.targets[id]} (p50 ${fmt(m.p50_ms, 2)} ms, p99 ${fmt(m.p99_ms, 2)}, TTFT ${fmt(m.ttft_p50_ms, 2)})` : results.targets[id],
    isDirect ? '0' : fmt(m.added_p50_ms, 2), isDirect ? '0' : fmt(m.added_p99_ms, 2), isDirect ? '0' : fmt(m.added_ttft_p50_ms, 2), isDirect ? '0' : fmt(m.added_ttft_p99_ms, 2),
    fmt(m.per_second_at_connections), isDirect ? '0' : `${fmt(m.added_p50_ms_at_connections, 1)} / ${fmt(m.added_p99_ms_at_connections, 1)}`, fmt(m.stream_per_second_at_connections),
    isDirect ? '' : fmt(m.target_cpu_ms_per_call_at_connections, 3),
  ]);
}
process.stdout.write(`\n${t1.toString()}\n`);

for (const id of Object.keys(ratios)) {
  const t2 = new Table({ style, head: [`${results.targets[id]} ÷ peer`, ...FIGS.map((f) => f.label)] });
  for (const peer of ['nginx', 'portkey'].filter((p) => medians[p])) t2.push([results.targets[peer], ...FIGS.map((f) => {
    const v = ratios[id]![`${f.key}_vs_${peer}`] as number | null;
    return v === null || v === undefined ? `n/a (${fmt(medians[peer][f.key], 2)} ms)` : `${fmt(v, 2)}×`;
  })]);
  const t3 = new Table({ style, head: ['aim', 'value', 'met'] });
  for (const a of Object.values(aims[id]!)) t3.push([a.aim, fmt(a.value, 3), a.met ? 'yes' : 'NO']);
  const steps = medians[id].steps_ms as Record<string, number>;
  const stepLine = (phase: string) => Object.entries(steps).filter(([k]) => k.startsWith(`${phase}:`) && !k.endsWith('audit_commits')).map(([k, v]) => `${k.slice(phase.length + 1)} ${fmt(v, 3)}`).join(', ');
  process.stdout.write(`\n${t2.toString()}\n${t3.toString()}\n`);
  process.stdout.write(`${results.targets[id]}: Server-Timing custos;dur= p50 ${fmt(medians[id].server_timing_p50_ms, 3)} ms, p99 ${fmt(medians[id].server_timing_p99_ms, 3)} ms; upstream;dur= p50 ${fmt(medians[id].upstream_timing_p50_ms, 3)} ms (the upstream directly: p50 ${fmt(medians.direct.p50_ms, 3)}); neither, p50 ${fmt(medians[id].unaccounted_p50_ms, 3)} ms (${light} in flight)\n`);
  process.stdout.write(`  mean ms per step (${light} in flight): ${stepLine('plain-light')}\n  mean ms per step (${connections}): ${stepLine('plain-load')}\n`);
}
if (profileText) process.stdout.write(`\nCustos (SQLite) CPU profile at ${connections} connections, ${profileSeconds} s:\n${profileText}\n`);
process.stdout.write(`\n"added": the target's figure minus the upstream's own in the same round. ${results.machine.cpus} × ${results.machine.cpu}, Node ${process.version}, load ${results.machine.loadavg_start.join(' ')} → ${results.machine.loadavg_end.join(' ')}; ${fmt(results.wall_seconds, 0)} s\n`);

fs.mkdirSync(path.dirname(opt.out), { recursive: true });
fs.writeFileSync(opt.out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`results: ${path.relative(process.cwd(), opt.out)}\n`);
