// Authorization figures (issue 11): Custos's decision point beside raw cedar-wasm, Casbin and CASL in process, and
// Custos's AuthZEN endpoint beside the Cerbos PDP over HTTP, all on the same ABAC model (model.ts) in one run, with
// medians over runs and each ratio (Custos ÷ peer).
//
//   npm run bench -- authz [--runs 5] [--seconds 3] [--http-seconds 10] [--connections 64] [--only inprocess|http]
//
// In process (each engine in its own process, engine.ts; one after another, the order alternating between runs):
//   Custos `pdp.decide` (audit before response: the `authz.decision` event committed before it returns; SQLite) and
//   `pdp.evaluate` (no audit), `--inflight` calls in flight, built through the real control plane (custos.ts);
//   cedar-wasm `statefulIsAuthorized` on the Custos schema + guardrails + the bench policy, with and without the
//   schema (cedar.ts); Casbin and CASL (peers.ts). Each engine first decides every request of the model once and
//   must agree with the reference decision on all of them (else the bench stops: a figure of wrong answers is none).
// Over HTTP (`--connections` keep-alive connections, closed loop, autocannon; http.ts):
//   Custos `node bin/custos.js serve` (SQLite), `POST /access/v1/evaluation` with an admin operator token, the
//   agent's own access token in subject.properties.token (audit on: every evaluation is an audit event committed
//   before the answer), against the Cerbos PDP's `POST /api/check/resources` with the equivalent policy and its
//   audit off (cerbos.ts). Both get the same requests (those an agent can hold a token for), each answered
//   decision checked against the reference before timing; any non-200 in a window stops the bench.
//
// The HTTP server is the committed HEAD, compiled into bench/.work/authz-build (git archive + tsc); --no-build serves
// the working tree's dist/. The in-process figures run the working tree's src/ (through tsx).
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildRev, num } from '../registry/build.js';
import Table from 'cli-table3';
import { Pool } from 'undici';
import { median, round } from '../registry/stats.js';
import { fmt, gitCommit, load } from '../run-info.js';
import { startServer } from '../registry/server.js';
import { cerbosBody, cerbosDecision, startCerbos } from './cerbos.js';
import { activatePolicy, evaluationBody, httpCall, mintTokens, populate, tokenRequests } from './custos.js';
import { ENGINES, type EngineId, type FromEngine, type Rate } from './engine.js';
import { httpWindow, type HttpWindow } from './http.js';
import { decisionMix, generateModel, type Model } from './model.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/**
 * Node 20 (V8 11.3) dies in its deoptimizer ("Fatal error … unreachable code", Deoptimizer::
 * DoComputeBuiltinContinuation, SIGTRAP) under sustained cedar-wasm load: `custos serve` answering AuthZEN at 64
 * connections within ~30 s, and this bench's engines when they shared one process. With V8's inlining of JS→Wasm
 * calls off it did not, in the same runs. Every process this bench starts on Node 20 (the server and each engine)
 * gets the flag; docs/benchmarks.md says so.
 */
