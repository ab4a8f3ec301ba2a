import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { ROUTE_CASE_SETTINGS, buildWorld, writeRouteRequests, type Req, type World } from '../operators/route-cases.js';
import { rowCounts } from '../identity/store-probe.js';

// Text no store or audit event may hold, on every route that takes input; and the HTTP layer's own refusals
// (oversized headers, missing credentials, the docs page) in problem+json with the headers a browser needs.

const LONE = ['\udfff', '\ud800', 'a\udc00b', 'x\ud83d'];
/** Routes that carry foreign text on purpose (a scan report names files as found): controls allowed, surrogates not. */
const FOREIGN_TEXT_ROUTES = new Set(['POST /v1/findings/report']);
const CONTROL = ['\u001b[31mred', 'evil\u202etxt.exe', 'a\u0000b', 'bell\u0007', 'c1\u009b', 'iso\u2066late'];

/** Every string-valued field of a body (top level and one level down), as paths. */
function stringFields(body: unknown, prefix: string[] = []): string[][] {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return [];
  const out: string[][] = [];
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === 'string') out.push([...prefix, k]);
    else if (v && typeof v === 'object' && !Array.isArray(v) && prefix.length === 0) out.push(...stringFields(v, [k]));
  }
  return out;
}

function withField(body: Record<string, unknown>, path: string[], value: string): Record<string, unknown> {
  const copy = structuredClone(body);
  let at: Record<string, unknown> = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string, unknown>;
  at[path[path.length - 1]!] = value;
  return copy;
}

