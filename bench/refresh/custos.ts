// Custos for the refresh bench: `node bin/custos.js serve` in its own process (SQLite or a fresh PostgreSQL
// database), and N people's sessions started the way the CLI starts one against a server without an identity
// provider: the authorization code flow with PKCE for the built-in public client `custos-cli`, signing in on the
// sign-in page with the bootstrap admin's operator token.
//
// Rules:
// - Each session goes through the real pages over HTTP: GET /oauth/authorize → 303 /signin/<id> (sets the binding
//   cookie) → GET the page (its CSRF token) → POST /signin/<id>/token (csrf + operator token) → GET the consent
//   page → POST /signin/<id>/consent (approve) → 303 to the loopback redirect with the code → POST /oauth/token
//   (authorization_code + code_verifier). Anything else than those statuses aborts the setup.
// - Each session's first refresh token is returned; the caller keeps each chain apart (one per virtual client).
import crypto from 'node:crypto';
import { Pool } from 'undici';
import { freshPostgres, startServer, type RunningServer } from '../registry/server.js';
import { startSessions, type RefreshServer } from './load.js';

export const CLI_CLIENT_ID = 'custos-cli';
const REDIRECT = 'http://127.0.0.1:53682/callback';

function pkcePair(): { verifier: string; challenge: string } {
  const verifier = crypto.randomBytes(32).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
}

function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error(`no CSRF token on the sign-in page: ${html.slice(0, 300)}`);
  return m[1]!;
}

/** One browser: a cookie jar over an undici pool, redirects not followed (the flow reads each Location). */
function browser(pool: Pool) {
  const jar = new Map<string, string>();
  return async (method: 'GET' | 'POST', target: string, form?: Record<string, string>) => {
    const headers: Record<string, string> = {};
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await pool.request({ method, path: target, headers, body: form ? new URLSearchParams(form).toString() : undefined });
    const body = await res.body.text();
    for (const line of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
      const pair = line.split(';')[0]!;
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    const location = res.headers.location;
    return { status: res.statusCode, body, location: typeof location === 'string' ? location : undefined };
  };
}

/** One session through the authorization code flow; returns its first refresh token. */
async function startSession(pool: Pool, operatorToken: string): Promise<string> {
  const go = browser(pool);
  const pkce = pkcePair();
  const q = new URLSearchParams({
    response_type: 'code', client_id: CLI_CLIENT_ID, redirect_uri: REDIRECT, state: crypto.randomBytes(8).toString('hex'),
    code_challenge: pkce.challenge, code_challenge_method: 'S256',
  });
  const start = await go('GET', `/oauth/authorize?${q}`);
  if (start.status !== 303 || !start.location?.startsWith('/signin/')) throw new Error(`authorize: ${start.status} ${start.location} ${start.body.slice(0, 300)}`);
  const page = await go('GET', start.location);
  if (page.status !== 200) throw new Error(`sign-in page: ${page.status} ${page.body.slice(0, 300)}`);
  const signedIn = await go('POST', `${start.location}/token`, { csrf: csrfOf(page.body), token: operatorToken });
  if (signedIn.status !== 303 || !signedIn.location) throw new Error(`operator token sign-in: ${signedIn.status} ${signedIn.body.slice(0, 300)}`);
  const consent = await go('GET', signedIn.location);
  if (consent.status !== 200) throw new Error(`consent page: ${consent.status} ${consent.body.slice(0, 300)}`);
  const approved = await go('POST', `${start.location}/consent`, { csrf: csrfOf(consent.body), decision: 'approve' });
  if (approved.status !== 303 || !approved.location) throw new Error(`consent: ${approved.status} ${approved.body.slice(0, 300)}`);
  const code = new URL(approved.location).searchParams.get('code');
  if (!code) throw new Error(`consent redirect without a code: ${approved.location}`);
  const tokens = await go('POST', '/oauth/token', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: CLI_CLIENT_ID, code_verifier: pkce.verifier });
  if (tokens.status !== 200) throw new Error(`authorization_code: ${tokens.status} ${tokens.body.slice(0, 300)}`);
  const refresh = (JSON.parse(tokens.body) as { refresh_token?: string }).refresh_token;
  if (!refresh) throw new Error(`authorization_code answered no refresh token: ${tokens.body.slice(0, 300)}`);
  return refresh;
}

/** Custos as a user runs it, with `sessions` people's sessions (one refresh-token chain each) and a spare one. */
export async function startCustos(opts: { repoRoot: string; backend: 'sqlite' | 'postgres'; logLevel: string; postgresUrl: string; sessions: number; nodeArgs?: string[] }): Promise<RefreshServer> {
  const pg = opts.backend === 'postgres' ? await freshPostgres(opts.postgresUrl) : undefined;
  let server: RunningServer | undefined;
  try {
    server = await startServer({ repoRoot: opts.repoRoot, logLevel: opts.logLevel, databaseUrl: pg?.url, nodeArgs: opts.nodeArgs });
    // One more than asked: the spare one is spent by checkOne (its reuse check ends it).
    const total = opts.sessions + 1;
    const chains = await startSessions(server.url, total, (pool) => startSession(pool, server!.token));
    const running = server;
    return {
      name: `custos (${opts.backend})`, url: running.url, pid: running.pid, tokenPath: '/oauth/token', clientId: CLI_CLIENT_ID,
      chains: chains.slice(0, opts.sessions), spare: chains[opts.sessions],
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
