// HTTP token figures (issue 9): client_credentials tokens per second with private_key_jwt client authentication
// at N concurrent keep-alive connections, p50/p99 latency, against Custos (`node bin/custos.js serve`, its own
// process, SQLite or PostgreSQL, audit on as always) and against oidc-provider (oidc-server.js, its own process,
// default in-memory adapter) configured for the same grant, in the same run.
//
// Rules:
// - The same request to both: grant_type=client_credentials, client_id, a private_key_jwt client assertion
//   (EdDSA, Ed25519 key registered with the server, unique jti), scope=models:invoke, one RFC 8707 resource; both
//   answer an EdDSA-signed `at+jwt` access token for that audience. The first answer of each server is decoded
//   and checked (typ, aud, scope) so both really did the same work.
// - Assertions are signed before the timed window (a pool sized from the warm-up rate), so the client's signing
//   cost is not in the window; each is used once. If the pool runs out the window ends there (reported).
// - Closed loop: `concurrency` workers over an undici Pool of as many connections, each sending its next request
//   when the previous answers. Any answer but 200 with an access token aborts the bench.
// - Servers' CPU seconds are read from /proc for the window (steadier than the rate on a shared machine).
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { Pool } from 'undici';
import { cpuSeconds, freshPostgres, startServer, waitForListening, type RunningServer } from '../registry/server.js';
import { percentile, round } from '../registry/stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export const RESOURCE = 'https://api.bench.test';
export const SCOPE = 'models:invoke';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface TokenServer {
  name: string;
  url: string;
  pid: number;
  tokenPath: string;
  clientId: string;
  /** The audience client assertions name (the issuer). */
  audience: string;
  privateKey: CryptoKey;
  kid: string;
  stop(): Promise<void>;
}

async function clientKey(kid: string): Promise<{ privateKey: CryptoKey; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA' } };
}

