import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

// A real OpenID Provider (panva's oidc-provider, v9) playing the organisation's identity provider in tests: Custos
// signs people in through it as a relying party, exactly as it would through Okta or Keycloak. It listens on
// 127.0.0.1 (plain http, which Custos allows for loopback issuers only) with:
// - the users and clients given; PKCE required for every client; refresh tokens for every client allowed the
//   refresh_token grant (all of them, by default), rotated at each use;
// - a `groups` claim (granted with the openid scope) in the ID token and in userinfo, or, after
//   setGroupsInIdToken(false), in userinfo only (as providers that keep ID tokens small do);
// - the RFC 9207 `iss` authorization response parameter (oidc-provider v9 always sends it and advertises
//   authorization_response_iss_parameter_supported);
// - its own minimal interaction instead of oidc-provider's development pages: a login form at /interaction/:uid
//   (labelled inputs, so a browser test fills them by label) checking login (sub or email) and password, then
//   consent granted automatically for whatever was asked. A disabled user cannot sign in, and their refresh
//   tokens stop working (oidc-provider finds no account: invalid_grant).
// signInAtIdp() drives that flow over HTTP with a cookie jar, the way a browser would, and stops at the redirect
// back to the relying party (code, state, iss) without following it.
//
// oidc-provider ships no types; the little of its API used here is typed below.

export interface TestIdpUser {
  sub: string;
  email: string;
  name: string;
  groups: string[];
  password: string;
  /** Default true; null: the claim is not sent at all (as some IdPs do). */
  emailVerified?: boolean | null;
}

export interface TestIdpClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
  /** Default client_secret_basic. */
  token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
  /** private_key_jwt: the client's public keys. */
  jwks?: { keys: JWK[] };
  grant_types?: string[];
}

export interface TestIdp {
  issuer: string;
  /** The person's groups from now on (the next sign-in, refresh or userinfo call sees them). */
  setGroups(sub: string, groups: string[]): void;
  /** The person can no longer sign in, and their refresh tokens are refused (invalid_grant). */
  disable(sub: string): void;
  /** Registers another client (e.g. one whose private_key_jwt key Custos generated after the IdP started). */
  addClient(client: TestIdpClient): Promise<void>;
  /** false: groups only in userinfo, not in the ID token. */
  setGroupsInIdToken(on: boolean): void;
  close(): Promise<void>;
}

