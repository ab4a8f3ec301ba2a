// Screening untrusted Cedar text before the decision engine parses it.
//
// Cedar's parser and evaluator recurse: about 150 nested parentheses overflow the WebAssembly stack while parsing,
// and an expression tree ~1,000 deep while evaluating. Either leaves the engine instance unusable ("memory access out
// of bounds") for every later call in the process — every decision would then fail. So text from a request (policy
// versions, impact replays, application schemas) is parsed first in a worker thread with an engine of its own
// (cedar-screen-worker.ts): a text that breaks that engine costs only the worker, which is replaced. Text that parses
// there is measured, and a policy or schema deeper than MAX_CEDAR_DEPTH (JSON form) is refused, so what reaches the
// decision engine can neither overflow its parser nor its evaluator.
import { Worker } from 'node:worker_threads';
import { CUSTOS_SCHEMA, type PolicyProblem } from './cedar.js';
import type { ScreenAnswer, ScreenRequest } from './cedar-screen-worker.js';

/** Deepest policy or schema (in Cedar's JSON form) accepted; real policies stay far below it. */
export const MAX_CEDAR_DEPTH = 128;
const SCREEN_TIMEOUT_MS = 10_000;

let worker: Worker | undefined;
let nextId = 1;
const waiting = new Map<number, { resolve: (a: ScreenAnswer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

function spawn(): Worker {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const url = new URL(`./cedar-screen-worker${ext}`, import.meta.url);
  // From TypeScript sources (tests), register tsx's loader inside the worker first.
  const w = ext === '.js' ? new Worker(url)
    : new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true });
  w.on('message', (answer: ScreenAnswer) => {
    const entry = waiting.get(answer.id);
    if (!entry) return;
    waiting.delete(answer.id);
    // Idle, the worker must not keep a short-lived process (the CLI) alive.
    if (waiting.size === 0) w.unref();
    clearTimeout(entry.timer);
    // A broken engine answers once and is replaced before the next text.
    if (answer.depth === Infinity) retire(w);
    entry.resolve(answer);
  });
  const fail = (error: Error) => {
    retire(w);
    for (const [id, entry] of waiting) { clearTimeout(entry.timer); entry.reject(error); waiting.delete(id); }
  };
  w.on('error', fail);
  w.on('exit', (code) => { if (worker === w) fail(new Error(`the Cedar screening worker exited (${code})`)); });
  w.unref();
  return w;
}

function retire(w: Worker): void {
  if (worker === w) worker = undefined;
  void w.terminate().catch(() => undefined);
}

function ask(req: Omit<ScreenRequest, 'id'>): Promise<ScreenAnswer> {
  worker ??= spawn();
  const w = worker;
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      retire(w);
      reject(new Error('screening the Cedar text took too long'));
    }, SCREEN_TIMEOUT_MS);
    timer.unref();
    waiting.set(id, { resolve, reject, timer });
    // Referenced while an answer is awaited, so the process waits for it.
    w.ref();
    w.postMessage({ id, ...req });
  });
}

const problem = (message: string): PolicyProblem => ({ message, line: null, column: null, policy: null });

/**
 * Problems that make Cedar text unsafe to give the decision engine; [] when it may be parsed and validated there.
 * Only depth is judged here: syntax and schema errors are reported by the engine's own validation afterwards.
 * `schema` is a whole schema text (the shipped one with an application fragment).
 */
export async function screenCedar(input: { policies?: string; schema?: string }): Promise<PolicyProblem[]> {
  let answer: ScreenAnswer;
  try {
    answer = await ask(input);
  } catch (error) {
    return [problem(`the Cedar text could not be screened: ${(error as Error).message}`)];
  }
  if (answer.problems.length) return answer.problems.map(problem);
  if (answer.depth > MAX_CEDAR_DEPTH) return [problem(`the Cedar text is nested too deeply (depth ${answer.depth}, at most ${MAX_CEDAR_DEPTH}): split long conditions into separate policies`)];
  return [];
}

/** Screens a policy version's input: its policies and its application schema (with the shipped schema around it). */
export async function screenPolicyInput(input: { policies: string; appSchema?: string | null }): Promise<PolicyProblem[]> {
  return screenCedar({ policies: input.policies, ...(input.appSchema ? { schema: `${CUSTOS_SCHEMA}\n${input.appSchema}` } : {}) });
}
