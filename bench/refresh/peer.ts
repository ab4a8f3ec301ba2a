// oidc-provider for the refresh bench (oidc-refresh-server.js in its own process), and N sessions started through
// its own authorization code flow with PKCE: GET /auth → its interaction (finished by the server file's stand-in for
// a person: login + grant) → GET /auth/<uid> (resume) → the loopback redirect with the code → POST /token
// (authorization_code + code_verifier). Each answer must carry a refresh token.
//
// Rules:
// - Redirects are followed by hand, at most 8 hops, with one cookie jar per session (oidc-provider's interaction and
//   resume cookies); anything but a redirect or the final code aborts the setup.
// - Durable adapters get a fresh store per start: a temp SQLite file (removed at stop) or a fresh PostgreSQL
//   database (dropped at stop).
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair } from 'jose';
import { Pool } from 'undici';
import { freshPostgres, waitForListening } from '../registry/server.js';
import { startSessions, type RefreshServer } from './load.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const PEER_RESOURCE = 'https://api.bench.test';
export const PEER_SCOPE = 'models:invoke';
const REDIRECT = 'http://127.0.0.1:53682/callback';
const CLIENT_ID = 'bench-cli';

export type PeerAdapter = 'memory' | 'sqlite' | 'postgres';

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

async function startSession(pool: Pool): Promise<string> {
  const jar = new Map<string, string>();
  const get = async (target: string) => {
    const res = await pool.request({ method: 'GET', path: target, headers: jar.size ? { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } : {} });
    const body = await res.body.text();
    for (const line of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
      const pair = line.split(';')[0]!;
      const eq = pair.indexOf('=');
      const [name, value] = [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
      if (value === '' || /expires=thu, 01 jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    return { status: res.statusCode, body, location: typeof res.headers.location === 'string' ? res.headers.location : undefined };
  };
  const verifier = crypto.randomBytes(32).toString('base64url');
  const q = new URLSearchParams({
    response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT, scope: `offline_access ${PEER_SCOPE}`, prompt: 'consent', state: crypto.randomBytes(8).toString('hex'),
    code_challenge: crypto.createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  });
  let target = `/auth?${q}`;
  let code: string | null = null;
  for (let hop = 0; hop < 8 && code === null; hop++) {
    const res = await get(target);
    if (res.status < 300 || res.status > 303 || !res.location) throw new Error(`oidc-provider ${target.split('?')[0]}: ${res.status} ${res.body.slice(0, 300)}`);
    if (res.location.startsWith(REDIRECT)) {
      const back = new URL(res.location);
      code = back.searchParams.get('code');
      if (!code) throw new Error(`oidc-provider redirected without a code: ${res.location}`);
    } else {
      const next = new URL(res.location, 'http://127.0.0.1');
      target = next.pathname + next.search;
    }
  }
  if (code === null) throw new Error('oidc-provider: no code after 8 redirects');
  const res = await pool.request({
    method: 'POST', path: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: CLIENT_ID, code_verifier: verifier }).toString(),
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`oidc-provider authorization_code: ${res.statusCode} ${text.slice(0, 300)}`);
  const refresh = (JSON.parse(text) as { refresh_token?: string }).refresh_token;
  if (!refresh) throw new Error(`oidc-provider answered no refresh token: ${text.slice(0, 300)}`);
  return refresh;
}

/** oidc-provider in its own process with the given adapter, `sessions` sessions and a spare one. */
export async function startOidcProvider(opts: { adapter: PeerAdapter; sessions: number; postgresUrl: string }): Promise<RefreshServer> {
  const port = await freePort();
  const signing = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const signingJwk = { ...(await exportJWK(signing.privateKey)), kid: 'oidc-signing-1', alg: 'EdDSA', use: 'sig' };
  const dir = opts.adapter === 'sqlite' ? fs.mkdtempSync(path.join(os.tmpdir(), 'custos-bench-oidc-')) : undefined;
  const pg = opts.adapter === 'postgres' ? await freshPostgres(opts.postgresUrl) : undefined;
  const config = {
    port, clientId: CLIENT_ID, redirectUri: REDIRECT, signingJwk, resource: PEER_RESOURCE, scope: PEER_SCOPE, accountId: 'bench-person',
    adapter: opts.adapter, sqliteFile: dir ? path.join(dir, 'oidc.sqlite') : undefined, databaseUrl: pg?.url,
  };
  const child: ChildProcess = spawn(process.execPath, [path.join(here, 'oidc-refresh-server.js'), JSON.stringify(config)], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
  });
  const cleanup = () => {
    child.kill('SIGKILL');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  let stopping = false;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      stopping = true;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    process.off('exit', cleanup);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await pg?.drop();
  };
  try {
    const url = await waitForListening(child, 'oidc-provider');
    let tail = '';
    child.stderr!.on('data', (chunk: string) => { tail = (tail + chunk).slice(-4000); });
    child.once('exit', (code, signal) => {
      if (!stopping) process.stderr.write(`\noidc-provider ${child.pid} exited unexpectedly (code ${code}, signal ${signal}):\n${tail}\n`);
    });
    const total = opts.sessions + 1;
    const chains = await startSessions(url, total, (pool) => startSession(pool));
    return {
      name: `oidc-provider (${opts.adapter})`, url, pid: child.pid!, tokenPath: '/token', clientId: CLIENT_ID, warmPath: '/.well-known/openid-configuration',
      chains: chains.slice(0, opts.sessions), spare: chains[opts.sessions], stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
