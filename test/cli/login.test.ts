import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StoredSession } from '../../src/cli/session-store.js';
import { CUSTOS_BIN, runCustos, type CliResult } from '../support/cli-process.js';
import { startHarness, type Harness } from '../support/harness.js';
import { approveDevice, authorizeInBrowser, createHttpBrowser } from '../support/http-browser.js';
import { csrfOf, tokenRequest } from '../support/signin.js';

// `custos login` as a person uses it: the real CLI in its own process against a listening control plane; the person's
// part (sign-in page, operator token, consent) done over real HTTP with a cookie jar; the CLI's own loopback listener
// receiving the redirect. Then the stored session at work: whoami without any token, renewal when the access token
// is about to expire or the server refuses it, the end of a session, logout, and the device flow.

let h: Harness;
let url: string;
let home: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  h = await startHarness('sqlite');
  url = await h.cp.listen();
});
afterAll(async () => { await h.close(); });
const homes: string[] = [];
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});
afterAll(() => { for (const dir of homes) fs.rmSync(dir, { recursive: true, force: true }); });

function freshHome(): string {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-login-'));
  homes.push(home);
  return home;
}
const configDir = () => path.join(home, 'config');
const sessionFile = () => path.join(configDir(), 'sessions.json');
const readFile = () => JSON.parse(fs.readFileSync(sessionFile(), 'utf8')) as { version: number; sessions: Record<string, StoredSession> };
const stored = () => readFile().sessions[url];

/** No --token, no CUSTOS_TOKEN, a data dir without the bootstrap token: only a stored session can work. */
const env = (extra: Record<string, string> = {}) => ({
  CUSTOS_SERVER: url, CUSTOS_CONFIG_DIR: configDir(), CUSTOS_DATA_DIR: path.join(home, 'no-data'), HOME: home, CUSTOS_NO_BROWSER: '1', ...extra,
});
const custos = (args: string[], extra: Record<string, string> = {}): Promise<CliResult> => runCustos(args, env(extra));