interface Interaction {
  uid: string;
  prompt: { name: string; details: { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> } };
  params: Record<string, unknown> & { client_id: string };
  session?: { accountId?: string };
  grantId?: string;
}
interface Grant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(indicator: string, scope: string): void;
  save(): Promise<string>;
}
interface ProviderInstance {
  callback(): (req: http.IncomingMessage, res: http.ServerResponse) => void;
  interactionDetails(req: http.IncomingMessage, res: http.ServerResponse): Promise<Interaction>;
  interactionFinished(req: http.IncomingMessage, res: http.ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  Grant: { new (init: { accountId: string; clientId: string }): Grant; find(id: string): Promise<Grant | undefined> };
  on(event: string, listener: (...args: unknown[]) => void): void;
}
type ProviderClass = new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;

// oidc-provider has no type declarations: imported through a non-literal specifier, typed by the interfaces above.
const OIDC_PROVIDER = 'oidc-provider';
async function loadProvider(): Promise<ProviderClass> {
  return ((await import(OIDC_PROVIDER)) as { default: ProviderClass }).default;
}

/** oidc-provider's storage contract, kept in one Map per IdP (its bundled memory adapter warns and is shared). */
function memoryAdapter() {
  const store = new Map<string, Record<string, unknown>>();
  const secondary = new Map<string, string>();
  const grants = new Map<string, Set<string>>();
  return class MemoryAdapter {
    constructor(readonly model: string) {}
    key(id: string) { return `${this.model}:${id}`; }
    async upsert(id: string, payload: Record<string, unknown>) {
      const key = this.key(id);
      store.set(key, payload);
      if (this.model === 'Session' && typeof payload.uid === 'string') secondary.set(`uid:${payload.uid}`, id);
      if (typeof payload.userCode === 'string') secondary.set(`userCode:${payload.userCode}`, id);
      if (typeof payload.grantId === 'string') {
        const set = grants.get(payload.grantId) ?? new Set<string>();
        set.add(key);
        grants.set(payload.grantId, set);
      }
    }
    async find(id: string) { return store.get(this.key(id)); }
    async findByUid(uid: string) { const id = secondary.get(`uid:${uid}`); return id === undefined ? undefined : this.find(id); }
    async findByUserCode(code: string) { const id = secondary.get(`userCode:${code}`); return id === undefined ? undefined : this.find(id); }
    async consume(id: string) { const p = store.get(this.key(id)); if (p) p.consumed = Math.floor(Date.now() / 1000); }
    async destroy(id: string) { store.delete(this.key(id)); }
    async revokeByGrantId(grantId: string) {
      for (const key of grants.get(grantId) ?? []) store.delete(key);
      grants.delete(grantId);
    }
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid: string, error?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test identity provider: sign in</title></head>
<body>
<h1>Sign in to the test identity provider</h1>
${error ? `<p role="alert">${escapeHtml(error)}</p>\n` : ''}<form method="post" action="/interaction/${encodeURIComponent(uid)}/login">
<p><label for="login">Login</label> <input id="login" name="login" autocomplete="username" required></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Sign in</button></p>
</form>
</body></html>
`;
}

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startTestIdp(opts: { users: TestIdpUser[]; clients: TestIdpClient[]; groupsInIdToken?: boolean }): Promise<TestIdp> {
  const Provider = await loadProvider();
  const users = new Map(opts.users.map((u) => [u.sub, { ...u, groups: [...u.groups] }]));
  const disabled = new Set<string>();
  let groupsInIdToken = opts.groupsInIdToken ?? true;
  const Adapter = memoryAdapter();

  let handle: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | undefined;
  const server = http.createServer((req, res) => handle ? handle(req, res) : res.writeHead(503).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const signing = await generateKeyPair('RS256', { extractable: true });
  const signingJwk = { ...(await exportJWK(signing.privateKey)), kid: 'test-idp-rs256', alg: 'RS256', use: 'sig' };
  const clientConfig = (c: TestIdpClient) => ({
    client_id: c.client_id,
    ...(c.client_secret !== undefined ? { client_secret: c.client_secret } : {}),
    redirect_uris: c.redirect_uris,
    token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_basic',
    grant_types: c.grant_types ?? ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    ...(c.jwks ? { jwks: c.jwks } : {}),
  });

  const provider = new Provider(issuer, {
    adapter: Adapter,
    clients: opts.clients.map(clientConfig),
    jwks: { keys: [signingJwk] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub', 'groups'], email: ['email', 'email_verified'], profile: ['name'] },
    // Claims granted through scopes go into the ID token too (not only userinfo).
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 86_400, RefreshToken: 86_400 },
    clientBasedCORS: () => false,
    findAccount: async (_ctx: unknown, sub: string) => {
      const user = users.get(sub);
      if (!user || disabled.has(sub)) return undefined;
      return {
        accountId: sub,
        claims: async (use: string) => ({
          sub,
          email: user.email,
          ...(user.emailVerified === null ? {} : { email_verified: user.emailVerified ?? true }),
          name: user.name,
          ...(use === 'id_token' && !groupsInIdToken ? {} : { groups: [...user.groups] }),
        }),
      };
    },
  });
  const callback = provider.callback();

  async function interaction(req: http.IncomingMessage, res: http.ServerResponse, uid: string, submit: boolean) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return void res.writeHead(400, { 'content-type': 'text/plain' }).end('interaction mismatch');
    const html = (status: number, body: string) => void res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);

    if (details.prompt.name === 'login') {
      if (!submit || req.method !== 'POST') return html(200, loginPage(uid));
      const form = await readForm(req);
      const login = form.get('login') ?? '';
      const user = [...users.values()].find((u) => u.sub === login || u.email === login);
      if (!user || user.password !== form.get('password')) return html(200, loginPage(uid, 'Unknown login or wrong password.'));
      if (disabled.has(user.sub)) return html(200, loginPage(uid, 'This account is disabled.'));
      return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
    }
    if (details.prompt.name === 'consent') {
      // Consent is given for whatever was asked: the test IdP has no consent page.
      const accountId = details.session?.accountId;
      if (!accountId) return void res.writeHead(400, { 'content-type': 'text/plain' }).end('no session');
      const grant = (details.grantId ? await provider.Grant.find(details.grantId) : undefined)
        ?? new provider.Grant({ accountId, clientId: details.params.client_id });
      const missing = details.prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    return void res.writeHead(400, { 'content-type': 'text/plain' }).end(`unsupported prompt ${details.prompt.name}`);
  }

  handle = (req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(path);
    if (!m) return callback(req, res);
    interaction(req, res, m[1]!, m[2] !== undefined).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`interaction failed: ${(error as Error).message}`);
    });
  };

  return {
    issuer,
    setGroups(sub, groups) {
      const user = users.get(sub);
      if (!user) throw new Error(`no test IdP user '${sub}'`);
      user.groups = [...groups];
    },
    disable(sub) {
      if (!users.has(sub)) throw new Error(`no test IdP user '${sub}'`);
      disabled.add(sub);
    },
    async addClient(client) {
      await new Adapter('Client').upsert(client.client_id, clientConfig(client));
    },
    setGroupsInIdToken(on) { groupsInIdToken = on; },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A cookie jar for one browser-like sign-in: names and values only (oidc-provider scopes its cookies by path). */
function cookieJar() {
  const cookies = new Map<string, string>();
  return {
    header: () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    take(res: Response) {
      for (const line of res.headers.getSetCookie()) {
        const [pair, ...attrs] = line.split(';');
        const eq = pair!.indexOf('=');
        if (eq <= 0) continue;
        const name = pair!.slice(0, eq).trim();
        const value = pair!.slice(eq + 1).trim();
        const expired = attrs.some((a) => {
          const [k, v = ''] = a.split('=').map((s) => s.trim());
          return (k!.toLowerCase() === 'max-age' && Number(v) <= 0) || (k!.toLowerCase() === 'expires' && Date.parse(v) <= Date.now());
        });
        if (expired || value === '') cookies.delete(name); else cookies.set(name, value);
      }
    },
  };
}

/**
 * Signs in at the test IdP as a browser would: follows its redirects (keeping its cookies), fills the login form
 * with `creds`, and returns the URL the IdP finally redirects to on another origin — the relying party's callback
 * with code, state and iss (or an error) — without requesting it. A refused login throws.
 */
export async function signInAtIdp(authorizationUrl: string, creds: { login: string; password: string }): Promise<URL> {
  const jar = cookieJar();
  let url = new URL(authorizationUrl);
  const origin = url.origin;
  let post: URLSearchParams | undefined;
  let submitted = false;
  for (let hop = 0; hop < 20; hop += 1) {
    const res = await fetch(url, {
      method: post ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie: jar.header(), ...(post ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(post ? { body: post.toString() } : {}),
    });
    jar.take(res);
    post = undefined;
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      const next = new URL(location, url);
      if (next.origin !== origin) return next;
      url = next;
      continue;
    }
    const text = await res.text();
    const form = /<form[^>]*action="([^"]+)"/.exec(text);
    if (res.status === 200 && form && url.pathname.startsWith('/interaction/')) {
      if (submitted) throw new Error(`the test IdP refused the login: ${/role="alert">([^<]*)</.exec(text)?.[1] ?? 'no reason shown'}`);
      url = new URL(form[1]!.replace(/&amp;/g, '&'), url);
      post = new URLSearchParams({ login: creds.login, password: creds.password });
      submitted = true;
      continue;
    }
    throw new Error(`unexpected answer from the test IdP at ${url.pathname}: HTTP ${res.status} ${text.slice(0, 300)}`);
  }
  throw new Error('the test IdP redirected more than 20 times');
}
