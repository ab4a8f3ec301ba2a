import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import type * as Oidc from 'openid-client';
import {
  CliError, createClient, lockedSessions, oauthConfig, oauthFailure, resolveServer, sessionFrom, sessionStore,
} from '../client.js';
import { collect, examples, type GlobalOptions } from '../common.js';
import { printJson, sanitizeCell, type CliIo } from '../output.js';
import { findSession, removeSession, saveSession, sessionFilePath, type StoredSession } from '../session-store.js';

// `custos login` and `custos logout`: a person signs the CLI in to a control plane as the built-in public client
// custos-cli, and the session is kept in the session file (session-store.ts) for every later command (client.ts).
// Every OAuth step is openid-client's (v6): discovery, PKCE, state, the authorization response checks (state, RFC 9207
// iss), the code exchange, the device grant's polling (authorization_pending, slow_down), refresh and revocation.
//
// Rules:
// - Browser (default; RFC 8252 native app): a one-shot HTTP server on 127.0.0.1, port chosen by the OS, path
//   /callback; redirect_uri http://127.0.0.1:<port>/callback; PKCE S256 and a fresh state every time. The URL is
//   printed on stderr and handed to the system's opener (xdg-open, open, rundll32) unless --no-browser or
//   CUSTOS_NO_BROWSER=1; failures to open are ignored (the URL is there to copy). The first request to /callback
//   decides the outcome (openid-client validates it in full; a wrong state or iss ends the login, nothing is guessed);
//   the browser gets a small page saying how it went, then the server closes. Other paths are 404.
//   No answer within CUSTOS_LOGIN_TIMEOUT_MS (default 5 minutes) ends the login with exit 1.
// - Device (--device, RFC 8628): the verification URI and user code are printed on stderr; the token endpoint is
//   polled at the server's interval until the person approves, denies, or the code expires.
// - Audience: the server URL itself (the management API, where the session is used) always, plus each --resource.
// - The session is saved under the session file's lock (replacing any earlier one for that server, whose refresh token
//   is then revoked, best effort), then GET /v1/whoami with the new access token says who signed in.
// - Tokens are never printed; --json prints who signed in and when the access token expires.
// - logout: the stored refresh token is revoked at the server (RFC 7009, client_id custos-cli: the session and every
//   access token of it end), then the session is removed from the file. When the server cannot be reached or refuses,
//   the session is kept (so logout can be retried) and the command fails. Without a stored session it says so and
//   exits 0: the wanted state (not signed in) already holds.

export const DEFAULT_LOGIN_TIMEOUT_MS = 5 * 60_000;

const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const page = (title: string, text: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}</style></head>
<body><h1>${title}</h1><p>${text}</p></body></html>
`;

const duration = (ms: number) => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`);

function loginTimeoutMs(env: NodeJS.ProcessEnv): number {
  const raw = env.CUSTOS_LOGIN_TIMEOUT_MS;
  if (raw === undefined || raw === '') return DEFAULT_LOGIN_TIMEOUT_MS;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new CliError('CUSTOS_LOGIN_TIMEOUT_MS must be a whole number of milliseconds, 1 or more', 2);
  return Number(raw);
}

/** Hands the URL to the system's opener; whatever happens is ignored (the URL is printed anyway). */
function openInBrowser(url: string): void {
  const [command, args] = process.platform === 'darwin' ? ['open', [url]]
    : process.platform === 'win32' ? ['rundll32', ['url.dll,FileProtocolHandler', url]]
      : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { detached: true, stdio: 'ignore' });
    child.on('error', () => { /* no opener: the person copies the URL */ });
    child.unref();
  } catch {
    // as above
  }
}

interface Callback {
  url: URL;
  /** Answers the browser and closes the listener. */
  finish(ok: boolean): Promise<void>;
}

