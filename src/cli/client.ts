import fs from 'node:fs';
import path from 'node:path';
import type * as Oidc from 'openid-client';
import { BOOTSTRAP_TOKEN_FILE } from '../platform/data-dir.js';
import { sanitizeCell } from './output.js';
import { findSession, removeSession, saveSession, sessionFilePath, SessionFileError, withSessionLock, type StoredSession } from './session-store.js';

// The CLI is a client of the API: it never opens the store itself (except init/serve), so the API's
// role checks govern every CLI command too.
//
// Which credential a command uses (the first that applies):
//   1. --token, then CUSTOS_TOKEN: whatever the caller handed over (an operator token, an API key, an access token)
//      always wins — scripts and operators must get exactly what they asked for;
//   2. the session `custos login` stored for this server (session-store.ts): its access token, renewed with the
//      refresh token (openid-client, client custos-cli) when it has less than REFRESH_MARGIN_MS left, or once when
//      the server refuses it (401: the server's clock or a revocation knows better than ours); the rotated refresh
//      token is saved under the session file's lock. A refresh the server refuses with invalid_grant means the
//      session has ended: it is removed and the user told to run `custos login` (exit 3);
//   3. bootstrap-admin.token in the data dir (CUSTOS_DATA_DIR or ./.custos), the first admin's operator token.
// resolveToken keeps its older meaning (1 or 3, synchronous, no session) for callers that need an operator token
// as such (token inspect's introspection).

export const CLI_CLIENT_ID = 'custos-cli';
/** A session's access token is renewed when it has less than this left. */
export const REFRESH_MARGIN_MS = 60_000;

export class CliError extends Error {
  /** `problem`: the server's problem+json body, when the error is a refusal (commands may show more of it). */
  constructor(message: string, readonly exitCode: number = 1, readonly problem?: Record<string, unknown>) {
    super(message);
    this.name = 'CliError';
  }
}

export interface ClientOptions {
  server?: string;
  token?: string;
  dataDir?: string;
}

export interface ApiClient {
  request<T = unknown>(method: string, pathAndQuery: string, body?: unknown): Promise<T>;
  requestText(method: string, pathAndQuery: string): Promise<{ text: string; headers: Headers }>;
  /** Streams a JSON Lines response line by line (exports can be larger than one string may hold). */
  requestLines(pathAndQuery: string): AsyncIterable<string>;
  server: string;
  /** The credential the requests carried (after any renewal); resolves it when no request was made yet. */
  credential(): Promise<Credential | undefined>;
}

/** Where the credential came from, and for a session what `custos login` stored. */
export type Credential =
  | { source: 'flag' | 'env'; token: string }
  | { source: 'bootstrap'; token: string; file: string }
  | { source: 'session'; token: string; session: StoredSession; file: string };

/** An operator-supplied token: --token, CUSTOS_TOKEN, or the bootstrap token file (never a stored session). */
export function resolveToken(opts: ClientOptions, env: NodeJS.ProcessEnv): string | undefined {
  if (opts.token) return opts.token;
  if (env.CUSTOS_TOKEN) return env.CUSTOS_TOKEN;
  const dir = path.resolve(opts.dataDir ?? env.CUSTOS_DATA_DIR ?? './.custos');
  const file = path.join(dir, BOOTSTRAP_TOKEN_FILE);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : undefined;
}

/** The control plane's URL: --server, CUSTOS_SERVER, or the local default; a usage error unless http(s). */
export function resolveServer(opts: ClientOptions, env: NodeJS.ProcessEnv): string {
  const server = (opts.server ?? env.CUSTOS_SERVER ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  try {
    const url = new URL(server);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
  } catch {
    throw new CliError(`--server '${server}' is not an http(s) URL`, 2);
  }
  return server;
}

/** Session-store errors are credential problems: one line, exit 3. */
export function sessionStore<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw asCliError(error);
  }
}

/** withSessionLock, its errors mapped like sessionStore's. */
export async function lockedSessions<T>(env: NodeJS.ProcessEnv, fn: () => Promise<T>): Promise<T> {
  try {
    return await withSessionLock(env, fn);
  } catch (error) {
    throw asCliError(error);
  }
}

const asCliError = (error: unknown) => (error instanceof SessionFileError ? new CliError(error.message, 3) : error);

