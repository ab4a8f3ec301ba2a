// A minimal browser over real HTTP (fetch), for a control plane in another process: a cookie jar for one server,
// redirects never followed (the test looks at each Location), and on every form post the Origin header a browser
// sends for a same-origin form. The inject-based one in signin.ts is for in-process apps.

export interface HttpPage { status: number; headers: Headers; body: string; location: string | undefined }

export function createHttpBrowser(base: string) {
  const origin = new URL(base).origin;
  const jar = new Map<string, string>();
  const remember = (res: Response) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  };
  async function request(method: 'GET' | 'POST', url: string, form?: Record<string, string>): Promise<HttpPage> {
    const target = new URL(url, base);
    if (target.origin !== origin) throw new Error(`this browser only talks to ${origin}, not ${target.origin}`);
    const headers: Record<string, string> = { accept: 'text/html' };
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) Object.assign(headers, { 'content-type': 'application/x-www-form-urlencoded', origin });
    const res = await fetch(target, { method, headers, body: form ? new URLSearchParams(form).toString() : undefined, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
    remember(res);
    return { status: res.status, headers: res.headers, body: await res.text(), location: res.headers.get('location') ?? undefined };
  }
  return {
    jar,
    get: (url: string) => request('GET', url),
    post: (url: string, form: Record<string, string>) => request('POST', url, form),
  };
}
export type HttpBrowser = ReturnType<typeof createHttpBrowser>;