/** Custos as a user runs it, with an active agent, its registered Ed25519 key and one registered resource. */
export async function startCustos(opts: { repoRoot: string; backend: 'sqlite' | 'postgres'; logLevel: string; postgresUrl: string; nodeArgs?: string[] }): Promise<TokenServer> {
  const pg = opts.backend === 'postgres' ? await freshPostgres(opts.postgresUrl) : undefined;
  let server: RunningServer | undefined;
  try {
    server = await startServer({ repoRoot: opts.repoRoot, logLevel: opts.logLevel, databaseUrl: pg?.url, nodeArgs: opts.nodeArgs });
    const admin = new Pool(server.url, { connections: 1 });
    const post = async (p: string, body: unknown) => {
      const res = await admin.request({ method: 'POST', path: p, headers: { authorization: `Bearer ${server!.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await res.body.text();
      if (res.statusCode !== 201) throw new Error(`POST ${p}: ${res.statusCode} ${text}`);
      return JSON.parse(text) as { id: string };
    };
    await post('/v1/principals', { name: 'bench-owner', kind: 'human' });
    const agent = await post('/v1/principals', {
      name: 'bench-agent', kind: 'agent', owner: 'bench-owner', status: 'active', risk_tier: 'medium', scopes: [SCOPE, 'tools:call'], purposes: ['support'],
    });
    await post('/v1/resources', { name: 'bench-api', kind: 'endpoint', owner: 'bench-owner', classification: 'internal', risk_tier: 'medium', uri: RESOURCE });
    const key = await clientKey('bench-agent-key-1');
    await post('/v1/client-keys', { principal: 'bench-agent', jwk: key.publicJwk });
    await admin.close();
    const running = server;
    return {
      name: `custos (${opts.backend})`, url: running.url, pid: running.pid, tokenPath: '/oauth/token', clientId: agent.id, audience: running.url,
      privateKey: key.privateKey, kid: key.publicJwk.kid!,
      async stop() {
        await running.stop();
        await pg?.drop();
      },
    };
  } catch (error) {
    await server?.stop().catch(() => undefined);
    await pg?.drop().catch(() => undefined);
    throw error;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** oidc-provider in its own process (oidc-server.js), one client with its Ed25519 key, one resource server. */
export async function startOidcProvider(): Promise<TokenServer> {
  const port = await freePort();
  const key = await clientKey('bench-client-key-1');
  const signing = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const signingJwk = { ...(await exportJWK(signing.privateKey)), kid: 'oidc-signing-1', alg: 'EdDSA', use: 'sig' };
  const clientId = 'bench-agent';
  const config = { port, clientId, clientJwk: key.publicJwk, signingJwk, resource: RESOURCE, scope: SCOPE };
  const child: ChildProcess = spawn(process.execPath, [path.join(here, 'oidc-server.js'), JSON.stringify(config)], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const url = await waitForListening(child, 'oidc-provider');
  let tail = '';
  child.stderr!.on('data', (chunk: string) => { tail = (tail + chunk).slice(-4000); });
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`\noidc-provider ${child.pid} exited unexpectedly (code ${code}, signal ${signal}):\n${tail}\n`);
  });
  return {
    name: 'oidc-provider', url, pid: child.pid!, tokenPath: '/token', clientId, audience: url, privateKey: key.privateKey, kid: key.publicJwk.kid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        stopping = true;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      process.off('exit', killOnExit);
    },
  };
}

/** `count` fresh client assertions (unique jti each), as form bodies ready to send; and how fast they were signed. */
export async function assertions(server: TokenServer, count: number): Promise<{ bodies: string[]; perSecond: number }> {
  const now = Math.floor(Date.now() / 1000);
  const bodies: string[] = new Array(count);
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const assertion = await new SignJWT({ jti: crypto.randomUUID() })
        .setProtectedHeader({ alg: 'EdDSA', kid: server.kid })
        .setIssuer(server.clientId).setSubject(server.clientId).setAudience(server.audience)
        .setIssuedAt(now).setExpirationTime(now + 240)
        .sign(server.privateKey);
      bodies[i] = new URLSearchParams({
        grant_type: 'client_credentials', client_id: server.clientId, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion,
        scope: SCOPE, resource: RESOURCE,
      }).toString();
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { bodies, perSecond: count / ((performance.now() - t0) / 1000) };
}

export interface WindowResult {
  tokens: number;
  seconds: number;
  tokens_per_second: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  server_cpu_ms_per_token: number;
  client_cpu_ms_per_token: number;
  pool_exhausted: boolean;
}

/** Sends the pre-made bodies with `concurrency` in flight until `seconds` pass or the bodies run out. */
export async function window(server: TokenServer, bodies: string[], concurrency: number, seconds: number): Promise<WindowResult> {
  const pool = new Pool(server.url, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  try {
    // Open the connections before the clock starts, with a request that spends no assertion.
    await Promise.all(Array.from({ length: concurrency }, () => pool.request({ method: 'GET', path: '/.well-known/oauth-authorization-server' }).then((r) => r.body.dump())));
    const latencies: number[] = [];
    let next = 0;
    const serverCpu0 = cpuSeconds(server.pid);
    const clientCpu0 = process.cpuUsage();
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    const worker = async () => {
      while (next < bodies.length && performance.now() < deadline) {
        const body = bodies[next++]!;
        const started = performance.now();
        const res = await pool.request({ method: 'POST', path: server.tokenPath, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
        const text = await res.body.text();
        latencies.push(performance.now() - started);
        if (res.statusCode !== 200 || !text.includes('"access_token"')) throw new Error(`${server.name}: ${res.statusCode} ${text.slice(0, 300)}`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const elapsed = (performance.now() - t0) / 1000;
    const serverCpu = cpuSeconds(server.pid) - serverCpu0;
    const clientCpu = process.cpuUsage(clientCpu0);
    const n = latencies.length;
    return {
      tokens: n, seconds: round(elapsed, 3), tokens_per_second: round(n / elapsed, 1),
      p50_ms: round(percentile(latencies, 50), 2), p99_ms: round(percentile(latencies, 99), 2), max_ms: round(percentile(latencies, 100), 2),
      server_cpu_ms_per_token: round((serverCpu * 1000) / n, 3), client_cpu_ms_per_token: round((clientCpu.user + clientCpu.system) / 1000 / n, 3),
      pool_exhausted: next >= bodies.length && performance.now() < deadline,
    };
  } finally {
    await pool.close();
  }
}

/** One request, decoded: both servers must answer an EdDSA at+jwt for RESOURCE with SCOPE. */
export async function checkOne(server: TokenServer): Promise<Record<string, unknown>> {
  const { bodies } = await assertions(server, 1);
  const pool = new Pool(server.url, { connections: 1 });
  try {
    const res = await pool.request({ method: 'POST', path: server.tokenPath, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: bodies[0] });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${server.name}: ${res.statusCode} ${text}`);
    const token = (JSON.parse(text) as { access_token: string }).access_token;
    const header = decodeProtectedHeader(token);
    const claims = decodeJwt(token);
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (header.typ !== 'at+jwt' || header.alg !== 'EdDSA' || !aud.includes(RESOURCE) || claims.scope !== SCOPE) {
      throw new Error(`${server.name} answered another kind of token: ${JSON.stringify({ header, claims })}`);
    }
    // The same assertion again must be refused: both servers check jti replay.
    const again = await pool.request({ method: 'POST', path: server.tokenPath, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: bodies[0] });
    await again.body.dump();
    if (again.statusCode === 200) throw new Error(`${server.name} accepted a replayed client assertion`);
    return { header, claim_names: Object.keys(claims).sort(), token_bytes: token.length, replay_status: again.statusCode };
  } finally {
    await pool.close();
  }
}