/** A CLI process we talk to while it runs: its stderr is watched for what it prints. */
function start(args: string[], extra: Record<string, string> = {}) {
  const child = spawn(process.execPath, [CUSTOS_BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env(extra) }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => { stderr += d; for (const w of waiters.splice(0)) w(); });
  const done = new Promise<CliResult>((resolve) => child.once('exit', (code) => { children.delete(child); for (const w of waiters.splice(0)) w(); resolve({ code: code ?? -1, stdout, stderr }); }));
  return {
    done,
    /** The first match of `pattern` on stderr, once printed; fails if the CLI exits first. */
    async waitFor(pattern: RegExp): Promise<RegExpExecArray> {
      for (;;) {
        const m = pattern.exec(stderr);
        if (m) return m;
        if (child.exitCode !== null) throw new Error(`custos exited ${child.exitCode} before printing ${pattern}: ${stderr}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

/** custos login in the browser, the person's part done over HTTP; the CLI's result. */
async function browserLogin(token = h.adminToken) {
  const cli = start(['login', '--no-browser']);
  const [, authorizationUrl] = await cli.waitFor(/Open this URL to sign in: (\S+)\n/);
  const back = await authorizeInBrowser(createHttpBrowser(url), authorizationUrl!, token);
  const answer = await fetch(back);
  const result = await cli.done;
  return { authorizationUrl: new URL(authorizationUrl!), back, answer: { status: answer.status, body: await answer.text() }, result };
}

describe('custos login (browser, loopback redirect)', () => {
  it('signs in through the browser and stores the session 0600; whoami then needs no token', async () => {
    freshHome();
    const { authorizationUrl, back, answer, result } = await browserLogin();
    // What the CLI asked for: the built-in public client, its loopback redirect, PKCE S256, state, the server as audience.
    const q = authorizationUrl.searchParams;
    expect(authorizationUrl.origin + authorizationUrl.pathname).toBe(`${url}/oauth/authorize`);
    expect([q.get('client_id'), q.get('response_type'), q.get('code_challenge_method'), q.getAll('resource')]).toEqual(['custos-cli', 'code', 'S256', [h.cp.issuer()]]);
    expect(q.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(q.get('state')?.length).toBeGreaterThanOrEqual(32);
    expect(back.origin + back.pathname).toBe(q.get('redirect_uri'));
    expect(back.searchParams.get('state')).toBe(q.get('state'));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/Signed in; you can close this tab|you can close this tab/);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`signed in to ${url} as bootstrap-admin (admin) with the browser; session stored in ${sessionFile()}\n`);
    expect(result.stdout + result.stderr).not.toMatch(/custos_rt_|eyJ/);

    expect(fs.statSync(sessionFile()).mode & 0o777).toBe(0o600);
    expect(fs.statSync(configDir()).mode & 0o777).toBe(0o700);
    const s = stored()!;
    expect(s).toMatchObject({ server: url, client_id: 'custos-cli', method: 'browser' });
    expect(s.refresh_token).toMatch(/^custos_rt_/);
    expect(Date.parse(s.expires_at)).toBeGreaterThan(Date.now() + 60_000);

    const me = await custos(['whoami']);
    expect(me.code, me.stderr).toBe(0);
    expect(me.stdout).toMatch(new RegExp(`^bootstrap-admin \\(admin\\) via session \\(signed in with the browser at ${s.signed_in_at.replace(/[.]/g, '\\.')} using an operator token; access token \\S+ expires ${s.expires_at.replace(/[.]/g, '\\.')}, renewed until the session ends\\)\n$`));
    const json = JSON.parse((await custos(['--json', 'whoami'])).stdout);
    expect(json).toMatchObject({ role: 'admin', principal_name: 'bootstrap-admin', credential_source: 'session', session: { method: 'browser', file: sessionFile() } });
    // The session's access token acts with the person's role.
    expect((await custos(['principal', 'list'])).code).toBe(0);
    // The loopback listener is gone once the login finished.
    await expect(fetch(back)).rejects.toThrow();
  });

  it('an operator token given by flag or environment wins over the stored session', async () => {
    const auditor = await h.operator('login-auditor', 'auditor');
    expect((await custos(['whoami'], { CUSTOS_TOKEN: auditor })).stdout).toMatch(/^login-auditor \(auditor\) via operator token \S+, from CUSTOS_TOKEN\n$/);
    expect((await custos(['--token', auditor, 'whoami'])).stdout).toMatch(/, from --token\n$/);
    expect((await custos(['whoami'])).stdout).toMatch(/^bootstrap-admin \(admin\) via session/);
  });

  it('renews an access token about to expire, saving the rotated refresh token', async () => {
    const before = stored()!;
    const file = readFile();
    file.sessions[url]!.expires_at = new Date(Date.now() - 1000).toISOString();
    fs.writeFileSync(sessionFile(), JSON.stringify(file));
    const r = await custos(['whoami']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^bootstrap-admin \(admin\) via session/);
    const after = stored()!;
    expect(after.refresh_token).toMatch(/^custos_rt_/);
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(after.access_token).not.toBe(before.access_token);
    expect(Date.parse(after.expires_at)).toBeGreaterThan(Date.now() + 60_000);
    expect(after.signed_in_at).toBe(before.signed_in_at);
    expect(fs.statSync(sessionFile()).mode & 0o777).toBe(0o600);
  });

  it('several commands at once with an expiring token renew once between them; the session survives (no refresh-token reuse)', async () => {
    const before = stored()!;
    const file = readFile();
    file.sessions[url]!.expires_at = new Date(Date.now() - 1000).toISOString();
    fs.writeFileSync(sessionFile(), JSON.stringify(file));
    const results = await Promise.all([1, 2, 3, 4].map(() => custos(['whoami'])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const after = stored()!;
    expect(after.refresh_token).not.toBe(before.refresh_token);
    // Had two of them presented the same refresh token, the server would have ended the session as a reuse.
    expect((await custos(['principal', 'list'])).code).toBe(0);
    const reuse = await h.call('GET', '/v1/audit/events?type=signin.session.reuse_detected');
    expect(reuse.body.items).toEqual([]);
    expect(fs.readdirSync(configDir()).sort()).toEqual(['sessions.json']);
  });

  it('renews once when the server refuses an access token our clock thinks is live', async () => {
    const before = stored()!;
    h.clock.advance(16 * 60_000); // past the 15-minute access token on the server's clock only
    const r = await custos(['whoami']);
    expect(r.code, r.stderr).toBe(0);
    expect(stored()!.refresh_token).not.toBe(before.refresh_token);
  });

  it('logout revokes the session at the server and removes it; its refresh token is refused afterwards', async () => {
    const { refresh_token } = stored()!;
    const out = await custos(['logout']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(new RegExp(`^signed out of ${url}: the session \\(signed in with the browser at \\S+\\) was revoked at the server and removed from ${sessionFile()}\n$`));
    expect(readFile().sessions).toEqual({});
    const refused = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: refresh_token!, client_id: 'custos-cli' });
    expect(refused.body.error).toBe('invalid_grant');
    const none = await custos(['whoami']);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/run custos login/);
    const again = await custos(['logout']);
    expect([again.code, again.stdout]).toEqual([0, `not signed in to ${url} (no session in ${sessionFile()}); nothing to do\n`]);
  });

  it('a session ended at the server (an operator revoked it) is removed and the user told to sign in again', async () => {
    freshHome();
    expect((await browserLogin()).result.code).toBe(0);
    // The newest live session is the one just started (the earlier ones were logged out).
    const live = (await h.call('GET', '/v1/sessions?active=true')).body.items as Array<{ id: string; created_at: string }>;
    const sessionId = live.sort((a, b) => b.created_at.localeCompare(a.created_at))[0]!.id;
    const revoked = await h.call('POST', `/v1/sessions/${sessionId}/revoke`, { reason: 'test' });
    expect(revoked.status, revoked.text).toBe(200);
    const r = await custos(['principal', 'list']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`^custos: your session at ${url} has ended \\(.*\\); sign in again: custos login\n$`));
    expect(readFile().sessions).toEqual({});
  });

  it('a denied consent fails the login (exit 1) and stores nothing; the browser is told', async () => {
    freshHome();
    const cli = start(['login', '--no-browser']);
    const [, authorizationUrl] = await cli.waitFor(/Open this URL to sign in: (\S+)\n/);
    const back = await authorizeInBrowser(createHttpBrowser(url), authorizationUrl!, h.adminToken, 'deny');
    expect(back.searchParams.get('error')).toBe('access_denied');
    const answer = await fetch(back);
    expect(answer.status).toBe(400);
    expect(await answer.text()).toMatch(/see your terminal/);
    const result = await cli.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/custos: sign-in did not complete \(access_denied/);
    expect(fs.existsSync(sessionFile())).toBe(false);
  });

  it('--resource adds audiences to the server itself; one the server does not know ends the sign-in with invalid_target', async () => {
    freshHome();
    const cli = start(['login', '--no-browser', '--resource', 'https://unregistered.example/api']);
    const [, authorizationUrl] = await cli.waitFor(/Open this URL to sign in: (\S+)\n/);
    expect(new URL(authorizationUrl!).searchParams.getAll('resource')).toEqual([h.cp.issuer(), 'https://unregistered.example/api']);
    const b = createHttpBrowser(url);
    const signin = (await b.get(authorizationUrl!)).location!;
    const page = await b.get(signin);
    const consent = await b.get((await b.post(`${signin}/token`, { csrf: csrfOf(page.body), token: h.adminToken })).location!);
    expect(consent.status).toBe(303);
    const back = new URL(consent.location!);
    expect(back.searchParams.get('error')).toBe('invalid_target');
    expect((await fetch(back)).status).toBe(400);
    const result = await cli.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/custos: sign-in did not complete \(invalid_target: resource 'https:\/\/unregistered\.example\/api' is not registered\)/);
    expect(fs.existsSync(sessionFile())).toBe(false);
  });

  it('a callback with another state is refused by the CLI and ends the login', async () => {
    freshHome();
    const cli = start(['login', '--no-browser']);
    const [, authorizationUrl] = await cli.waitFor(/Open this URL to sign in: (\S+)\n/);
    const back = await authorizeInBrowser(createHttpBrowser(url), authorizationUrl!, h.adminToken);
    back.searchParams.set('state', 'forged');
    expect((await fetch(back)).status).toBe(400);
    const result = await cli.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/state/);
    expect(fs.existsSync(sessionFile())).toBe(false);
  });

  it('refuses a server URL that is not the issuer the server names (openid-client\'s discovery check), saying which to use', async () => {
    freshHome();
    const r = await custos(['--server', url.replace('127.0.0.1', 'localhost'), 'login']);
    expect([r.code, r.stderr]).toEqual([2, `custos: ${url.replace('127.0.0.1', 'localhost')} names itself ${h.cp.issuer()} (its issuer); use --server with that URL\n`]);
    const plain = await custos(['--server', 'http://custos.example.com', 'login']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/use https/);
    // Something that is not a Custos server (no RFC 8414 metadata).
    const other = http.createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      const r2 = await custos(['--server', otherUrl, 'login']);
      expect([r2.code, r2.stderr]).toEqual([3, `custos: ${otherUrl} answered the metadata request unexpectedly (HTTP 404); is it a Custos server, and up to date?\n`]);
    } finally {
      other.close();
    }
  });

  it('gives up when no browser comes back in time (CUSTOS_LOGIN_TIMEOUT_MS)', async () => {
    freshHome();
    const r = await custos(['login', '--no-browser'], { CUSTOS_LOGIN_TIMEOUT_MS: '300' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Open this URL to sign in: http/);
    expect(r.stderr).toMatch(/custos: no answer from the browser within 300 ms; run custos login again\n$/);
    expect((await custos(['login'], { CUSTOS_LOGIN_TIMEOUT_MS: 'soon' })).code).toBe(2);
  });

  it('refuses a session file others can read, and a corrupt one, with one line and exit 3', async () => {
    freshHome();
    expect((await browserLogin()).result.code).toBe(0);
    fs.chmodSync(sessionFile(), 0o644);
    const open = await custos(['whoami']);
    expect(open.code).toBe(3);
    expect(open.stderr).toBe(`custos: ${sessionFile()} is readable or writable by others (mode 0644); its tokens may have been seen: chmod 600 ${sessionFile()}, then custos logout (revokes that session), then custos login\n`);
    fs.chmodSync(sessionFile(), 0o600);
    fs.writeFileSync(sessionFile(), '{ not json');
    const corrupt = await custos(['whoami']);
    expect([corrupt.code, corrupt.stderr]).toEqual([3, `custos: ${sessionFile()} is not valid JSON; remove it and run custos login again\n`]);
    // An operator token does not need the file at all.
    expect((await custos(['whoami'], { CUSTOS_TOKEN: h.adminToken })).code).toBe(0);
  });
});

describe('custos login --device', () => {
  it('prints a user code; the person enters it at /device, signs in and consents; the CLI finishes by itself', async () => {
    freshHome();
    const cli = start(['login', '--device']);
    const [, verification, userCode] = await cli.waitFor(/To sign in, open (\S+) on any device and enter the code (\S+)\n/);
    expect(verification).toBe(`${url}/device`);
    expect(userCode).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    const done = await approveDevice(createHttpBrowser(url), userCode!.toLowerCase(), h.adminToken);
    expect(done.status).toBe(200);
    expect(done.body).toMatch(/Device signed in/);
    // The server's clock is manual: move it past the poll interval so the CLI's next poll is not slow_down.
    h.clock.advance(6000);
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`signed in to ${url} as bootstrap-admin (admin) with a device code; session stored in ${sessionFile()}\n`);
    expect(stored()).toMatchObject({ method: 'device', client_id: 'custos-cli' });
    const me = await custos(['whoami']);
    expect(me.stdout).toMatch(/^bootstrap-admin \(admin\) via session \(signed in with a device code at /);
    const out = await custos(['logout']);
    expect(out.stdout).toMatch(/signed in with a device code/);
  });
});