/** The loopback listener for one authorization response (RFC 8252 §7.3). */
async function listenForCallback(): Promise<{ redirectUri: string; callback: Promise<Callback>; close(): Promise<void> }> {
  let deliver!: (c: Callback) => void;
  const callback = new Promise<Callback>((resolve) => { deliver = resolve; });
  let taken = false;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const headers = { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': PAGE_CSP, 'cache-control': 'no-store', 'x-frame-options': 'DENY' };
    if (req.method !== 'GET' || url.pathname !== '/callback') {
      res.writeHead(404, headers).end(page('Not found', 'This address only receives the answer to a Custos sign-in.'));
      return;
    }
    if (taken) {
      res.writeHead(409, headers).end(page('Already answered', 'This sign-in has already received its answer; see your terminal.'));
      return;
    }
    taken = true;
    deliver({
      url,
      finish: (ok) => new Promise<void>((resolve) => {
        res.writeHead(ok ? 200 : 400, { ...headers, connection: 'close' })
          .end(ok ? page('Signed in', 'Custos CLI is signed in; you can close this tab.') : page('Sign-in failed', 'The Custos CLI could not sign in; see your terminal for why.'), () => resolve());
      }),
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    callback,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/**
 * The CLI's own tokens are for the management API alone (RFC 8707 narrowing at the token endpoint): the server puts
 * a person's role only on a token addressed to nothing else; the session still covers every --resource.
 */
export function managementAudience(config: Oidc.Configuration): URLSearchParams {
  return new URLSearchParams({ resource: config.serverMetadata().issuer });
}

/** resource parameters: the issuer as the server writes it (the management API's audience), then --resource. */
function audienceParams(config: Oidc.Configuration, resources: string[]): URLSearchParams {
  const params = new URLSearchParams();
  for (const r of new Set([config.serverMetadata().issuer, ...resources])) params.append('resource', r);
  return params;
}

async function browserLogin(io: CliIo, server: string, oidc: typeof Oidc, config: Oidc.Configuration, o: { browser: boolean; resource: string[] }) {
  const timeoutMs = loginTimeoutMs(io.env);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const listener = await listenForCallback();
  let timer: NodeJS.Timeout | undefined;
  try {
    const params = audienceParams(config, o.resource);
    params.set('redirect_uri', listener.redirectUri);
    params.set('code_challenge', await oidc.calculatePKCECodeChallenge(verifier));
    params.set('code_challenge_method', 'S256');
    params.set('state', state);
    const url = oidc.buildAuthorizationUrl(config, params).href;
    io.stderr.write(`Open this URL to sign in: ${url}\n`);
    if (o.browser && io.env.CUSTOS_NO_BROWSER !== '1') openInBrowser(url);
    io.stderr.write(`Waiting for the browser at ${listener.redirectUri} (${duration(timeoutMs)})...\n`);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CliError(`no answer from the browser within ${duration(timeoutMs)}; run custos login again`, 1)), timeoutMs);
    });
    const answer = await Promise.race([listener.callback, timeout]);
    try {
      const tokens = await oidc.authorizationCodeGrant(config, answer.url, { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: false }, managementAudience(config));
      await answer.finish(true);
      return tokens;
    } catch (error) {
      await answer.finish(false);
      throw oauthFailure(oidc, error, server, 'the sign-in', 1);
    }
  } finally {
    clearTimeout(timer);
    await listener.close();
  }
}

async function deviceLogin(io: CliIo, server: string, oidc: typeof Oidc, config: Oidc.Configuration, o: { resource: string[] }) {
  const timeoutMs = loginTimeoutMs(io.env);
  let start: Oidc.DeviceAuthorizationResponse;
  try {
    start = await oidc.initiateDeviceAuthorization(config, audienceParams(config, o.resource));
  } catch (error) {
    throw oauthFailure(oidc, error, server, 'the device sign-in', 1);
  }
  const code = sanitizeCell(start.user_code);
  io.stderr.write(`To sign in, open ${sanitizeCell(start.verification_uri)} on any device and enter the code ${code}\n`);
  if (start.verification_uri_complete) io.stderr.write(`(or open ${sanitizeCell(start.verification_uri_complete)}, which fills the code in)\n`);
  io.stderr.write(`Waiting for the sign-in (code valid ${start.expires_in} s)...\n`);
  const signal = AbortSignal.timeout(Math.min(start.expires_in * 1000, timeoutMs));
  try {
    return await oidc.pollDeviceAuthorizationGrant(config, start, managementAudience(config), { signal });
  } catch (error) {
    if (signal.aborted) throw new CliError(`the code ${code} was not used in time; run custos login --device again`, 1);
    throw oauthFailure(oidc, error, server, 'the device sign-in', 1);
  }
}

