// A keep-alive HTTP client for the approvals bench (undici Pool; any method; the bearer token per call, since one
// run acts as several people), and a bounded closed-loop driver that times each unit of work (one request, or a
// file → approve → approve chain). Any unexpected status aborts the run: a figure of failures is no figure.
import { Pool } from 'undici';

export interface Reply {
  status: number;
  text: string;
  body: any;
}

export interface Client {
  call(method: string, path: string, body: unknown, token: string): Promise<Reply>;
  /** The same call, failing unless the status is `expect` (the error names the request and the answer). */
  must(method: string, path: string, body: unknown, token: string, expect?: number): Promise<any>;
  close(): Promise<void>;
}

export function createClient(url: string, connections: number): Client {
  const pool = new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const call: Client['call'] = async (method, path, body, token) => {
    const res = await pool.request({
      method: method as 'GET', path,
      headers: body === undefined ? { authorization: `Bearer ${token}` } : { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    let parsed: unknown;
    try { parsed = JSON.parse(text); } catch { parsed = undefined; }
    return { status: res.statusCode, text, body: parsed };
  };
  return {
    call,
    async must(method, path, body, token, expect = method === 'POST' ? 201 : 200) {
      const r = await call(method, path, body, token);
      if (r.status !== expect) throw new Error(`${method} ${path}: expected ${expect}, got ${r.status}: ${r.text.slice(0, 400)}`);
      return r.body;
    },
    close: () => pool.close(),
  };
}

export interface LoadResult {
  count: number;
  seconds: number;
  perSecond: number;
  /** Milliseconds per unit of work, in the order of the units. */
  latenciesMs: number[];
}

/**
 * Runs `count` units with `concurrency` in flight (closed loop: a worker starts its next unit when the previous one
 * finishes) and times each. A unit that throws aborts the run.
 */
export async function closedLoop(count: number, concurrency: number, unit: (i: number) => Promise<void>): Promise<LoadResult> {
  const latenciesMs: number[] = new Array(count);
  let next = 0;
  let failed: unknown;
  const started = performance.now();
  const worker = async () => {
    while (next < count && failed === undefined) {
      const i = next++;
      const t0 = performance.now();
      try {
        await unit(i);
      } catch (error) {
        failed ??= error;
        return;
      }
      latenciesMs[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  if (failed !== undefined) throw failed;
  const seconds = (performance.now() - started) / 1000;
  return { count, seconds, perSecond: count / seconds, latenciesMs };
}
