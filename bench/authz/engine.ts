// One in-process engine of the authz bench in its own process (forked by run.ts through tsx): it builds the model
// from the same options (so the same seed), builds its engine, decides every request once and reports how many
// differ from the reference, then answers `window` messages with a Rate until told to close.
//
// Why a process each: with cedar-wasm, Casbin and CASL hot in one V8 isolate, Node 20.20.2 died in the
// deoptimizer ("Fatal error … unreachable code", Deoptimizer::DoComputeBuiltinContinuation) within a few
// rounds, reproducibly; each engine alone never did. A process each also keeps one engine's garbage and JIT state
// out of another's figure.
import { rawCedar } from './cedar.js';
import { startInProcess, type InProcessCustos } from './custos.js';
import { generateModel, type Model } from './model.js';
import { casbinEngine, caslEngine } from './peers.js';

export const ENGINES = ['custos-decide', 'custos-evaluate', 'cedar', 'cedar-schema', 'casbin', 'casl', 'casl-cached'] as const;
export type EngineId = (typeof ENGINES)[number];

export interface Rate { decisions: number; seconds: number; per_second: number; cpu_us_per_decision: number }

export type ToEngine = { op: 'window'; seconds: number; start: number } | { op: 'close' };
export type FromEngine =
  | { op: 'ready'; name: string; wrong: number; first_wrong?: string }
  | { op: 'rate'; rate: Rate }
  | { op: 'error'; message: string };

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;

function rate(n: number, t0: number, cpu0: NodeJS.CpuUsage): Rate {
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { decisions: n, seconds: round(wall, 3), per_second: round(n / wall, 0), cpu_us_per_decision: round((cpu.user + cpu.system) / n, 2) };
}

interface Built {
  name: string;
  check(i: number): Promise<boolean> | boolean;
  window(seconds: number, start: number): Promise<Rate> | Rate;
  close?(): Promise<void>;
}

async function build(id: EngineId, model: Model, inflight: number): Promise<Built> {
  const n = model.requests.length;
  if (id === 'custos-decide' || id === 'custos-evaluate') {
    const custos: InProcessCustos = await startInProcess(model);
    const one = id === 'custos-decide'
      ? async (i: number) => (await custos.pdp.decide(custos.requests[i % n]!, custos.actor)).decision === 'allow'
      : async (i: number) => (await custos.pdp.evaluate(custos.requests[i % n]!)).decision === 'allow';
    return {
      name: id === 'custos-decide' ? 'Custos pdp.decide (audit before response)' : 'Custos pdp.evaluate (no audit)',
      check: one,
      async window(seconds, start) {
        // `inflight` calls in flight, closed loop, as concurrent requests of a gateway would be.
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const deadline = t0 + seconds * 1000;
        let next = start;
        let done = 0;
        await Promise.all(Array.from({ length: inflight }, async () => {
          while (performance.now() < deadline) {
            await one(next++);
            done++;
          }
        }));
        return rate(done, t0, cpu0);
      },
      close: () => custos.close(),
    };
  }
  const e = id === 'cedar' ? rawCedar(model, false) : id === 'cedar-schema' ? rawCedar(model, true) : id === 'casbin' ? await casbinEngine(model)
    : caslEngine(model, id === 'casl-cached');
  return {
    name: e.name,
    check: (i) => e.decide(i),
    window(seconds, start) {
      // A tight loop, the clock read every 64 decisions.
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const deadline = t0 + seconds * 1000;
      let i = start;
      let done = 0;
      let allowed = 0;
      while (performance.now() < deadline) {
        for (let k = 0; k < 64; k++) allowed += e.decide(i++) ? 1 : 0;
        done += 64;
      }
      if (allowed < 0) throw new Error('unreachable');
      return rate(done, t0, cpu0);
    },
  };
}

async function main(): Promise<void> {
  const [id, modelJson, inflightText] = process.argv.slice(2) as [EngineId, string, string];
  const send = (m: FromEngine) => process.send!(m);
  try {
    const model = generateModel(JSON.parse(modelJson) as Parameters<typeof generateModel>[0]);
    const engine = await build(id, model, Number(inflightText));
    let wrong = 0;
    let first: string | undefined;
    for (let i = 0; i < model.requests.length; i++) {
      if ((await engine.check(i)) !== model.expected[i]) {
        wrong++;
        first ??= `${JSON.stringify(model.requests[i])} expected ${model.expected[i]}`;
      }
    }
    send({ op: 'ready', name: engine.name, wrong, ...(first ? { first_wrong: first } : {}) });
    process.on('message', (m: ToEngine) => {
      if (m.op === 'close') {
        void (engine.close?.() ?? Promise.resolve()).finally(() => process.exit(0));
        return;
      }
      void Promise.resolve(engine.window(m.seconds, m.start)).then((r) => send({ op: 'rate', rate: r }), (error: Error) => send({ op: 'error', message: error.stack ?? error.message }));
    });
  } catch (error) {
    send({ op: 'error', message: (error as Error).stack ?? String(error) });
    process.exit(1);
  }
}

if (process.send) void main();
