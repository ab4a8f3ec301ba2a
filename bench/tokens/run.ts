// Token figures (issue 9):
//   1. in-process: access tokens signed/s, verified/s through the real verifier cold and cached, beside jose's
//      jwtVerify and node:crypto's bare signature check (inprocess.ts);
//   2. HTTP: client_credentials tokens/s with private_key_jwt at 64 connections, p50/p99, Custos beside
//      oidc-provider in the same run, and the ratio (http.ts, oidc-server.js).
// Each figure is the median over --runs. Results go to bench/tokens/results.json.
//
//   npm run bench -- tokens [--runs 3] [--seconds 2] [--duration 5] [--concurrency 64] [--backends sqlite,postgres]
//
// The server is the committed HEAD, compiled into bench/.work/tokens-build (git archive + tsc, a few seconds) and
// started as `node bin/custos.js serve` from there; --no-build serves the working tree's dist/ instead.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import type { SigningAlg } from '../../src/credentials/contracts.js';
import { summarizeProfile } from '../registry/profile.js';
import { median, round } from '../registry/stats.js';
import { fmt, gitCommit, load } from '../run-info.js';
import { assertions, checkOne, startCustos, startOidcProvider, window, type TokenServer, type WindowResult } from './http.js';
import { openInProcessBench, type InProcessRun, type Rate } from './inprocess.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    parts: { type: 'string', default: 'inprocess,http' },
    algs: { type: 'string', default: 'EdDSA,ES256' },
    seconds: { type: 'string', default: '2' },
    inflight: { type: 'string', default: '8' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '64' },
    backends: { type: 'string', default: 'sqlite' },
    'log-level': { type: 'string', default: 'info' },
    'postgres-url': { type: 'string', default: process.env.CUSTOS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    out: { type: 'string', default: path.join(here, 'results.json') },
    'no-build': { type: 'boolean', default: false },
    rev: { type: 'string', default: 'HEAD' },
    baseline: { type: 'string' },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (opt.help) {
  process.stdout.write(`usage: npm run bench -- tokens [options]
  --runs N              repetitions; every table shows medians over runs (default 3)
  --parts LIST          inprocess,http (default both)
  --algs LIST           signing algorithms for the in-process figures: EdDSA,ES256 (default both)
  --seconds S           in-process: seconds per figure per run (default 2)
  --inflight N          in-process: operations in flight (default 8)
  --duration S          HTTP: timed window per server per run (default 5)
  --warmup S            HTTP: warm-up per server per run, also sizes the assertion pool (default 2)
  --concurrency N       HTTP: connections and requests in flight (default 64)
  --backends LIST       HTTP: Custos stores, sqlite,postgres (default sqlite)
  --log-level L         Custos server log level (default info, as a user runs it; the log goes to /dev/null)
  --postgres-url URL    admin URL; a fresh database is created and dropped
  --out FILE            results JSON (default bench/tokens/results.json)
  --no-build            serve the working tree's dist/ as it is (default: build the committed HEAD into
                        bench/.work/tokens-build, so others' uncommitted edits are not measured)
  --rev REV             build this commit instead of HEAD (e.g. to compare two commits on the same machine)
  --baseline REV        HTTP: also serve REV (built into bench/.work/tokens-baseline) beside the build under test, in
                        the same alternating runs, so a change is measured against its parent under the same load
  --profile             only: one Custos (SQLite) window under --cpu-prof; prints where the server's time goes
`);
  process.exit(0);
}

function num(name: string, value: string | undefined, min: number, max: number, integer = true): number {
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  return n;
}
const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

const runs = num('runs', opt.runs, 1, 20);
const seconds = num('seconds', opt.seconds, 0.2, 60, false);
const inflight = num('inflight', opt.inflight, 1, 256);
const duration = num('duration', opt.duration, 0.5, 120, false);
const warmup = num('warmup', opt.warmup, 0.2, 30, false);
const concurrency = num('concurrency', opt.concurrency, 1, 512);
const parts = list(opt.parts);
for (const p of parts) if (p !== 'inprocess' && p !== 'http') throw new Error(`unknown part '${p}'`);
const algs = list(opt.algs) as SigningAlg[];
for (const a of algs) if (a !== 'EdDSA' && a !== 'ES256') throw new Error(`unknown alg '${a}'`);
const backends = list(opt.backends) as Array<'sqlite' | 'postgres'>;
for (const b of backends) if (b !== 'sqlite' && b !== 'postgres') throw new Error(`unknown backend '${b}'`);

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Compiles the committed HEAD, or --rev, (src, bin, package.json, tsconfig.json) into bench/.work/tokens-build; returns that root. */
function buildHead(rev = opt.rev, dir = 'tokens-build'): string {
  const root = path.join(repoRoot, 'bench', '.work', dir);
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  log(`building ${rev} into bench/.work/${dir}…`);
  const archive = spawnSync('git', ['archive', rev, 'src', 'bin', 'package.json', 'tsconfig.json'], { cwd: repoRoot, maxBuffer: 1 << 30 });
  if (archive.status !== 0) throw new Error(`git archive failed: ${archive.stderr.toString()}`);
  const untar = spawnSync('tar', ['-x', '-C', root], { input: archive.stdout });
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr.toString()}`);
  const tsc = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.json')], { cwd: root, encoding: 'utf8' });
  // Type errors still emit JavaScript (no noEmitOnError); say so and go on, as `npm run build` output would run too.
  if (tsc.status !== 0) log(`warning: tsc reported errors in HEAD (JavaScript emitted anyway):\n${(tsc.stdout + tsc.stderr).trim().split('\n').slice(0, 5).join('\n')}`);
  return root;
}

/** The newest mtime under a directory (files matching `ext`), for the stale-dist warning. */
function newest(dir: string, ext: string): number {
  let max = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(ext) && !entry.name.endsWith(`.test${ext}`)) max = Math.max(max, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return max;
}

const results: Record<string, unknown> = {
  when: new Date().toISOString(),
  ...gitCommit(repoRoot),
  machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.release()}`, loadavg_start: load() },
  options: { runs, parts, algs, seconds, inflight, duration, warmup, concurrency, backends, log_level: opt['log-level'] },
  aims: {
    verify_cold_per_core: 10_000, verify_cached_per_core: 100_000,
    http: 'more client_credentials tokens/s than oidc-provider, audit on',
  },
};

