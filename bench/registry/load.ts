import { Pool } from 'undici';

// An HTTP client over keep-alive connections and a bounded closed-loop load driver.

export interface Reply {
  status: number;
  body: string;
  ms: number;
}

export function createClient(url: string, token: string, connections: number) {
  const pool = new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const auth = `Bearer ${token}`;
  return {
    async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Reply> {
      const started = process.hrtime.bigint();
      const res = await pool.request({
        method,
        path,
        headers: body === undefined ? { authorization: auth } : { authorization: auth, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.body.text();
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      return { status: res.statusCode, body: text, ms };
    },
    close: () => pool.close(),
  };
}
export type Client = ReturnType<typeof createClient>;

export interface LoadResult {
  count: number;
  seconds: number;
  perSecond: number;
  latenciesMs: number[];
}

/**
 * Sends `count` requests with `concurrency` in flight (closed loop: a worker sends its next request when
 * the previous one answers). Any unexpected status aborts the run: a benchmark of failures is no figure.
 */
export async function drive(
  count: number,
  concurrency: number,
  send: (i: number) => Promise<Reply>,
  expectStatus: number,
): Promise<LoadResult> {
  const latenciesMs: number[] = new Array(count);
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const reply = await send(i);
      if (reply.status !== expectStatus) {
        throw new Error(`request ${i}: expected ${expectStatus}, got ${reply.status}: ${reply.body.slice(0, 300)}`);
      }
      latenciesMs[i] = reply.ms;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { count, seconds, perSecond: count / seconds, latenciesMs };
}
