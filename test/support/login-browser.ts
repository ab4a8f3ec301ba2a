import { csrfOf } from './signin.js';

// A person's browser over real HTTP (fetch), for flows where another process is involved — the CLI's loopback
// listener: a cookie jar (cookies are not port-bound, as in browsers), manual redirects, the CSRF token read off each
// page's form. test/support/signin.ts does the same over inject when only the control plane takes part.

export interface HttpResponse { status: number; headers: Headers; body: string; location: string | undefined; url: string }

export function createHttpBrowser(base: string) {
  const jar = new Map<string, string>();
  function remember(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }
  async function request(method: 'GET' | 'POST', url: string, form?: Record<string, string>): Promise<HttpResponse> {
    const target = new URL(url, base).href;
    const res = await fetch(target, {
      method, redirect: 'manual',
      headers: {
        ...(jar.size ? { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(target).origin } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    remember(res.headers);
    const location = res.headers.get('location') ?? undefined;
    return { status: res.status, headers: res.headers, body: await res.text(), location: location ? new URL(location, target).href : undefined, url: target };
  }
  return {
    jar,
    get: (url: string) => request('GET', url),
    post: (url: string, form: Record<string, string>) => request('POST', url, form),
  };
}
export type HttpBrowser = ReturnType<typeof createHttpBrowser>;

function expectStatus(res: HttpResponse, status: number, step: string): HttpResponse {
  if (res.status !== status) throw new Error(`${step}: HTTP ${res.status} (wanted ${status}) ${res.location ?? ''} ${res.body.slice(0, 400)}`);
  return res;
}

/** From a /signin/<id> page: sign in with an operator token, then allow or deny on the consent page; the last answer. */
export async function signInAndDecide(b: HttpBrowser, signinUrl: string, token: string, decision: 'approve' | 'deny' = 'approve'): Promise<HttpResponse> {
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
export async function approveDevice(b: HttpBrowser, userCode: string, token: string, decision: 'approve' | 'deny' = 'approve'): Promise<HttpResponse> {
  const entry = expectStatus(await b.get('/device'), 200, 'device page');
  const entered = expectStatus(await b.post('/device', { csrf: csrfOf(entry.body), user_code: userCode }), 303, 'user code');
  return signInAndDecide(b, entered.location!, token, decision);
}
