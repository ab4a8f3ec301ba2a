// The gateway bench's load generator: an undici Pool per target (keep-alive, one request per connection at a time)
// driving `POST /v1/chat/completions` in a closed loop (each of N workers sends its next call when its last one is
// answered) for a fixed time, timing every call with performance.now(). Rules:
// - Plain calls: latency is from the send to the last byte of the body. Streaming calls: time to the first event
//   (`data:` bytes, not headers: a proxy that sends headers early does not count as early) and to the end.
// - Every answer is checked (status 200, the JSON or the event stream as the upstream sends it, ending in [DONE]);
//   one wrong answer aborts the run, since a figure of failures is no figure.
// - Server-Timing `custos;dur=` is collected where a target sends it (the gateway's own account of its overhead).
import { Pool } from 'undici';
import type { Target } from './peers.js';

export interface Sample {
  ms: number;
  /** Streaming: time to the first event. */
  firstMs?: number;
  /** Server-Timing custos;dur= (ms), where given. */
  serverMs?: number;
  /** Server-Timing upstream;dur= (ms): the upstream's time as the gateway saw it, where given. */
  upstreamMs?: number;
}

export interface LoadRun {
  target: string;
  concurrency: number;
  stream: boolean;
  seconds: number;
  count: number;
  perSecond: number;
  samples: Sample[];
}

const MESSAGES = [
  { role: 'system', content: 'You are a terse assistant.' },
  { role: 'user', content: 'Say hello to the benchmark in five words or fewer, please.' },
];

export function requestBody(model: string, stream: boolean): string {
  return JSON.stringify(stream
    ? { model, messages: MESSAGES, max_tokens: 16, stream: true, stream_options: { include_usage: true } }
    : { model, messages: MESSAGES, max_tokens: 16 });
}

function serverTiming(header: string | string[] | undefined, name: string): number | undefined {
  const text = Array.isArray(header) ? header.join(',') : header;
  if (!text) return undefined;
  const m = new RegExp(`(?:^|,)\\s*${name}\\s*;[^,]*?dur=([\\d.]+)`).exec(text);
  return m ? Number(m[1]) : undefined;
}

export interface Driver {
  run(opts: { seconds: number; concurrency: number; stream: boolean }): Promise<LoadRun>;
  close(): Promise<void>;
}

export function createDriver(target: Target, connections: number): Driver {
  const pool = new Pool(target.origin, {
    connections, pipelining: 1, keepAliveTimeout: 120_000, keepAliveMaxTimeout: 120_000, headersTimeout: 30_000, bodyTimeout: 30_000,
  });
  const headers = { ...target.headers, 'content-type': 'application/json' };
  const bodies = { plain: requestBody(target.model, false), stream: requestBody(target.model, true) };

  async function once(stream: boolean): Promise<Sample> {
    const t0 = performance.now();
    const res = await pool.request({ method: 'POST', path: '/v1/chat/completions', headers, body: stream ? bodies.stream : bodies.plain });
    const serverMs = serverTiming(res.headers['server-timing'], 'custos');
    const upstreamMs = serverTiming(res.headers['server-timing'], 'upstream');
    if (res.statusCode !== 200) {
      const text = await res.body.text();
      throw new Error(`${target.label}: HTTP ${res.statusCode}: ${text.slice(0, 500)}`);
    }
    if (!stream) {
      const text = await res.body.text();
      const ms = performance.now() - t0;
      let parsed: any;
      try { parsed = JSON.parse(text); } catch { parsed = undefined; }
      if (typeof parsed?.choices?.[0]?.message?.content !== 'string') throw new Error(`${target.label}: not a chat completion: ${text.slice(0, 300)}`);
      return { ms, serverMs, upstreamMs };
    }
    let firstMs: number | undefined;
    let text = '';
    for await (const chunk of res.body) {
      if (firstMs === undefined) firstMs = performance.now() - t0;
      text += chunk.toString();
    }
    const ms = performance.now() - t0;
    if (!text.includes('"chat.completion.chunk"') || !/data: \[DONE\]\s*$/.test(text)) throw new Error(`${target.label}: not a complete event stream: ${text.slice(0, 300)}`);
    return { ms, firstMs, serverMs };
  }

  return {
    async run({ seconds, concurrency, stream }) {
      const samples: Sample[] = [];
      let failed: unknown;
      const started = performance.now();
      const deadline = started + seconds * 1000;
      const worker = async () => {
        while (failed === undefined && performance.now() < deadline) {
          try {
            samples.push(await once(stream));
          } catch (error) {
            failed ??= error;
          }
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      if (failed !== undefined) throw failed;
      const elapsed = (performance.now() - started) / 1000;
      return { target: target.id, concurrency, stream, seconds: elapsed, count: samples.length, perSecond: samples.length / elapsed, samples };
    },
    close: () => pool.close(),
  };
}
