import crypto from 'node:crypto';
import type { Harness } from './harness.js';

// A minimal browser for the sign-in pages over inject: a cookie jar, manual redirects, and the CSRF token read
// off each page's form — what a person's browser does, without one (the Chromium tests drive the real thing).

export interface Response { status: number; headers: Record<string, unknown>; body: string; location: string | undefined }

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = crypto.randomBytes(32).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
}

/** A cookie jar's update from Set-Cookie lines (an expired or emptied cookie is dropped). */
export function rememberSetCookies(jar: Map<string, string>, lines: readonly string[]): void {
  for (const line of lines) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq).trim();
    const value = pair!.slice(eq + 1).trim();
    if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') jar.delete(name);
    else jar.set(name, value);
  }
}

export function createBrowser(h: Harness, opts: { origin?: string } = {}) {
  const jar = new Map<string, string>();
  const remember = (setCookie: unknown) => rememberSetCookies(jar, ([] as string[]).concat((setCookie as string | string[] | undefined) ?? []));
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  async function request(method: 'GET' | 'POST', url: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    const target = url.startsWith('http') ? new URL(url).pathname + new URL(url).search : url;
    const res = await h.cp.http.inject({
      method, url: target,
      headers: {
        ...(jar.size ? { cookie: cookieHeader() } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded', ...(opts.origin ? { origin: opts.origin } : {}) } : {}),
        ...headers,
      },
      payload: form ? new URLSearchParams(form).toString() : undefined,
    });
    remember(res.headers['set-cookie']);
    return { status: res.statusCode, headers: res.headers, body: res.body, location: res.headers.location as string | undefined };
  }
  return {
    jar,
    get: (url: string, headers?: Record<string, string>) => request('GET', url, undefined, headers),
    post: (url: string, form: Record<string, string>, headers?: Record<string, string>) => request('POST', url, form, headers),
  };
}
export type Browser = ReturnType<typeof createBrowser>;

export function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error(`no CSRF token on the page: ${html.slice(0, 300)}`);
  return m[1]!;
}

export interface AuthorizeOptions {
  clientId?: string;
  redirectUri?: string;
  state?: string;
  scope?: string;
  resource?: string[];
  challenge?: string;
  method?: string | null;
  extra?: Record<string, string>;
}

export function authorizeUrl(o: AuthorizeOptions & { challenge: string }): string {
  const q = new URLSearchParams({
    response_type: 'code', client_id: o.clientId ?? 'custos-cli', redirect_uri: o.redirectUri ?? 'http://127.0.0.1:53682/callback',
    state: o.state ?? 'state-1', code_challenge: o.challenge, ...(o.method === null ? {} : { code_challenge_method: o.method ?? 'S256' }), ...o.extra,
  });
  if (o.scope !== undefined) q.set('scope', o.scope);
  for (const r of o.resource ?? []) q.append('resource', r);
  return `/oauth/authorize?${q}`;
}

/** Authorize → sign in with an operator token → approve; returns the client's redirect (code, state, iss). */
export async function signInWithOperatorToken(h: Harness, browser: Browser, token: string, o: AuthorizeOptions & { challenge: string }): Promise<URL> {
  const start = await browser.get(authorizeUrl(o));
  if (start.status !== 303 || !start.location?.startsWith('/signin/')) throw new Error(`authorize: ${start.status} ${start.location} ${start.body.slice(0, 500)}`);
  const page = await browser.get(start.location);
  const signedIn = await browser.post(`${start.location}/token`, { csrf: csrfOf(page.body), token });
  if (signedIn.status !== 303) throw new Error(`operator token sign-in: ${signedIn.status} ${signedIn.body.slice(0, 500)}`);
  const consent = await browser.get(signedIn.location!);
  if (consent.status !== 200) throw new Error(`consent page: ${consent.status} ${consent.location} ${consent.body.slice(0, 500)}`);
  const approved = await browser.post(`${start.location}/consent`, { csrf: csrfOf(consent.body), decision: 'approve' });
  if (approved.status !== 303) throw new Error(`consent: ${approved.status} ${approved.body.slice(0, 500)}`);
  return new URL(approved.location!);
}

export async function tokenRequest(h: Harness, form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await h.cp.http.inject({
    method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: new URLSearchParams(form).toString(),
  });
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, any> };
}