// ---- --profile: where a Custos token costs its CPU ----

if (opt.profile) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-tokens-prof-'));
  const server = await startCustos({ repoRoot: opt['no-build'] ? repoRoot : buildHead(), backend: 'sqlite', logLevel: opt['log-level'], postgresUrl: opt['postgres-url'], nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
  try {
    const warm = await assertions(server, 2000);
    await window(server, warm.bodies, concurrency, warmup);
    const pool = await assertions(server, Math.ceil(3000 * duration));
    const res = await window(server, pool.bodies, concurrency, duration);
    log(`profiled ${res.tokens} tokens at ${fmt(res.tokens_per_second)}/s (the profiler slows the server)`);
  } finally {
    await server.stop();
  }
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile written in ${dir}`);
  process.stdout.write(`profile: ${path.join(dir, file)}\n\n${summarizeProfile(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')), 40)}\n`);
  process.exit(0);
}

// ---- 1. In-process sign and verify ----

const INPROCESS_FIGURES: Array<[keyof InProcessRun, string]> = [
  ['sign', 'signAccessToken (current key from the store)'],
  ['verify_cold', 'verifier, cold (no cache; every check, principal query)'],
  ['verify_cached', 'verifier, token seen before (verified cache)'],
  ['jose_jwt_verify', 'reference: jose jwtVerify, local key'],
  ['node_crypto_verify', 'floor: node:crypto verify, same key type, 1 thread'],
];

if (parts.includes('inprocess')) {
  const byAlg: Record<string, unknown> = {};
  for (const alg of algs) {
    log(`in-process (${alg}): opening a store…`);
    const bench = await openInProcessBench(alg);
    const all: InProcessRun[] = [];
    try {
      for (let r = 0; r < runs; r++) {
        const run = await bench.run(seconds, inflight);
        all.push(run);
        log(`  run ${r + 1}/${runs}: sign ${fmt(run.sign.per_second)}/s, cold ${fmt(run.verify_cold.per_second)}/s, cached ${fmt(run.verify_cached.per_second)}/s, jose ${fmt(run.jose_jwt_verify.per_second)}/s (load ${load().join(' ')})`);
      }
    } finally {
      await bench.close();
    }
    const med = Object.fromEntries(INPROCESS_FIGURES.map(([k]) => [k, {
      per_second: round(median(all.map((x) => x[k].per_second)), 0),
      per_cpu_second: round(median(all.map((x) => x[k].per_cpu_second)), 0),
      runs_per_second: all.map((x) => round(x[k].per_second, 0)),
    }]));
    byAlg[alg] = { median: med, runs: all.map((run) => Object.fromEntries(Object.entries(run).map(([k, v]) => [k, roundRate(v)]))) };

    const table = new Table({ head: [`${alg}, median of ${runs}`, 'ops/s (wall)', 'ops per CPU-second', 'runs (ops/s)'] });
    for (const [k, label] of INPROCESS_FIGURES) {
      const m = med[k]!;
      table.push([label, fmt(m.per_second), fmt(m.per_cpu_second), m.runs_per_second.map((v) => fmt(v)).join(' / ')]);
    }
    process.stdout.write(`\nIn-process, ${alg} (${inflight} in flight, ${seconds} s per figure; CPU-seconds are this process's, all threads)\n${table.toString()}\n`);
  }
  results.inprocess = byAlg;
}

function roundRate(r: Rate): Rate {
  return { count: r.count, seconds: round(r.seconds, 3), per_second: round(r.per_second, 0), cpu_seconds: round(r.cpu_seconds, 3), per_cpu_second: round(r.per_cpu_second, 0) };
}

// ---- 2. HTTP client_credentials, Custos beside oidc-provider ----

if (parts.includes('http')) {
  const serverRoot = opt['no-build'] ? repoRoot : buildHead();
  if (!fs.existsSync(path.join(serverRoot, 'dist', 'cli', 'main.js'))) throw new Error(`${serverRoot}/dist/cli/main.js is missing: run \`npm run build\``);
  if (opt['no-build'] && newest(path.join(repoRoot, 'src'), '.ts') > newest(path.join(repoRoot, 'dist'), '.js')) {
    log('warning: some src/ file is newer than dist/: the server runs the last build');
  }
  (results.options as Record<string, unknown>).server_build = opt['no-build'] ? 'dist/ of the working tree' : `${opt.rev === 'HEAD' ? `HEAD (${(results as { commit: string }).commit})` : opt.rev} built into bench/.work/tokens-build`;

  const baselineRoot = opt.baseline === undefined ? undefined : buildHead(opt.baseline, 'tokens-baseline');
  if (opt.baseline !== undefined) (results.options as Record<string, unknown>).baseline_build = `${opt.baseline} built into bench/.work/tokens-baseline`;

  const servers: TokenServer[] = [];
  try {
    for (const backend of backends) {
      log(`starting custos (${backend})…`);
      servers.push(await startCustos({ repoRoot: serverRoot, backend, logLevel: opt['log-level'], postgresUrl: opt['postgres-url'] }));
      if (baselineRoot) {
        log(`starting custos (${backend}) @ ${opt.baseline}…`);
        const base = await startCustos({ repoRoot: baselineRoot, backend, logLevel: opt['log-level'], postgresUrl: opt['postgres-url'] });
        servers.push({ ...base, name: `${base.name} @ ${opt.baseline}` });
      }
    }
    log('starting oidc-provider (default in-memory adapter)…');
    servers.push(await startOidcProvider());
    const checks: Record<string, unknown> = {};
    for (const s of servers) checks[s.name] = await checkOne(s);

    const perServer = new Map<string, WindowResult[]>(servers.map((s) => [s.name, []]));
    const signing: number[] = [];
    for (let r = 0; r < runs; r++) {
      // Alternate the order each run so a drift in the machine's load does not favour one server.
      const order = r % 2 === 0 ? servers : [...servers].reverse();
      for (const s of order) {
        const warm = await assertions(s, Math.max(concurrency * 4, 500));
        const w = await window(s, warm.bodies, concurrency, warmup);
        const size = Math.min(500_000, Math.ceil(w.tokens_per_second * duration * 2.5) + concurrency * 16);
        const pool = await assertions(s, size);
        signing.push(pool.perSecond);
        const res = await window(s, pool.bodies, concurrency, duration);
        perServer.get(s.name)!.push(res);
        log(`  run ${r + 1}/${runs} ${s.name}: ${fmt(res.tokens_per_second)} tokens/s, p50 ${res.p50_ms} ms, p99 ${res.p99_ms} ms, server ${res.server_cpu_ms_per_token} ms CPU/token${res.pool_exhausted ? ' (assertion pool ran out: window shortened)' : ''} (load ${load().join(' ')})`);
      }
    }

    const medians = Object.fromEntries([...perServer].map(([name, rs]) => [name, {
      tokens_per_second: round(median(rs.map((x) => x.tokens_per_second)), 1),
      p50_ms: round(median(rs.map((x) => x.p50_ms)), 2),
      p99_ms: round(median(rs.map((x) => x.p99_ms)), 2),
      server_cpu_ms_per_token: round(median(rs.map((x) => x.server_cpu_ms_per_token)), 3),
      client_cpu_ms_per_token: round(median(rs.map((x) => x.client_cpu_ms_per_token)), 3),
      runs_tokens_per_second: rs.map((x) => x.tokens_per_second),
    }]));
    const peer = medians['oidc-provider']!;
    const ratios: Record<string, unknown> = {};
    const table = new Table({ head: [`median of ${runs}, ${concurrency} connections`, 'tokens/s', 'p50 ms', 'p99 ms', 'server CPU ms/token', 'runs (tokens/s)', 'Custos / oidc-provider'] });
    for (const [name, m] of Object.entries(medians)) {
      let ratio = '';
      if (name !== 'oidc-provider') {
        const rs = perServer.get(name)!;
        const peers = perServer.get('oidc-provider')!;
        const perRun = rs.map((x, i) => round(x.tokens_per_second / peers[i]!.tokens_per_second, 2));
        ratios[name] = { ratio_of_medians: round(m.tokens_per_second / peer.tokens_per_second, 2), per_run: perRun, cpu_ratio_peer_over_custos: round(peer.server_cpu_ms_per_token / m.server_cpu_ms_per_token, 2) };
        ratio = `${round(m.tokens_per_second / peer.tokens_per_second, 2)}× (runs ${perRun.join(' / ')})`;
      }
      table.push([name, fmt(m.tokens_per_second), fmt(m.p50_ms, 1), fmt(m.p99_ms, 1), fmt(m.server_cpu_ms_per_token, 3), m.runs_tokens_per_second.map((v) => fmt(v)).join(' / '), ratio]);
    }
    process.stdout.write(`\nHTTP client_credentials + private_key_jwt (EdDSA), ${duration} s windows, assertions signed before each window (client signing ${fmt(median(signing))}/s, not in the window)\n${table.toString()}\n`);
    process.stdout.write('Custos commits each token\'s record and its audit event durably (SQLite synchronous=FULL / PostgreSQL) before answering.\n'
      + 'oidc-provider runs with its default in-memory adapter: client-assertion jti replay state lives in its process memory, and its JWT\n'
      + 'client-credentials access tokens are not persisted at all (nothing is written to disk).\n');
    results.http = { checks, medians, ratios, runs: Object.fromEntries(perServer), client_signing_per_second: round(median(signing), 0) };
  } finally {
    for (const s of servers) await s.stop().catch(() => undefined);
  }
}

(results.machine as Record<string, unknown>).loadavg_end = load();
fs.writeFileSync(opt.out, `${JSON.stringify(results, null, 2)}\n`);
log(`\nresults: ${path.relative(process.cwd(), opt.out)}`);
