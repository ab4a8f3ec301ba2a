// The refresh_token grant for people: refreshes/s and p50/p99 latency at N concurrent clients, each rotating its own
// chain of refresh tokens (public client, no client authentication), Custos (`custos serve`, SQLite or PostgreSQL)
// beside oidc-provider 9 (same grant, rotation always, JWT access tokens) in the same run, and the ratio.
//
//   npm run bench -- refresh [--runs 3] [--seconds 10] [--concurrency 64] [--backends sqlite,postgres]
//                            [--peer-adapters memory,sqlite,postgres]
//
// Setup (not timed): every server started, N sessions (+1 spare) created through each one's authorization code flow
// (custos.ts, peer.ts), and one refresh decoded and its reuse refused (load.ts checkOne). Then per run, in an order
// that alternates between runs: per server a warm-up window, then the timed window (load.ts window). Every figure is
// the median over runs; results go to bench/refresh/results.json. A refresh that fails is counted and reported, and
// makes the bench exit 1 (there must be none).
//
// The server is the committed HEAD, compiled into bench/.work/refresh-build (git archive + tsc) and started as
// `node bin/custos.js serve` from there; --no-build serves the working tree's dist/ instead.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildRev, num } from '../registry/build.js';
import Table from 'cli-table3';
import { summarizeProfile } from '../registry/profile.js';
import { median, round } from '../registry/stats.js';
import { fmt, gitCommit, load } from '../run-info.js';
import { startCustos } from './custos.js';
import { checkOne, window, type RefreshServer, type WindowResult } from './load.js';
import { startOidcProvider, type PeerAdapter } from './peer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '64' },
    backends: { type: 'string', default: 'sqlite' },
    'peer-adapters': { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    'postgres-url': { type: 'string', default: process.env.CUSTOS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    out: { type: 'string', default: path.join(here, 'results.json') },
    'no-build': { type: 'boolean', default: false },
    rev: { type: 'string', default: 'HEAD' },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (opt.help) {
  process.stdout.write(`usage: npm run bench -- refresh [options]
  --runs N                repetitions; the tables show medians over runs (default 3)
  --seconds S             timed window per server per run (default 10)
  --warmup S              warm-up window per server per run, before the timed one (default 2)
  --concurrency N         clients, one session (refresh-token chain) and one connection each (default 64)
  --backends LIST         Custos stores: sqlite,postgres (default sqlite)
  --peer-adapters LIST    oidc-provider stores: memory (its default), sqlite, postgres
                          (default memory,sqlite; memory,sqlite,postgres when --backends includes postgres)
  --log-level L           Custos server log level (default info, as a user runs it; the log goes to /dev/null)
  --postgres-url URL      admin URL; a fresh database is created and dropped for each server that needs one
  --out FILE              results JSON (default bench/refresh/results.json)
  --no-build              serve the working tree's dist/ as it is (default: build the committed HEAD into
                          bench/.work/refresh-build, so others' uncommitted edits are not measured)
  --rev REV               build this commit instead of HEAD
  --profile               only: one Custos window (the first of --backends) under --cpu-prof; prints where the
                          server's time goes (the profile covers the whole process: start, sign-ins, warm-up too)
`);
  process.exit(0);
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

const runs = num('runs', opt.runs, 1, 20);
const seconds = num('seconds', opt.seconds, 0.5, 300, false);
const warmup = num('warmup', opt.warmup, 0, 60, false);
const concurrency = num('concurrency', opt.concurrency, 1, 512);
const backends = list(opt.backends) as Array<'sqlite' | 'postgres'>;
for (const b of backends) if (b !== 'sqlite' && b !== 'postgres') throw new Error(`unknown backend '${b}'`);
const peerAdapters = list(opt['peer-adapters'] ?? (backends.includes('postgres') ? 'memory,sqlite,postgres' : 'memory,sqlite')) as PeerAdapter[];
for (const a of peerAdapters) if (a !== 'memory' && a !== 'sqlite' && a !== 'postgres') throw new Error(`unknown peer adapter '${a}'`);

const log = (line: string) => process.stderr.write(`${line}\n`);


const results: Record<string, unknown> = {
  when: new Date().toISOString(),
  ...gitCommit(repoRoot),
  machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.release()}`, loadavg_start: load() },
  options: { runs, seconds, warmup, concurrency, backends, peer_adapters: peerAdapters, log_level: opt['log-level'] },
};

const serverRoot = opt['no-build'] ? repoRoot : buildRev({ repoRoot, rev: opt.rev, name: 'refresh-build', log });
if (!fs.existsSync(path.join(serverRoot, 'dist', 'cli', 'main.js'))) throw new Error(`${serverRoot}/dist/cli/main.js is missing: run \`npm run build\``);
(results.options as Record<string, unknown>).server_build = opt['no-build'] ? 'dist/ of the working tree' : `${opt.rev === 'HEAD' ? `HEAD (${(results as { commit: string }).commit})` : opt.rev} built into bench/.work/refresh-build`;

// ---- --profile: where a Custos refresh costs its CPU (first backend of --backends) ----

if (opt.profile) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-refresh-prof-'));
  const server = await startCustos({ repoRoot: serverRoot, backend: backends[0]!, logLevel: opt['log-level'], postgresUrl: opt['postgres-url'], sessions: concurrency, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
  try {
    if (warmup > 0) await window(server, concurrency, warmup);
    const res = await window(server, concurrency, seconds);
    log(`profiled ${res.refreshes} refreshes at ${fmt(res.refreshes_per_second)}/s, ${res.errors} errors (the profiler slows the server)`);
  } finally {
    await server.stop();
  }
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${dir}`);
  process.stdout.write(`profile: ${path.join(dir, file)}\n\n${summarizeProfile(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')), 40)}\n`);
  process.exit(0);
}

// ---- The runs ----

const servers: RefreshServer[] = [];
let failed = 0;
try {
  for (const backend of backends) {
    log(`starting custos (${backend}) and signing ${concurrency + 1} sessions in…`);
    const t0 = performance.now();
    servers.push(await startCustos({ repoRoot: serverRoot, backend, logLevel: opt['log-level'], postgresUrl: opt['postgres-url'], sessions: concurrency }));
    log(`  ready in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  }
  for (const adapter of peerAdapters) {
    log(`starting oidc-provider (${adapter} adapter) and signing ${concurrency + 1} sessions in…`);
    const t0 = performance.now();
    servers.push(await startOidcProvider({ adapter, sessions: concurrency, postgresUrl: opt['postgres-url'] }));
    log(`  ready in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  }
  const checks: Record<string, unknown> = {};
  for (const s of servers) checks[s.name] = await checkOne(s);

  const perServer = new Map<string, Array<WindowResult & { loadavg: number[] }>>(servers.map((s) => [s.name, []]));
  for (let r = 0; r < runs; r++) {
    // Alternate the order each run so a drift in the machine's load does not favour one server.
    const order = r % 2 === 0 ? servers : [...servers].reverse();
    for (const s of order) {
      if (warmup > 0) {
        const w = await window(s, concurrency, warmup);
        if (w.errors) throw new Error(`${s.name}: ${w.errors} refreshes failed in the warm-up; first: ${w.first_error}`);
      }
      const res = await window(s, concurrency, seconds);
      perServer.get(s.name)!.push({ ...res, loadavg: load() });
      failed += res.errors;
      log(`  run ${r + 1}/${runs} ${s.name}: ${fmt(res.refreshes_per_second)} refreshes/s, p50 ${res.p50_ms} ms, p99 ${res.p99_ms} ms, server ${res.server_cpu_ms_per_refresh} ms CPU/refresh, ${res.errors} errors${res.first_error ? ` (first: ${res.first_error})` : ''} (load ${load().join(' ')})`);
    }
  }

  const medians = Object.fromEntries([...perServer].map(([name, rs]) => [name, {
    refreshes_per_second: round(median(rs.map((x) => x.refreshes_per_second)), 1),
    p50_ms: round(median(rs.map((x) => x.p50_ms)), 2),
    p99_ms: round(median(rs.map((x) => x.p99_ms)), 2),
    server_cpu_ms_per_refresh: round(median(rs.map((x) => x.server_cpu_ms_per_refresh)), 3),
    client_cpu_ms_per_refresh: round(median(rs.map((x) => x.client_cpu_ms_per_refresh)), 3),
    errors: rs.reduce((n, x) => n + x.errors, 0),
    runs_refreshes_per_second: rs.map((x) => x.refreshes_per_second),
  }]));

  const table = new Table({ head: [`median of ${runs}, ${concurrency} clients`, 'refreshes/s', 'p50 ms', 'p99 ms', 'server CPU ms/refresh', 'errors', 'runs (refreshes/s)'] });
  for (const [name, m] of Object.entries(medians)) {
    table.push([name, fmt(m.refreshes_per_second), fmt(m.p50_ms, 1), fmt(m.p99_ms, 1), fmt(m.server_cpu_ms_per_refresh, 3), String(m.errors), m.runs_refreshes_per_second.map((v) => fmt(v)).join(' / ')]);
  }

  // Custos / oidc-provider for every pair: the ratio of the medians, and run by run (same run, back to back).
  const ratios: Record<string, Record<string, unknown>> = {};
  const peers = servers.filter((s) => s.name.startsWith('oidc-provider'));
  const ratioTable = new Table({ head: ['Custos / oidc-provider: refreshes/s (per run) · server CPU per refresh, peer / Custos', ...peers.map((p) => p.name)] });
  for (const c of servers.filter((s) => s.name.startsWith('custos'))) {
    ratios[c.name] = {};
    const row: string[] = [c.name];
    for (const p of peers) {
      const mine = perServer.get(c.name)!;
      const theirs = perServer.get(p.name)!;
      const perRun = mine.map((x, i) => round(x.refreshes_per_second / theirs[i]!.refreshes_per_second, 2));
      const ratio = round(medians[c.name]!.refreshes_per_second / medians[p.name]!.refreshes_per_second, 2);
      const cpu = round(medians[p.name]!.server_cpu_ms_per_refresh / medians[c.name]!.server_cpu_ms_per_refresh, 2);
      ratios[c.name]![p.name] = { ratio_of_medians: ratio, per_run: perRun, cpu_ratio_peer_over_custos: cpu };
      row.push(`${ratio}× (${perRun.join(' / ')}) · CPU ${cpu}×`);
    }
    ratioTable.push(row);
  }

  process.stdout.write(`\nrefresh_token grant (public client, rotation every use), ${seconds} s windows after ${warmup} s warm-up, ${concurrency} clients on their own chains\n${table.toString()}\n${ratioTable.toString()}\n`);
  process.stdout.write('Custos commits every refresh durably before answering, in one transaction: the presented refresh token marked used, the next\n'
    + 'one stored, the session updated, the new access token\'s record and its audit event (SQLite WAL synchronous=FULL / PostgreSQL).\n'
    + 'oidc-provider (memory): its default in-memory adapter, nothing written anywhere. oidc-provider (sqlite|postgres): oidc-adapters.js,\n'
    + 'each adapter call its own commit (consume the old token, save the new one); its JWT access tokens are never stored.\n');
  results.checks = checks;
  results.medians = medians;
  results.ratios = ratios;
  results.runs = Object.fromEntries(perServer);
  results.errors = failed;
} finally {
  for (const s of servers) await s.stop().catch(() => undefined);
}

(results.machine as Record<string, unknown>).loadavg_end = load();
fs.writeFileSync(opt.out, `${JSON.stringify(results, null, 2)}\n`);
log(`\nresults: ${path.relative(process.cwd(), opt.out)}`);
if (failed) {
  log(`error: ${failed} refreshes failed (see results.runs.*.first_error); these figures are not a result`);
  process.exitCode = 1;
}
