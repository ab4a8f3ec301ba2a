// The worker side of cedar-screen.ts: untrusted Cedar text is first parsed here, in an engine instance of its
// own. If the text breaks the engine (its parser and evaluator recurse, and a deep enough nesting overflows the
// WebAssembly stack and leaves that instance unusable), only this worker is lost; the decision engine never saw it.
import { parentPort } from 'node:worker_threads';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

export interface ScreenRequest { id: number; policies?: string; schema?: string }
export interface ScreenAnswer { id: number; problems: string[]; depth: number }

/** Depth of a JSON value, walked without recursion. */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (d > max) max = d;
    if (v && typeof v === 'object') for (const child of Object.values(v as Record<string, unknown>)) stack.push([child, d + 1]);
  }
  return max;
}

function screen(req: ScreenRequest): ScreenAnswer {
  const problems: string[] = [];
  let depth = 0;
  if (req.policies !== undefined) {
    const parts = cedar.policySetTextToParts(req.policies);
    if (parts.type === 'success') {
      for (const policy of [...parts.policies, ...parts.policy_templates]) {
        const json = cedar.policyToJson(policy);
        if (json.type === 'success') depth = Math.max(depth, depthOf(json.json));
      }
    }
  }
  if (req.schema !== undefined) {
    const json = cedar.schemaToJson(req.schema);
    if (json.type === 'success') depth = Math.max(depth, depthOf(json.json));
  }
  return { id: req.id, problems, depth };
}

parentPort?.on('message', (req: ScreenRequest) => {
  try {
    parentPort!.postMessage(screen(req));
  } catch (error) {
    // The engine here may now be broken: answer, then let the parent replace this worker.
    parentPort!.postMessage({ id: req.id, problems: [`the Cedar engine failed on this text (${(error as Error).message}); it is too deeply nested`], depth: Infinity });
  }
});