/** The credential for this server by the order above (synchronous: no renewal). */
export function resolveCredential(opts: ClientOptions, env: NodeJS.ProcessEnv, server = resolveServer(opts, env)): Credential | undefined {
  if (opts.token) return { source: 'flag', token: opts.token };
  if (env.CUSTOS_TOKEN) return { source: 'env', token: env.CUSTOS_TOKEN };
  const session = sessionStore(() => findSession(env, server));
  if (session) return { source: 'session', token: session.access_token, session, file: sessionFilePath(env) };
  const dir = path.resolve(opts.dataDir ?? env.CUSTOS_DATA_DIR ?? './.custos');
  const file = path.join(dir, BOOTSTRAP_TOKEN_FILE);
  return fs.existsSync(file) ? { source: 'bootstrap', token: fs.readFileSync(file, 'utf8').trim(), file } : undefined;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** openid-client, loaded only by the commands that sign in or renew (the others start without it). */
export async function loadOidc(): Promise<typeof Oidc> {
  return import('openid-client');
}

/**
 * The CLI as the public OAuth client custos-cli of this server: RFC 8414 metadata at
 * <server>/.well-known/oauth-authorization-server (openid-client's `oauth2` discovery), whose issuer must be the
 * server URL; no client authentication (None: client_id in the body). Plain http only to a loopback server.
 */
export async function oauthConfig(server: string): Promise<{ oidc: typeof Oidc; config: Oidc.Configuration }> {
  const url = new URL(server);
  const plainLoopback = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol === 'http:' && !plainLoopback) {
    throw new CliError(`signing in sends tokens: use https for ${server} (plain http only to 127.0.0.1, [::1] or localhost)`, 2);
  }
  const oidc = await loadOidc();
  try {
    const config = await oidc.discovery(url, CLI_CLIENT_ID, undefined, oidc.None(), {
      algorithm: 'oauth2', execute: plainLoopback ? [oidc.allowInsecureRequests] : [], timeout: 30,
    });
    return { oidc, config };
  } catch (error) {
    throw oauthFailure(oidc, error, server, 'the metadata request', 3);
  }
}

/** One-line CLI error for what openid-client threw; server-supplied text is neutralised for the terminal. */
export function oauthFailure(oidc: typeof Oidc, error: unknown, server: string, during: string, exitCode: number): CliError {
  if (error instanceof CliError) return error;
  const said = (code: string, description: unknown) => `${sanitizeCell(code).slice(0, 100)}${typeof description === 'string' && description ? `: ${sanitizeCell(description).slice(0, 300)}` : ''}`;
  if (error instanceof oidc.ResponseBodyError) return new CliError(`the server refused ${during} (${said(error.error, error.error_description)})`, exitCode);
  if (error instanceof oidc.AuthorizationResponseError) return new CliError(`sign-in did not complete (${said(error.error, error.error_description)})`, exitCode);
  if (error instanceof oidc.ClientError) {
    const cause = error.cause instanceof Error ? error.cause : undefined;
    // What was compared: on the error itself (openid-client's own issuer check) or on oauth4webapi's (its cause).
    const compared = (cause ? cause.cause : error.cause) as { attribute?: unknown; body?: { issuer?: unknown } } | undefined;
    if (error.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' && compared?.attribute === 'issuer') {
      return new CliError(`${server} names itself ${sanitizeCell(String(compared.body?.issuer)).slice(0, 200)} (its issuer); use --server with that URL`, 2);
    }
    if (error.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || error.code === 'OAUTH_RESPONSE_IS_NOT_JSON') {
      const status = error.cause instanceof Response ? `HTTP ${error.cause.status}` : 'not OAuth JSON';
      return new CliError(`${server} answered ${during} unexpectedly (${status}); is it a Custos server, and up to date?`, 3);
    }
    const detail = cause?.message || error.message;
    return new CliError(`${during} at ${server} failed a check: ${sanitizeCell(detail).slice(0, 300)}`, exitCode);
  }
  if (error instanceof Error && error.name === 'TimeoutError') return new CliError(`the Custos server at ${server} did not answer in time (${during})`, 3);
  if (error instanceof TypeError) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return new CliError(`cannot reach the Custos server at ${server} (${cause?.code ?? cause?.message ?? error.message}); start it with: custos serve`, 3);
  }
  return new CliError(`${during} failed: ${error instanceof Error ? error.message : String(error)}`, exitCode);
}

/** A token response as the session file keeps it. */
export function sessionFrom(server: string, tokens: Oidc.TokenEndpointResponse & Oidc.TokenEndpointResponseHelpers, method: StoredSession['method'], signedInAt: string, previousRefresh: string | null = null): StoredSession {
  const expiresIn = tokens.expiresIn() ?? 0;
  return {
    server, client_id: CLI_CLIENT_ID, access_token: tokens.access_token, refresh_token: tokens.refresh_token ?? previousRefresh,
    expires_at: new Date(Date.now() + expiresIn * 1000).toISOString(), signed_in_at: signedInAt, method,
  };
}

const expiresSoon = (s: StoredSession) => Date.parse(s.expires_at) - Date.now() < REFRESH_MARGIN_MS;