for (const backend of BACKENDS) {
  describe(`hostile input on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let w: World;
    let writes: Array<{ key: string; req: Req }>;

    const send = async (req: Req, body: unknown) => {
      const res = await h.cp.http.inject({
        method: req.method as 'POST', url: req.url,
        headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      return { status: res.statusCode, body: res.json() as { code?: string; detail?: string } };
    };

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend, { settings: ROUTE_CASE_SETTINGS });
      w = await buildWorld(h);
      writes = (await writeRouteRequests(w, { skipReadOnly: true })).filter((x) => Object.keys(x.req.body as object).length > 0);
    });
    afterAll(async () => { await h?.close(); });

    it.runIf(enabled)('a lone surrogate in any text field is a 400 naming the field; nothing written; the audit writer unharmed', async () => {
      const before = await rowCounts(h);
      const failures: string[] = [];
      let tried = 0;
      for (const { key, req } of writes) {
        for (const field of stringFields(req.body)) {
          for (const bad of LONE) {
            tried++;
            const res = await send(req, withField(req.body as Record<string, unknown>, field, bad));
            if (res.status !== 400 || res.body.code !== 'validation_failed' || !res.body.detail?.includes(`body/${field.join('/')}`)) {
              failures.push(`${key} ${field.join('.')}: ${res.status} ${res.body.code} ${res.body.detail}`);
            }
          }
        }
      }
      expect(tried).toBeGreaterThan(20);
      expect(failures).toEqual([]);
      expect(await rowCounts(h)).toEqual(before);
      const ready = await h.call('GET', '/readyz', undefined, null);
      expect([ready.status, ready.body.status]).toEqual([200, 'ready']);
      // A later write still goes through and is recorded.
      expect((await h.call('POST', '/v1/principals', { name: w.uniq('after-surrogates'), kind: 'human' })).status).toBe(201);
    });

    it.runIf(enabled)('a lone surrogate in a PATCH is refused, not stored as U+FFFD', async () => {
      const name = w.uniq('patched');
      expect((await h.call('POST', '/v1/principals', { name, kind: 'human', display_name: 'Before' })).status).toBe(201);
      const res = await h.call('PATCH', `/v1/principals/${name}`, { display_name: 'x\udfff' });
      expect([res.status, res.body.code]).toEqual([400, 'validation_failed']);
      expect((await h.call('GET', `/v1/principals/${name}`)).body.display_name).toBe('Before');
    });

    it.runIf(enabled)('control characters, ESC sequences and bidi overrides in names and display names are refused', async () => {
      const before = await rowCounts(h);
      for (const bad of CONTROL) {
        for (const body of [{ name: 'ok-name', kind: 'human', display_name: bad }, { name: 'ok-name', kind: 'human', description: bad }]) {
          const res = await h.call('POST', '/v1/principals', body);
          expect([res.status, res.body.code], JSON.stringify(bad)).toEqual([400, 'validation_failed']);
        }
        const team = await h.call('POST', '/v1/teams', { name: 'ok-team', display_name: bad });
        expect([team.status, team.body.code]).toEqual([400, 'validation_failed']);
      }
      // Keys count as text too, and so do query strings.
      expect((await h.call('POST', '/v1/principals', { name: 'ok', kind: 'human', labels: { 'a\u202eb': 'x' } })).status).toBe(400);
      expect((await h.call('GET', `/v1/principals?name_prefix=${encodeURIComponent('\u001b[2J')}`)).status).toBe(400);
      // Ordinary multi-line text and non-Latin scripts are fine.
      expect((await h.call('POST', '/v1/principals', { name: w.uniq('multi'), kind: 'human', display_name: 'Zoë 山田', description: 'line one\nline two\ttab' })).status).toBe(201);
      const after = await rowCounts(h);
      expect(after.principals).toBe(before.principals! + 1);
    });

    it.runIf(enabled)('fuzz: strings with surrogates or controls anywhere in a body never cause a 5xx or a partial write', async () => {
      const nasty = fc.oneof(
        fc.constantFrom(...LONE, ...CONTROL),
        fc.tuple(fc.string({ maxLength: 8 }), fc.constantFrom(...LONE, ...CONTROL), fc.string({ maxLength: 8 })).map(([a, b, c]) => a + b + c),
      );
      const candidates = writes.filter((x) => stringFields(x.req.body).length > 0);
      await fc.assert(fc.asyncProperty(fc.nat({ max: candidates.length - 1 }), fc.nat(), nasty, async (i, j, value) => {
        const { key, req } = candidates[i]!;
        if (FOREIGN_TEXT_ROUTES.has(key) && !LONE.some((l) => value.includes(l))) return;
        const fields = stringFields(req.body);
        const before = await rowCounts(h);
        const res = await send(req, withField(req.body as Record<string, unknown>, fields[j % fields.length]!, value));
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(await rowCounts(h)).toEqual(before);
      }), { numRuns: 60 });
    });

    it.runIf(enabled)('401 carries a Bearer challenge; a refused token says invalid_token', async () => {
      const none = await h.call('GET', '/v1/principals', undefined, null);
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toMatch(/^Bearer realm="custos", DPoP algs="[A-Za-z0-9 ]+"$/);
      const bad = await h.call('GET', '/v1/principals', undefined, 'custos_op_aaaaaaaaaaaaaaaa_' + 'A'.repeat(32) + '_000000');
      expect(bad.status).toBe(401);
      expect(bad.headers['www-authenticate']).toBe('Bearer realm="custos", error="invalid_token"');
    });

    it.runIf(enabled)('/docs sends a Content-Security-Policy, nosniff and X-Frame-Options', async () => {
      const res = await h.cp.http.inject({ method: 'GET', url: '/docs/' });
      expect(res.statusCode).toBe(200);
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toMatch(/default-src 'self'/);
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(csp).toMatch(/object-src 'none'/);
      expect(csp).not.toMatch(/upgrade-insecure-requests/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      const api = await h.call('GET', '/v1/whoami');
      expect(api.headers['x-content-type-options']).toBe('nosniff');
    });
  });
}

describe('oversized headers over a real socket', () => {
  let h: Harness;
  let url: URL;
  beforeAll(async () => {
    h = await startHarness('sqlite');
    url = new URL(await h.cp.listen());
  });
  afterAll(async () => { await h?.close(); });

  it('431 is problem+json with a stable code', async () => {
    const res = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, path: '/v1/principals', headers: { 'x-big': 'a'.repeat(64 * 1024) } }, (r) => {
        let body = '';
        r.on('data', (c) => { body += c; });
        r.on('end', () => resolve({ status: r.statusCode ?? 0, type: String(r.headers['content-type']), body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(res.status).toBe(431);
    expect(res.type).toContain('application/problem+json');
    expect(JSON.parse(res.body)).toMatchObject({ status: 431, code: 'headers_too_large' });
  });
});
