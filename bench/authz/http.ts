// The HTTP load of the authz bench: autocannon with `connections` keep-alive connections (closed loop, one request
// in flight per connection, no pipelining), POSTing one JSON body after another from a prepared list (each
// connection takes the next body), for `seconds`. Latencies are autocannon's per-response times (hrtime, ms),
// kept whole so p50/p99 are exact nearest-rank figures; the server's CPU seconds over the window come from /proc.
// Any answer that is not 200, and any socket error, is counted: a window with any is not a figure (the caller
// aborts), so only a server that answered every request is compared.
import autocannon from 'autocannon';
import { cpuSeconds } from '../registry/server.js';
import { percentile, round } from '../registry/stats.js';

export interface HttpWindow {
  requests: number;
  seconds: number;
  requests_per_second: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  non_200: number;
  errors: number;
  server_cpu_ms_per_request: number;
}

export async function httpWindow(opts: {
  url: string; path: string; headers: Record<string, string>; bodies: string[]; connections: number; seconds: number; pid: number;
}): Promise<HttpWindow> {
  let next = 0;
  const latencies: number[] = [];
  let non200 = 0;
  const cpu0 = cpuSeconds(opts.pid);
  const t0 = performance.now();
  const instance = autocannon({
    url: opts.url,
    connections: opts.connections,
    pipelining: 1,
    duration: opts.seconds,
    timeout: 30,
    requests: [{
      method: 'POST', path: opts.path, headers: { 'content-type': 'application/json', ...opts.headers },
      setupRequest: (req) => ({ ...req, body: opts.bodies[next++ % opts.bodies.length] }),
    }],
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status === 200) latencies.push(ms);
    else non200++;
  });
  const result = await instance;
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(opts.pid) - cpu0;
  const n = latencies.length;
  return {
    requests: n, seconds: round(result.duration ?? wall, 2), requests_per_second: round(n / (result.duration || wall), 1),
    p50_ms: round(percentile(latencies, 50), 2), p99_ms: round(percentile(latencies, 99), 2), max_ms: round(percentile(latencies, 100), 2),
    non_200: non200, errors: result.errors + result.timeouts, server_cpu_ms_per_request: round((cpu * 1000) / Math.max(1, n), 3),
  };
}