/** Best effort: a replaced session's refresh token is revoked so it does not outlive the login that replaced it. */
async function revokeQuietly(oidc: typeof Oidc, config: Oidc.Configuration, session: StoredSession | undefined): Promise<boolean> {
  if (!session?.refresh_token) return true;
  try {
    await oidc.tokenRevocation(config, session.refresh_token, { token_type_hint: 'refresh_token' });
    return true;
  } catch {
    return false;
  }
}

const methodText = (m: StoredSession['method']) => (m === 'browser' ? 'the browser' : 'a device code');

export function registerLoginCommands(program: Command, io: CliIo): void {
  program.command('login').description('sign in to the control plane as yourself (a browser, or --device on a machine without one); later commands use the session')
    .option('--device', 'sign in with a code entered on any other device (RFC 8628), for machines without a browser')
    .option('--no-browser', 'print the sign-in URL but do not open a browser (also CUSTOS_NO_BROWSER=1)')
    .option('--resource <uri>', 'also address the session\'s tokens to this registered resource (RFC 8707); repeatable; the server itself is always included', collect)
    .addHelpText('after', examples('custos login', 'custos --server https://custos.example.com login --device', 'CUSTOS_NO_BROWSER=1 custos login'))
    .action(async (opts: { device?: boolean; browser: boolean; resource?: string[] }, cmd: Command) => {
      const o = { ...opts, resource: opts.resource ?? [] };
      const g = cmd.optsWithGlobals() as GlobalOptions;
      const server = resolveServer(g, io.env);
      const { oidc, config } = await oauthConfig(server);
      const tokens = o.device ? await deviceLogin(io, server, oidc, config, o) : await browserLogin(io, server, oidc, config, o);
      const signedInAt = new Date().toISOString(); // when the tokens arrived, not when the command started
      const method = o.device ? 'device' : 'browser';
      const session = sessionFrom(server, tokens, method, signedInAt);
      const previous = await lockedSessions(io.env, async () => {
        const before = sessionStore(() => findSession(io.env, server));
        sessionStore(() => saveSession(io.env, session));
        return before;
      });
      const revoked = await revokeQuietly(oidc, config, previous);
      const me = await createClient({ server, token: session.access_token }, io.env).request<Record<string, unknown>>('GET', '/v1/whoami');
      const file = sessionFilePath(io.env);
      if (g.json) {
        printJson(io, { server, method, signed_in_at: session.signed_in_at, expires_at: session.expires_at, session_file: file, whoami: me });
      } else {
        io.stdout.write(`signed in to ${server} as ${me.principal_name}${me.role ? ` (${me.role})` : ''} with ${methodText(method)}; session stored in ${file}\n`);
      }
      if (!revoked) io.stderr.write('note: the session this login replaced could not be revoked at the server; it ends when it expires\n');
      const overriding = g.token ? '--token' : io.env.CUSTOS_TOKEN ? 'CUSTOS_TOKEN' : undefined;
      if (overriding) io.stderr.write(`note: ${overriding} is given and wins over the session; drop it to use the session\n`);
    });

  program.command('logout').description('sign out: revoke the stored session at the server and remove it from this machine')
    .addHelpText('after', examples('custos logout', 'custos --server https://custos.example.com logout'))
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      const server = resolveServer(g, io.env);
      const file = sessionFilePath(io.env);
      const outcome = await lockedSessions(io.env, async () => {
        const session = sessionStore(() => findSession(io.env, server));
        if (!session) return 'none' as const;
        if (session.refresh_token) {
          const { oidc, config } = await oauthConfig(server);
          try {
            await oidc.tokenRevocation(config, session.refresh_token, { token_type_hint: 'refresh_token' });
          } catch (error) {
            const failure = oauthFailure(oidc, error, server, 'the revocation', 1);
            throw new CliError(`${failure.message}; the session is kept in ${file} so you can run custos logout again`, failure.exitCode);
          }
        }
        sessionStore(() => removeSession(io.env, server));
        return session;
      });
      if (outcome === 'none') {
        if (g.json) printJson(io, { server, signed_out: false, reason: 'no stored session' });
        else io.stdout.write(`not signed in to ${server} (no session in ${file}); nothing to do\n`);
        return;
      }
      if (g.json) printJson(io, { server, signed_out: true, method: outcome.method, signed_in_at: outcome.signed_in_at });
      else io.stdout.write(`signed out of ${server}: the session (signed in with ${methodText(outcome.method)} at ${outcome.signed_in_at}) was revoked at the server and removed from ${file}\n`);
    });
}