/**
 * Renews a stored session (refresh_token grant, rotation saved), under the session file's lock. When another
 * process renewed it meanwhile (its refresh token differs from `seen`), that result is used instead of refreshing
 * again — presenting the rotated-out token would end the session.
 */
export async function renewSession(server: string, env: NodeJS.ProcessEnv, seen: StoredSession): Promise<StoredSession> {
  return lockedSessions(env, async () => {
    const latest = sessionStore(() => findSession(env, server));
    if (!latest) throw new CliError(`you are no longer signed in to ${server} (the session was removed); sign in again: custos login`, 3);
    if (latest.refresh_token !== seen.refresh_token && !expiresSoon(latest)) return latest;
    if (!latest.refresh_token) {
      sessionStore(() => removeSession(env, server));
      throw new CliError(`your session at ${server} has expired and cannot be renewed; sign in again: custos login`, 3);
    }
    const { oidc, config } = await oauthConfig(server);
    let tokens: Awaited<ReturnType<typeof oidc.refreshTokenGrant>>;
    try {
      // Narrowed to the management API, as at sign-in (login.ts managementAudience): the role travels only on such tokens.
      tokens = await oidc.refreshTokenGrant(config, latest.refresh_token, new URLSearchParams({ resource: config.serverMetadata().issuer }));
    } catch (error) {
      if (error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant') {
        sessionStore(() => removeSession(env, server));
        const why = error.error_description ? ` (${sanitizeCell(error.error_description).slice(0, 300)})` : '';
        throw new CliError(`your session at ${server} has ended${why}; sign in again: custos login`, 3);
      }
      throw oauthFailure(oidc, error, server, 'the session renewal', 3);
    }
    const next = sessionFrom(server, tokens, latest.method, latest.signed_in_at, latest.refresh_token);
    sessionStore(() => saveSession(env, next));
    return next;
  });
}

export function createClient(opts: ClientOptions, env: NodeJS.ProcessEnv = process.env): ApiClient {
  const server = resolveServer(opts, env);
  let credential: Credential | undefined;
  let resolved = false;
  let renewed = false;

  async function current(): Promise<Credential | undefined> {
    if (!resolved) {
      credential = resolveCredential(opts, env, server);
      resolved = true;
    }
    if (credential?.source === 'session' && expiresSoon(credential.session)) await renew(credential);
    return credential;
  }

  async function renew(c: Extract<Credential, { source: 'session' }>): Promise<void> {
    const session = await renewSession(server, env, c.session);
    credential = { ...c, token: session.access_token, session };
    renewed = true;
  }

  async function attempt(token: string, method: string, pathAndQuery: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(server + pathAndQuery, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          'user-agent': 'custos-cli',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new CliError(`cannot reach the Custos server at ${server} (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message}); start it with: custos serve`, 3);
    }
  }

  async function send(method: string, pathAndQuery: string, body?: unknown): Promise<Response> {
    const c = await current();
    if (!c) throw new CliError('no API token: run custos login, pass --token, set CUSTOS_TOKEN, or run where the data dir holds bootstrap-admin.token', 3);
    let res = await attempt(c.token, method, pathAndQuery, body);
    if (res.status === 401 && c.source === 'session' && !renewed) {
      // The server refused a token our clock thinks is live: renew once (a revoked session ends here) and retry.
      await res.body?.cancel();
      await renew(c);
      res = await attempt(credential!.token, method, pathAndQuery, body);
    }
    if (!res.ok) {
      const text = await res.text();
      let message = `${res.status} ${res.statusText}`;
      let body: Record<string, unknown> | undefined;
      try {
        const problem = JSON.parse(text) as { detail?: string; code?: string };
        if (problem && typeof problem === 'object') body = problem as Record<string, unknown>;
        if (problem.detail) message = `${problem.detail} (${problem.code ?? res.status})`;
      } catch {
        // not problem+json
      }
      // A token the server refuses is a credentials problem (exit 3), like having none.
      throw new CliError(message, res.status === 401 ? 3 : 1, body);
    }
    return res;
  }

  return {
    server,
    credential: current,
    async request<T>(method: string, pathAndQuery: string, body?: unknown): Promise<T> {
      const res = await send(method, pathAndQuery, body);
      if (res.status === 204) return undefined as T;
      return (await res.json()) as T;
    },
    async *requestLines(pathAndQuery: string) {
      const res = await send('GET', pathAndQuery);
      if (!res.body) return;
      const decoder = new TextDecoder();
      let rest = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
        rest = lines.pop()!;
        for (const line of lines) if (line) yield line;
      }
      rest += decoder.decode();
      if (rest) yield rest;
    },
    async requestText(method: string, pathAndQuery: string) {
      const res = await send(method, pathAndQuery);
      return { text: await res.text(), headers: res.headers };
    },
  };
}

export function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
