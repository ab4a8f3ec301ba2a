// The refresh load: N virtual clients, each with its own chain of rotating refresh tokens, each sending
// `grant_type=refresh_token&refresh_token=<its current one>&client_id=<public client>` (no client authentication)
// and continuing with the refresh token of the answer — what the CLI or an MCP client does every 15 minutes, here
// back to back.
//
// Rules:
// - Closed loop: client i holds chain i and sends its next refresh when the previous one answers; `concurrency`
//   clients over an undici Pool of as many keep-alive connections, opened (with a GET that spends nothing) before
//   the clock starts.
// - A refresh answered with anything but 200, a new access token and a new refresh token is an error: counted,
//   its first answer kept for the report, and that client stops (its chain may be spent). There must be none.
// - The server's CPU seconds over the window are read from /proc (steadier than the rate on a shared machine).
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { Pool } from 'undici';
import { cpuSeconds } from '../registry/server.js';
import { percentile, round } from '../registry/stats.js';

export interface RefreshServer {
  name: string;
  url: string;
  pid: number;
  tokenPath: string;
  clientId: string;
  /** Path of a GET that spends nothing, to open the connections before the clock starts. */
  warmPath?: string;
  /** Each client's current refresh token; the window replaces them as it rotates. */
  chains: string[];
  /** A spare session's refresh token, used once by checkOne (its reuse check ends that session). */
  spare?: string;
  stop(): Promise<void>;
}

export interface WindowResult {
  refreshes: number;
  errors: number;
  first_error?: string;
  seconds: number;
  refreshes_per_second: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  server_cpu_ms_per_refresh: number;
  client_cpu_ms_per_refresh: number;
}

const form = (server: RefreshServer, token: string) => new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, client_id: server.clientId }).toString();

/** `concurrency` clients (client i on chain i) refreshing back to back for `seconds`. */
export async function window(server: RefreshServer, concurrency: number, seconds: number): Promise<WindowResult> {
  if (concurrency > server.chains.length) throw new Error(`${server.name}: ${concurrency} clients but ${server.chains.length} sessions`);
  const pool = new Pool(server.url, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  try {
    const warm = server.warmPath ?? '/.well-known/oauth-authorization-server';
    await Promise.all(Array.from({ length: concurrency }, () => pool.request({ method: 'GET', path: warm }).then((r) => r.body.dump())));
    const latencies: number[] = [];
    let errors = 0;
    let firstError: string | undefined;
    const serverCpu0 = cpuSeconds(server.pid);
    const clientCpu0 = process.cpuUsage();
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    const client = async (i: number) => {
      while (performance.now() < deadline) {
        const started = performance.now();
        const res = await pool.request({ method: 'POST', path: server.tokenPath, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form(server, server.chains[i]!) });
        const text = await res.body.text();
        const elapsed = performance.now() - started;
        let next: string | undefined;
        if (res.statusCode === 200) {
          const body = JSON.parse(text) as { access_token?: string; refresh_token?: string };
          if (body.access_token && body.refresh_token && body.refresh_token !== server.chains[i]) next = body.refresh_token;
        }
        if (!next) {
          errors++;
          firstError ??= `${res.statusCode} ${text.slice(0, 300)}`;
          return;
        }
        latencies.push(elapsed);
        server.chains[i] = next;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, (_, i) => client(i)));
    const elapsed = (performance.now() - t0) / 1000;
    const serverCpu = cpuSeconds(server.pid) - serverCpu0;
    const clientCpu = process.cpuUsage(clientCpu0);
    const n = latencies.length;
    return {
      refreshes: n, errors, ...(firstError ? { first_error: firstError } : {}), seconds: round(elapsed, 3), refreshes_per_second: round(n / elapsed, 1),
      p50_ms: round(percentile(latencies, 50), 2), p99_ms: round(percentile(latencies, 99), 2), max_ms: round(percentile(latencies, 100), 2),
      server_cpu_ms_per_refresh: round((serverCpu * 1000) / n, 3), client_cpu_ms_per_refresh: round((clientCpu.user + clientCpu.system) / 1000 / n, 3),
    };
  } finally {
    await pool.close();
  }
}

/**
 * One refresh on the spare session, decoded: a JWT access token and a new refresh token; then the spent one again,
 * which both servers must refuse (reuse detection; it ends the spare session), and the new one after that, refused
 * too (the whole family is revoked).
 */
export async function checkOne(server: RefreshServer): Promise<Record<string, unknown>> {
  if (!server.spare) throw new Error(`${server.name}: no spare session to check`);
  const pool = new Pool(server.url, { connections: 1 });
  const post = async (token: string) => {
    const res = await pool.request({ method: 'POST', path: server.tokenPath, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form(server, token) });
    return { status: res.statusCode, body: JSON.parse(await res.body.text()) as Record<string, unknown> };
  };
  try {
    const first = await post(server.spare);
    if (first.status !== 200) throw new Error(`${server.name}: refresh answered ${first.status} ${JSON.stringify(first.body)}`);
    const accessToken = first.body.access_token as string;
    const next = first.body.refresh_token as string;
    if (!next || next === server.spare) throw new Error(`${server.name}: the refresh did not rotate: ${JSON.stringify(first.body)}`);
    const header = decodeProtectedHeader(accessToken);
    const claims = decodeJwt(accessToken);
    if (header.typ !== 'at+jwt') throw new Error(`${server.name}: access token is not an at+jwt: ${JSON.stringify(header)}`);
    const reuse = await post(server.spare);
    if (reuse.status === 200) throw new Error(`${server.name}: accepted a rotated refresh token again`);
    const family = await post(next);
    if (family.status === 200) throw new Error(`${server.name}: the rotated token's successor still works after reuse`);
    return {
      response_fields: Object.keys(first.body).sort(), token_type: first.body.token_type, expires_in: first.body.expires_in, scope: first.body.scope,
      access_token: { header, claim_names: Object.keys(claims).sort(), aud: claims.aud, bytes: accessToken.length },
      refresh_token_bytes: next.length, reuse: { status: reuse.status, error: reuse.body.error }, after_reuse: { status: family.status, error: family.body.error },
    };
  } finally {
    await pool.close();
  }
}

/** Starts `total` sessions over one pool of 8 connections, 8 at a time (setup, not timed); the pool is closed after. */
export async function startSessions(url: string, total: number, start: (pool: Pool) => Promise<string>): Promise<string[]> {
  const pool = new Pool(url, { connections: 8 });
  const chains: string[] = new Array(total);
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      chains[i] = await start(pool);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(8, total) }, worker));
  } finally {
    await pool.close();
  }
  return chains;
}
