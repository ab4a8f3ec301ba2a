// Registry figures (issue 2): create rate through the API on SQLite and PostgreSQL, filtered list latency at
// 100,000 principals, and server RSS idle and at 100,000 principals. The server runs as a separate process
// (`node bin/custos.js serve`) on 127.0.0.1 and is driven over real HTTP with keep-alive connections.
//
//   npm run bench -- registry [--runs 3] [--backends sqlite,postgres] [--population 100000] ...
//
// There is no named peer for this bench, so no ratio is printed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { createClient, drive, type Client } from './load.js';
import { summarizeProfile } from './profile.js';
import { cpuSeconds, freshPostgres, postgresQuery, rssMiB, startServer } from './server.js';
import { median, round, summarize, type LatencySummary } from './stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');

const { values: opt } = parseArgs({
  options: {
    backends: { type: 'string', default: 'sqlite,postgres' },
    runs: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '32' },
    'create-sample': { type: 'string', default: '10000' },
    population: { type: 'string', default: '100000' },
    owners: { type: 'string', default: '100' },
    'list-requests': { type: 'string', default: '300' },
    'log-level': { type: 'string', default: 'info' },
    'postgres-url': { type: 'string', default: process.env.CUSTOS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    out: { type: 'string', default: path.join(here, 'results.json') },
    'no-build': { type: 'boolean', default: false },
    profile: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (opt.help) {
  process.stdout.write(`usage: npm run bench -- registry [options]
  --backends sqlite,postgres  which stores to measure
  --runs N                    fresh server + store per run; the table shows medians over runs (default 3)
  --concurrency N             requests in flight while creating (default 32)
  --create-sample N           creates timed for the create rate (default 10000; part of the population)
  --population N              principals in the store for the list and RSS figures (default 100000)
  --owners N                  human owners the agents are spread over (default 100)
  --list-requests N           timed requests per list query (default 300, after 30 warm-up)
  --log-level L               server log level (default info, as a user runs it; the log goes to /dev/null)
  --postgres-url URL          admin URL; a fresh database is created and dropped per run
  --out FILE                  results JSON (default bench/registry/results.json)
  --no-build                  skip 'npm run build'
  --profile create|list       one SQLite run with the server under --cpu-prof; prints where the time goes
`);
  process.exit(0);
}

function int(name: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

const runs = int('runs', opt.runs, 1, 20);
const concurrency = int('concurrency', opt.concurrency, 1, 256);
const population = int('population', opt.population, 1000, 1_000_000);
const owners = int('owners', opt.owners, 1, 1000);
const createSample = Math.min(int('create-sample', opt['create-sample'], 100, 1_000_000), population - owners);
const listRequests = int('list-requests', opt['list-requests'], 10, 100_000);
const backends = opt.backends.split(',').map((b) => b.trim()).filter(Boolean);
for (const b of backends) if (b !== 'sqlite' && b !== 'postgres') throw new Error(`unknown backend '${b}'`);
if (opt.profile !== undefined && opt.profile !== 'create' && opt.profile !== 'list') throw new Error('--profile is create or list');

const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
const TIERS = ['low', 'medium', 'high', 'critical'] as const;
const AUTONOMY = ['assistive', 'supervised', 'autonomous'] as const;
const LABEL_VALUES = 97; // costcenter=cc-0..96: about 1% of agents each
const pick = <T>(list: readonly T[], i: number): T => list[i % list.length]!;

/** A realistic agent registration; spreads owners, environments and labels evenly. */
function agentBody(i: number) {
  return {
    name: `agent-${i}`,
    kind: 'agent',
    owner: `owner-${i % owners}`,
    display_name: `Agent ${i}`,
    environment: pick(ENVIRONMENTS, i),
    risk_tier: pick(TIERS, i),
    autonomy: pick(AUTONOMY, i),
    platform: 'langchain',
    scopes: ['model:invoke', 'tool:search'],
    purposes: ['customer-support'],
    labels: { costcenter: `cc-${i % LABEL_VALUES}`, app: `app-${i % 1000}` },
    reason: 'bench',
  };
}

interface ListQuery {
  name: string;
  path: (i: number) => string;
}

function listQueries(page2Cursor: string): ListQuery[] {
  return [
    { name: 'kind+environment', path: () => '/v1/principals?kind=agent&environment=prod&limit=50' },
    { name: 'kind+environment page 2', path: () => `/v1/principals?kind=agent&environment=prod&limit=50&cursor=${page2Cursor}` },
    { name: 'label', path: (i) => `/v1/principals?label=${encodeURIComponent(`costcenter=cc-${i % LABEL_VALUES}`)}&limit=50` },
    { name: 'owner', path: (i) => `/v1/principals?owner=owner-${i % owners}&limit=50` },
    { name: 'kind+environment+label', path: (i) => `/v1/principals?kind=agent&environment=prod&label=${encodeURIComponent(`costcenter=cc-${i % LABEL_VALUES}`)}&limit=50` },
  ];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (mib: number) => round((mib * 1024 * 1024) / 1e6, 1);

interface RunResult {
  backend: string;
  run: number;
  idle_rss_mb: number;
  create: LatencySummary & { per_second: number; concurrency: number; server_cpu_ms_per_create: number; client_cpu_ms_per_create: number };
  populate: { principals: number; seconds: number; per_second: number };
  rss_at_population_mb: number;
  rss_after_lists_mb: number;
  list: Record<string, LatencySummary>;
  /** PostgreSQL only: the same queries after an explicit ANALYZE (what autovacuum does on a default server). */
  list_after_analyze?: Record<string, LatencySummary>;
}

async function populate(client: Client, from: number, to: number) {
  return drive(to - from, concurrency, (k) => client.request('POST', '/v1/principals', agentBody(from + k)), 201);
}

async function createOwners(client: Client) {
  await drive(owners, Math.min(concurrency, owners), (i) => client.request('POST', '/v1/principals', { name: `owner-${i}`, kind: 'human' }), 201);
}

async function measureLists(client: Client): Promise<Record<string, LatencySummary>> {
  const first = await client.request('GET', '/v1/principals?kind=agent&environment=prod&limit=50');
  const cursor = (JSON.parse(first.body) as { next_cursor: string | null }).next_cursor;
  if (first.status !== 200 || !cursor) throw new Error(`list did not return a next page: ${first.status} ${first.body.slice(0, 200)}`);
  const out: Record<string, LatencySummary> = {};
  for (const q of listQueries(cursor)) {
    const check = await client.request('GET', q.path(0));
    const items = (JSON.parse(check.body) as { items: unknown[] }).items;
    // Every query must match something, or we would be timing empty answers.
    if (check.status !== 200 || !items?.length) throw new Error(`${q.name}: expected principals, got ${check.status} with ${items?.length ?? 0}`);
    // One request in flight: this is latency as a user sees it, not throughput.
    await drive(30, 1, (i) => client.request('GET', q.path(i)), 200);
    const timed = await drive(listRequests, 1, (i) => client.request('GET', q.path(i)), 200);
    out[q.name] = summarize(timed.latenciesMs);
  }
  return out;
}

async function withStore<T>(backend: string, fn: (databaseUrl: string | undefined) => Promise<T>): Promise<T> {
  if (backend === 'sqlite') return fn(undefined);
  const db = await freshPostgres(opt['postgres-url']);
  try {
    return await fn(db.url);
  } finally {
    await db.drop();
  }
}

async function oneRun(backend: string, run: number): Promise<RunResult> {
  return withStore(backend, async (databaseUrl) => {
    const server = await startServer({ repoRoot, databaseUrl, logLevel: opt['log-level'] });
    const client = createClient(server.url, server.token, concurrency);
    try {
      await sleep(2000);
      const idle = rssMiB(server.pid);
      await createOwners(client);
      const serverCpu0 = cpuSeconds(server.pid);
      const clientCpu0 = process.cpuUsage();
      const sample = await populate(client, 0, createSample);
      const clientCpu = process.cpuUsage(clientCpu0);
      const serverCpuMs = ((cpuSeconds(server.pid) - serverCpu0) * 1000) / sample.count;
      const clientCpuMs = (clientCpu.user + clientCpu.system) / 1000 / sample.count;
      const s = summarize(sample.latenciesMs);
      log(`  ${backend} run ${run}: ${round(sample.perSecond, 0)} creates/s (p50 ${s.p50_ms} ms, p99 ${s.p99_ms} ms; server CPU ${round(serverCpuMs, 3)} ms/create, client ${round(clientCpuMs, 3)}); populating to ${population}...`);
      const rest = await populate(client, createSample, population - owners);
      const populated = owners + createSample + rest.count;
      await sleep(2000);
      const atPopulation = rssMiB(server.pid);
      const list = await measureLists(client);
      let listAfterAnalyze: Record<string, LatencySummary> | undefined;
      if (databaseUrl) {
        // The planner's statistics are whatever autovacuum left (it may be off, or not have run yet after a
        // bulk load); measure as found, then again after ANALYZE.
        await postgresQuery(databaseUrl, 'analyze');
        listAfterAnalyze = await measureLists(client);
      }
      const afterLists = rssMiB(server.pid);
      const p99s = (l: Record<string, LatencySummary>) => Object.values(l).map((x) => x.p99_ms).join('/');
      log(`  ${backend} run ${run}: populated ${populated} in ${round(sample.seconds + rest.seconds, 1)} s; list p99 ${p99s(list)} ms${listAfterAnalyze ? ` (after ANALYZE ${p99s(listAfterAnalyze)})` : ''}; RSS ${mb(idle)} -> ${mb(atPopulation)} MB`);
      return {
        backend, run,
        idle_rss_mb: mb(idle),
        create: {
          ...s, per_second: round(sample.perSecond, 1), concurrency,
          server_cpu_ms_per_create: round(serverCpuMs, 3), client_cpu_ms_per_create: round(clientCpuMs, 3),
        },
        populate: { principals: populated, seconds: round(sample.seconds + rest.seconds, 2), per_second: round((createSample + rest.count) / (sample.seconds + rest.seconds), 1) },
        rss_at_population_mb: mb(atPopulation),
        rss_after_lists_mb: mb(afterLists),
        list,
        ...(listAfterAnalyze ? { list_after_analyze: listAfterAnalyze } : {}),
      };
    } finally {
      await client.close();
      await server.stop();
    }
  });
}

function log(line: string) {
  process.stderr.write(line + '\n');
}

function build() {
  if (opt['no-build']) return;
  log('building (npm run build)...');
  const r = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) {
    // tsc still emits JavaScript on type errors; go on only if the server entry point exists.
    if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli', 'main.js'))) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
    log(`WARNING: 'npm run build' reported type errors (JavaScript was still emitted); measuring the emitted dist/:\n${r.stdout.split('\n').filter((l) => /error TS/.test(l)).slice(0, 5).join('\n')}`);
  }
}

function machine() {
  const cpus = os.cpus();
  return { cpus: cpus.length, cpu_model: cpus[0]?.model ?? 'unknown', memory_gb: round(os.totalmem() / 1e9, 1), node: process.version, platform: `${os.type()} ${os.release()}` };
}

function commit(): string {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

async function profileRun(kind: 'create' | 'list') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-prof-'));
  const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  if (kind === 'create') {
    const server = await startServer({ repoRoot, logLevel: opt['log-level'], nodeArgs });
    const client = createClient(server.url, server.token, concurrency);
    try {
      await createOwners(client);
      const r = await populate(client, 0, createSample);
      log(`profiled ${r.count} creates at ${round(r.perSecond, 0)}/s`);
    } finally {
      await client.close();
      await server.stop();
    }
  } else {
    // Populate with an unprofiled server, then restart on the same data dir under the profiler for the lists.
    const server = await startServer({ repoRoot, logLevel: opt['log-level'], keepDataDir: true });
    let client = createClient(server.url, server.token, concurrency);
    try {
      await createOwners(client);
      await populate(client, 0, population - owners);
    } finally {
      await client.close();
      await server.stop();
    }
    const again = await startServer({ repoRoot, logLevel: opt['log-level'], nodeArgs, reuseDataDir: server.dataDir });
    client = createClient(again.url, again.token, 1);
    try {
      const lists = await measureLists(client);
      log(`profiled lists: ${JSON.stringify(lists)}`);
    } finally {
      await client.close();
      await again.stop();
    }
  }
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${dir}`);
  process.stdout.write(`profile: ${path.join(dir, file)} (open in Chrome DevTools or speedscope)\n\n`);
  process.stdout.write(summarizeProfile(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')), 30) + '\n');
}

function medians(results: RunResult[]) {
  const m = (f: (r: RunResult) => number) => round(median(results.map(f)), 2);
  const listNames = Object.keys(results[0]?.list ?? {});
  return {
    runs: results.length,
    idle_rss_mb: m((r) => r.idle_rss_mb),
    create_per_second: m((r) => r.create.per_second),
    create_p50_ms: m((r) => r.create.p50_ms),
    create_p99_ms: m((r) => r.create.p99_ms),
    server_cpu_ms_per_create: m((r) => r.create.server_cpu_ms_per_create),
    client_cpu_ms_per_create: m((r) => r.create.client_cpu_ms_per_create),
    populate_per_second: m((r) => r.populate.per_second),
    rss_at_population_mb: m((r) => r.rss_at_population_mb),
    rss_after_lists_mb: m((r) => r.rss_after_lists_mb),
    list: Object.fromEntries(listNames.map((n) => [n, { p50_ms: m((r) => r.list[n]!.p50_ms), p99_ms: m((r) => r.list[n]!.p99_ms) }])),
    ...(results.every((r) => r.list_after_analyze) ? {
      list_after_analyze: Object.fromEntries(listNames.map((n) => [n, {
        p50_ms: m((r) => r.list_after_analyze![n]!.p50_ms), p99_ms: m((r) => r.list_after_analyze![n]!.p99_ms),
      }])),
    } : {}),
  };
}

async function main() {
  build();
  if (opt.profile) {
    await profileRun(opt.profile as 'create' | 'list');
    return;
  }
  log(`registry bench: backends ${backends.join(', ')}; ${runs} run(s) each; ${concurrency} in flight; ${population} principals; ${machine().cpus} CPUs (client and server share them)`);
  const all: RunResult[] = [];
  const failures: Array<{ backend: string; run: number; error: string }> = [];
  for (const backend of backends) {
    for (let run = 1; run <= runs; run++) {
      // This machine is shared: if a run dies (e.g. its server is killed from outside), say so and retry once.
      try {
        all.push(await oneRun(backend, run));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failures.push({ backend, run, error: message.slice(0, 1000) });
        log(`  ${backend} run ${run} FAILED (${message.split('\n')[0]}); retrying once`);
        all.push(await oneRun(backend, run));
      }
      // Keep what is measured so far even if a later run fails.
      fs.writeFileSync(opt.out, JSON.stringify({ bench: 'registry', partial: true, generated_at: new Date().toISOString(), failures, runs: all }, null, 2) + '\n');
    }
  }
  const byBackend = Object.fromEntries(backends.map((b) => [b, medians(all.filter((r) => r.backend === b))]));

  const aims = backends.flatMap((b) => {
    const m = byBackend[b]!;
    const worstListP99 = Math.max(...Object.values(m.list).map((l) => l.p99_ms));
    return [
      ...(b === 'sqlite' ? [{ aim: 'creates/s on SQLite >= 2000', backend: b, value: m.create_per_second, met: m.create_per_second >= 2000 }] : []),
      { aim: `list p99 < 20 ms at ${population} (worst query${b === 'postgres' ? ', statistics as found' : ''})`, backend: b, value: worstListP99, met: worstListP99 < 20 },
      ...(m.list_after_analyze ? [(() => {
        const worst = Math.max(...Object.values(m.list_after_analyze).map((l) => l.p99_ms));
        return { aim: `list p99 < 20 ms at ${population} (worst query, after ANALYZE)`, backend: b, value: worst, met: worst < 20 };
      })()] : []),
      { aim: 'idle RSS < 150 MB', backend: b, value: m.idle_rss_mb, met: m.idle_rss_mb < 150 },
    ];
  });

  const results = {
    bench: 'registry',
    generated_at: new Date().toISOString(),
    commit: commit(),
    machine: machine(),
    peer: null,
    peer_note: 'No named peer for this bench (issue 2 names none); absolute figures only.',
    postgres_autovacuum: backends.includes('postgres') ? String((await postgresQuery(opt['postgres-url'], 'show autovacuum'))[0]?.autovacuum ?? 'unknown') : null,
    settings: { runs, concurrency, create_sample: createSample, population, owners, list_requests: listRequests, list_warmup: 30, server_log_level: opt['log-level'], rss_unit: 'MB = 10^6 bytes, from /proc/<pid>/status VmRSS' },
    medians: byBackend,
    aims,
    failed_runs_retried: failures,
    runs: all,
  };
  fs.writeFileSync(opt.out, JSON.stringify(results, null, 2) + '\n');

  const t = new Table({ head: ['median of ' + runs + ' run(s)', ...backends], style: { head: [], border: [] } });
  const row = (label: string, f: (b: string) => string | number) => t.push([label, ...backends.map((b) => String(f(b)))]);
  row(`creates/s (${concurrency} in flight)`, (b) => byBackend[b]!.create_per_second);
  row('create p50 / p99 ms', (b) => `${byBackend[b]!.create_p50_ms} / ${byBackend[b]!.create_p99_ms}`);
  row('server / client CPU ms per create', (b) => `${byBackend[b]!.server_cpu_ms_per_create} / ${byBackend[b]!.client_cpu_ms_per_create}`);
  row(`populate to ${population}: creates/s`, (b) => byBackend[b]!.populate_per_second);
  for (const name of Object.keys(byBackend[backends[0]!]!.list)) {
    row(`list ${name}: p50 / p99 ms`, (b) => `${byBackend[b]!.list[name]!.p50_ms} / ${byBackend[b]!.list[name]!.p99_ms}`);
  }
  if (backends.some((b) => byBackend[b]!.list_after_analyze)) {
    for (const name of Object.keys(byBackend[backends[0]!]!.list)) {
      row(`list ${name} after ANALYZE: p50 / p99 ms`, (b) => {
        const l = byBackend[b]!.list_after_analyze?.[name];
        return l ? `${l.p50_ms} / ${l.p99_ms}` : '-';
      });
    }
  }
  row('RSS idle MB', (b) => byBackend[b]!.idle_rss_mb);
  row(`RSS at ${population} principals MB`, (b) => byBackend[b]!.rss_at_population_mb);
  row('RSS after list queries MB', (b) => byBackend[b]!.rss_after_lists_mb);
  process.stdout.write(`\nCustos registry bench (${results.commit}, ${results.machine.cpus} CPU ${results.machine.cpu_model}, Node ${process.version})\n`);
  process.stdout.write(t.toString() + '\n\n');
  if (results.postgres_autovacuum !== null) process.stdout.write(`PostgreSQL autovacuum on this server: ${results.postgres_autovacuum}\n`);
  for (const a of aims) process.stdout.write(`${a.met ? 'MET   ' : 'MISSED'} ${a.aim} [${a.backend}]: ${a.value}\n`);
  process.stdout.write(`\nPeer: none. ${results.peer_note}\nResults written to ${path.relative(process.cwd(), opt.out)}\n`);
}

main().catch((error: unknown) => {
  log(`registry bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  process.exitCode = 1;
});
