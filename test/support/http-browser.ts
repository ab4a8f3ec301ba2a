import { csrfOf, rememberSetCookies } from './signin.js';

// A person's browser over real HTTP (fetch), for a control plane in another process or flows where another
// process takes part (the CLI's loopback listener): a cookie jar (cookies are not port-bound, as in browsers),
// redirects never followed (the test looks at each Location, as sent), and on every form post the Origin a
// browser sends for a same-origin form. test/support/signin.ts does the same over inject for in-process apps.

export interface HttpPage { status: number; headers: Headers; body: string; location: string | undefined }

export function createHttpBrowser(base: string) {
  const jar = new Map<string, string>();
  async function request(method: 'GET' | 'POST', url: string, form?: Record<string, string>): Promise<HttpPage> {
    const target = new URL(url, base);
    const headers: Record<string, string> = { accept: 'text/html' };
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) Object.assign(headers, { 'content-type': 'application/x-www-form-urlencoded', origin: target.origin });
    const res = await fetch(target, { method, headers, body: form ? new URLSearchParams(form).toString() : undefined, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
    rememberSetCookies(jar, res.headers.getSetCookie());
    return { status: res.status, headers: res.headers, body: await res.text(), location: res.headers.get('location') ?? undefined };
  }
  return {
    jar,
    get: (url: string) => request('GET', url),
    post: (url: string, form: Record<string, string>) => request('POST', url, form),
  };
}
export type HttpBrowser = ReturnType<typeof createHttpBrowser>;

function expectStatus(res: HttpPage, status: number, step: string): HttpPage {
  if (res.status !== status) throw new Error(`${step}: HTTP ${res.status} (wanted ${status}) ${res.location ?? ''} ${res.body.slice(0, 400)}`);
  return res;
}

/** From a /signin/<id> page: sign in with an operator token, then allow or deny on the consent page; the last answer. */
export async function signInAndDecide(b: HttpBrowser, signinUrl: string, token: string, decision: 'approve' | 'deny' = 'approve'): Promise<HttpPage> {
  const page = expectStatus(await b.get(signinUrl), 200, 'sign-in page');
  const signedIn = expectStatus(await b.post(`${signinUrl}/token`, { csrf: csrfOf(page.body), token }), 303, 'operator token sign-in');
  const consent = expectStatus(await b.get(signedIn.location!), 200, 'consent page');
  return b.post(`${signinUrl}/consent`, { csrf: csrfOf(consent.body), decision });
}

/** The authorization URL a client printed → sign in with an operator token → consent; returns the client's redirect. */
export async function authorizeInBrowser(b: HttpBrowser, authorizationUrl: string, token: string, decision: 'approve' | 'deny' = 'approve'): Promise<URL> {
  const start = expectStatus(await b.get(authorizationUrl), 303, 'authorization endpoint');
  const decided = expectStatus(await signInAndDecide(b, start.location!, token, decision), 303, 'consent');
  return new URL(decided.location!);
}

/** The device page: enter the user code, sign in, consent; returns the final page. */
export async function approveDevice(b: HttpBrowser, userCode: string, token: string, decision: 'approve' | 'deny' = 'approve'): Promise<HttpPage> {
  const entry = expectStatus(await b.get('/device'), 200, 'device page');
  const entered = expectStatus(await b.post('/device', { csrf: csrfOf(entry.body), user_code: userCode }), 303, 'user code');
  return signInAndDecide(b, entered.location!, token, decision);
}