const V8_FLAGS = process.versions.node.startsWith('20.') ? ['--no-turbo-inline-js-wasm-calls'] : [];
const repoRoot = path.resolve(here, '..', '..');

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '3' },
    'http-seconds': { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    'http-warmup': { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    inflight: { type: 'string', default: '64' },
    teams: { type: 'string', default: '20' },
    agents: { type: 'string', default: '500' },
    resources: { type: 'string', default: '500' },
    requests: { type: 'string', default: '4096' },
    only: { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    out: { type: 'string', default: path.join(here, 'results.json') },
    'no-build': { type: 'boolean', default: false },
    rev: { type: 'string', default: 'HEAD' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (opt.help) {
  process.stdout.write(`usage: npm run bench -- authz [options]
  --runs N              repetitions; tables show medians over runs (default 5)
  --seconds S           in-process window per engine per run (default 3)
  --warmup S            in-process warm-up per engine per run (default 1)
  --http-seconds S      HTTP window per server per run (default 10)
  --http-warmup S       HTTP warm-up per server per run (default 3)
  --connections N       HTTP keep-alive connections, one request in flight each (default 64)
  --inflight N          Custos in-process decide/evaluate calls in flight (default 64)
  --teams/--agents/--resources/--requests N   model size (default 20 / 500 / 500 / 4096)
  --only inprocess|http only one half
  --log-level L         Custos server log level (default info, as a user runs it; the log goes to /dev/null)
  --out FILE            results JSON (default bench/authz/results.json)
  --no-build            serve the working tree's dist/ (default: build the committed HEAD into bench/.work/authz-build)
  --rev REV             build this commit instead of HEAD
`);
  process.exit(0);
}

const runs = num('runs', opt.runs, 1, 50);
const seconds = num('seconds', opt.seconds, 0.2, 120, false);
const warmup = num('warmup', opt.warmup, 0, 60, false);
const httpSeconds = num('http-seconds', opt['http-seconds'], 1, 300);
const httpWarmup = num('http-warmup', opt['http-warmup'], 0, 60);
const connections = num('connections', opt.connections, 1, 1024);
const inflight = num('inflight', opt.inflight, 1, 1024);
if (opt.only && opt.only !== 'inprocess' && opt.only !== 'http') throw new Error('--only must be inprocess or http');
const doInProcess = opt.only !== 'http';
const doHttp = opt.only !== 'inprocess';

/** a ÷ b to two decimals, or two significant digits below 0.1 (Custos ÷ an engine 100× faster is 0.0042×, not 0×). */
const ratio = (a: number, b: number) => { const r = a / b; return r >= 0.1 ? round(r, 2) : Number(r.toPrecision(2)); };
const log = (line: string) => process.stderr.write(`${line}\n`);
// Plain tables (no colour codes), so the output reads the same in a terminal, a file and the docs.
const style = { head: [] as string[], border: [] as string[] };


// ---- In process ----

/** One engine in its own process (engine.ts), forked through tsx; window() asks it for one timed window. */
interface Runner { id: EngineId; name: string; custos: boolean; window(seconds: number, start: number): Promise<Rate>; close(): Promise<void> }

async function forkEngine(id: EngineId, modelOptions: Record<string, number>): Promise<Runner> {
  const child = fork(path.join(here, 'engine.ts'), [id, JSON.stringify(modelOptions), String(inflight)], {
    execArgv: ['--import', 'tsx', ...V8_FLAGS], cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let waiting: { resolve: (m: FromEngine) => void; reject: (e: Error) => void } | undefined;
  child.on('message', (m: FromEngine) => {
    const w = waiting;
    waiting = undefined;
    w?.resolve(m);
  });
  child.on('exit', (code, signal) => {
    const w = waiting;
    waiting = undefined;
    w?.reject(new Error(`engine ${id} exited (code ${code}, signal ${signal})`));
  });
  const next = () => new Promise<FromEngine>((resolve, reject) => (waiting = { resolve, reject }));
  const ready = await next();
  if (ready.op === 'error') throw new Error(`engine ${id}: ${ready.message}`);
  if (ready.op !== 'ready') throw new Error(`engine ${id}: unexpected ${ready.op}`);
  if (ready.wrong) {
    child.kill();
    throw new Error(`${ready.name}: ${ready.wrong} decisions differ from the reference; first: ${ready.first_wrong}`);
  }
  return {
    id, name: ready.name, custos: id.startsWith('custos'),
    async window(secs, start) {
      const answer = next();
      child.send({ op: 'window', seconds: secs, start });
      const m = await answer;
      if (m.op !== 'rate') throw new Error(`engine ${id}: ${m.op === 'error' ? m.message : m.op}`);
      return m.rate;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ op: 'close' });
      await exited;
    },
  };
}

async function inProcess(modelOptions: Record<string, number>, model: Model): Promise<Record<string, unknown>> {
  log(`in process: one process per engine; Custos's builds a control plane on a fresh SQLite store (${model.teams.length} teams, ${model.agents.length} agents, ${model.resources.length} resources, the bench policy activated)…`);
  const runners: Runner[] = [];
  try {
    for (const id of ENGINES) runners.push(await forkEngine(id, modelOptions));
    log(`  every engine agrees with the reference on all ${model.requests.length} requests`);
    const checks = Object.fromEntries(runners.map((r) => [r.name, { wrong: 0 }]));
    const perEngine = new Map<string, Rate[]>(runners.map((r) => [r.name, []]));
    for (let run = 0; run < runs; run++) {
      const order = run % 2 === 0 ? runners : [...runners].reverse();
      for (const r of order) {
        if (warmup > 0) await r.window(warmup, run * 7919);
        const res = await r.window(seconds, run * 7919);
        perEngine.get(r.name)!.push(res);
        log(`  run ${run + 1}/${runs} ${r.name}: ${fmt(res.per_second)}/s, ${res.cpu_us_per_decision} µs CPU each (load ${load().join(' ')})`);
      }
    }
    const medians = Object.fromEntries([...perEngine].map(([name, rs]) => [name, {
      per_second: round(median(rs.map((x) => x.per_second)), 0), cpu_us_per_decision: round(median(rs.map((x) => x.cpu_us_per_decision)), 2),
      runs_per_second: rs.map((x) => x.per_second),
    }]));
    const table = new Table({ style, head: [`in process, median of ${runs} × ${seconds} s`, 'decisions/s', 'CPU µs/decision', 'runs (decisions/s)'] });
    for (const [name, m] of Object.entries(medians)) table.push([name, fmt(m.per_second), fmt(m.cpu_us_per_decision, 1), m.runs_per_second.map((v) => fmt(v)).join(' / ')]);
    const peers = runners.filter((r) => !r.custos);
    const ratios: Record<string, Record<string, { ratio_of_medians: number; per_run: number[] }>> = {};
    const custosRunners = runners.filter((r) => r.custos);
    const ratioTable = new Table({ style, head: ['Custos ÷ peer, decisions/s: median (per run)', ...custosRunners.map((c) => c.name)] });
    for (const c of custosRunners) ratios[c.name] = {};
    for (const p of peers) {
      const row = [p.name];
      for (const c of custosRunners) {
        const mine = perEngine.get(c.name)!;
        const theirs = perEngine.get(p.name)!;
        const perRun = mine.map((x, i) => ratio(x.per_second, theirs[i]!.per_second));
        const ofMedians = ratio(medians[c.name]!.per_second, medians[p.name]!.per_second);
        ratios[c.name]![p.name] = { ratio_of_medians: ofMedians, per_run: perRun };
        row.push(`${ofMedians}× (${perRun.join(' / ')})`);
      }
      ratioTable.push(row);
    }
    process.stdout.write(`\n${table.toString()}\n${ratioTable.toString()}\n`);
    process.stdout.write(`Each engine in its own process. Custos calls: ${inflight} in flight; decide commits each decision's audit event (SQLite WAL, synchronous=FULL, group commit) before it returns.\n`);
    return { checks, medians, ratios, runs: Object.fromEntries(perEngine) };
  } finally {
    await Promise.all(runners.map((r) => r.close().catch(() => undefined)));
  }
}

// ---- Over HTTP ----

async function overHttp(model: Model): Promise<Record<string, unknown>> {
  const serverRoot = opt['no-build'] ? repoRoot : buildRev({ repoRoot, rev: opt.rev, name: 'authz-build', log });
  if (!fs.existsSync(path.join(serverRoot, 'dist', 'cli', 'main.js'))) throw new Error(`${serverRoot}/dist/cli/main.js is missing: run \`npm run build\``);
  log('over HTTP: starting custos serve (SQLite), creating the model, activating the bench policy, minting the agents\' tokens…');
  const server = await startServer({ repoRoot: serverRoot, logLevel: opt['log-level'], nodeArgs: V8_FLAGS });
  const cerbos = await startCerbos().catch(async (error) => {
    await server.stop();
    throw error;
  });
  try {
    const admin = new Pool(server.url, { connections: 16 });
    const call = httpCall(admin, server.token);
    const indices = tokenRequests(model);
    let tokens: Map<number, string>;
    try {
      await populate(call, model);
      await activatePolicy(call);
      tokens = await mintTokens(server.url, call, model, indices);
    } finally {
      await admin.close();
    }
    const custosBodies = indices.map((i) => evaluationBody(model.requests[i]!, tokens.get(i)!));
    const cerbosBodies = indices.map((i) => cerbosBody(model.requests[i]!, i));
    const expected = indices.map((i) => model.expected[i]!);
    const allowed = expected.filter(Boolean).length;
    log(`  ${indices.length} requests an agent holds a token for (${allowed} allow, ${indices.length - allowed} deny); checking both servers' answers…`);

    // Every request once through both, each decision compared with the reference.
    const check = async (url: string, p: string, headers: Record<string, string>, bodies: string[], decision: (text: string, i: number) => boolean) => {
      const pool = new Pool(url, { connections: 8 });
      let wrong = 0;
      let firstWrong: string | undefined;
      try {
        let next = 0;
        await Promise.all(Array.from({ length: 8 }, async () => {
          while (next < bodies.length) {
            const k = next++;
            const res = await pool.request({ method: 'POST', path: p, headers: { 'content-type': 'application/json', ...headers }, body: bodies[k] });
            const text = await res.body.text();
            if (res.statusCode !== 200) throw new Error(`${url}${p}: ${res.statusCode} ${text.slice(0, 400)}`);
            if (decision(text, k) !== expected[k]) {
              wrong++;
              firstWrong ??= `${bodies[k]!.slice(0, 300)} → ${text.slice(0, 400)} (expected ${expected[k]})`;
            }
          }
        }));
      } finally {
        await pool.close();
      }
      return { wrong, firstWrong };
    };
    const auth = { authorization: `Bearer ${server.token}` };
    const custosCheck = await check(server.url, '/access/v1/evaluation', auth, custosBodies, (text) => (JSON.parse(text) as { decision: boolean }).decision === true);
    if (custosCheck.wrong) throw new Error(`custos: ${custosCheck.wrong} of ${indices.length} decisions differ from the reference; first: ${custosCheck.firstWrong}`);
    const cerbosCheck = await check(cerbos.url, '/api/check/resources', {}, cerbosBodies, (text, k) => cerbosDecision(text, model.requests[indices[k]!]!.action));
    if (cerbosCheck.wrong) throw new Error(`cerbos: ${cerbosCheck.wrong} of ${indices.length} decisions differ from the reference; first: ${cerbosCheck.firstWrong}`);
    log('  both agree with the reference on every request');

    const servers = [
      { name: 'Custos POST /access/v1/evaluation (audit on)', url: server.url, path: '/access/v1/evaluation', headers: auth, bodies: custosBodies, pid: server.pid, custos: true },
      { name: `Cerbos ${cerbos.version} POST /api/check/resources (audit off)`, url: cerbos.url, path: '/api/check/resources', headers: {}, bodies: cerbosBodies, pid: cerbos.pid, custos: false },
    ];
    const perServer = new Map<string, HttpWindow[]>(servers.map((s) => [s.name, []]));
    for (let run = 0; run < runs; run++) {
      const order = run % 2 === 0 ? servers : [...servers].reverse();
      for (const s of order) {
        if (httpWarmup > 0) await httpWindow({ ...s, connections, seconds: httpWarmup });
        const res = await httpWindow({ ...s, connections, seconds: httpSeconds });
        if (res.non_200 || res.errors) throw new Error(`${s.name}: ${res.non_200} answers were not 200 and ${res.errors} requests failed in run ${run + 1}`);
        perServer.get(s.name)!.push(res);
        log(`  run ${run + 1}/${runs} ${s.name}: ${fmt(res.requests_per_second)} req/s, p50 ${res.p50_ms} ms, p99 ${res.p99_ms} ms, server ${res.server_cpu_ms_per_request} ms CPU/req (load ${load().join(' ')})`);
      }
    }
    const medians = Object.fromEntries([...perServer].map(([name, rs]) => [name, {
      requests_per_second: round(median(rs.map((x) => x.requests_per_second)), 1), p50_ms: round(median(rs.map((x) => x.p50_ms)), 2),
      p99_ms: round(median(rs.map((x) => x.p99_ms)), 2), server_cpu_ms_per_request: round(median(rs.map((x) => x.server_cpu_ms_per_request)), 3),
      runs_requests_per_second: rs.map((x) => x.requests_per_second),
    }]));
    const table = new Table({ style, head: [`HTTP, median of ${runs} × ${httpSeconds} s, ${connections} connections`, 'req/s', 'p50 ms', 'p99 ms', 'server CPU ms/req', 'runs (req/s)'] });
    for (const [name, m] of Object.entries(medians)) table.push([name, fmt(m.requests_per_second), fmt(m.p50_ms, 2), fmt(m.p99_ms, 2), fmt(m.server_cpu_ms_per_request, 3), m.runs_requests_per_second.map((v) => fmt(v)).join(' / ')]);
    const [c, p] = [servers[0]!.name, servers[1]!.name];
    const mine = perServer.get(c)!;
    const theirs = perServer.get(p)!;
    const ratios = {
      requests_per_second: { ratio_of_medians: ratio(medians[c]!.requests_per_second, medians[p]!.requests_per_second), per_run: mine.map((x, i) => ratio(x.requests_per_second, theirs[i]!.requests_per_second)) },
      p99: { ratio_of_medians: ratio(medians[c]!.p99_ms, medians[p]!.p99_ms), per_run: mine.map((x, i) => ratio(x.p99_ms, theirs[i]!.p99_ms)) },
      p50: { ratio_of_medians: ratio(medians[c]!.p50_ms, medians[p]!.p50_ms) },
      server_cpu_per_request: { ratio_of_medians: ratio(medians[c]!.server_cpu_ms_per_request, medians[p]!.server_cpu_ms_per_request) },
    };
    const ratioTable = new Table({ style, head: ['Custos ÷ Cerbos', 'req/s (per run)', 'p50', 'p99 (per run)', 'server CPU per request'] });
    ratioTable.push(['', `${ratios.requests_per_second.ratio_of_medians}× (${ratios.requests_per_second.per_run.join(' / ')})`, `${ratios.p50.ratio_of_medians}×`,
      `${ratios.p99.ratio_of_medians}× (${ratios.p99.per_run.join(' / ')})`, `${ratios.server_cpu_per_request.ratio_of_medians}×`]);
    process.stdout.write(`\n${table.toString()}\n${ratioTable.toString()}\n`);
    process.stdout.write('Custos verifies the agent\'s access token on each evaluation and commits its authz.decision audit event before answering; Cerbos runs with audit off.\n');
    return {
      requests: indices.length, allow: allowed, checks: { custos: custosCheck.wrong, cerbos: cerbosCheck.wrong }, cerbos_version: cerbos.version,
      server_build: opt['no-build'] ? 'dist/ of the working tree' : `${opt.rev} built into bench/.work/authz-build`,
      medians, ratios, runs: Object.fromEntries(perServer),
    };
  } finally {
    await cerbos.stop().catch(() => undefined);
    await server.stop().catch(() => undefined);
  }
}

// ---- Main ----

const modelOptions = {
  teams: num('teams', opt.teams, 1, 1000), agents: num('agents', opt.agents, 1, 100_000), resources: num('resources', opt.resources, 1, 100_000),
  requests: num('requests', opt.requests, 16, 1_000_000),
};
const model = generateModel(modelOptions);
const mix = decisionMix(model);
const results: Record<string, unknown> = {
  when: new Date().toISOString(),
  ...gitCommit(repoRoot),
  machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.release()}`, loadavg_start: load() },
  options: { runs, seconds, warmup, http_seconds: httpSeconds, http_warmup: httpWarmup, connections, inflight, node_flags: V8_FLAGS },
  model: { teams: model.teams.length, agents: model.agents.length, resources: model.resources.length, requests: model.requests.length, ...mix },
};
if (V8_FLAGS.length) log(`Node ${process.versions.node}: the server and every engine run with ${V8_FLAGS.join(' ')} (see run.ts: V8_FLAGS)`);
log(`model: ${model.agents.length} agents, ${model.resources.length} resources, ${model.requests.length} requests (${mix.allow} allow, ${mix.deny} deny by the reference)`);
if (doInProcess) results.in_process = await inProcess(modelOptions, model);
if (doHttp) results.http = await overHttp(model);
(results.machine as Record<string, unknown>).loadavg_end = load();
fs.writeFileSync(opt.out, `${JSON.stringify(results, null, 2)}\n`);
log(`\nresults: ${path.relative(process.cwd(), opt.out)}`);
