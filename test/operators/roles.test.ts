import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { ENTITY_TABLES, rowCounts } from '../identity/store-probe.js';
import { PUBLIC_V1_ROUTES, ROLES, ROUTE_CASES, ROUTE_CASE_SETTINGS, buildWorld, routesFromOpenApi, type Req, type Role, type World } from './route-cases.js';

// Every route the app publishes, called with every operator role: no role exceeds itself.

async function send(h: Harness, req: Req, token: string | null, stream: boolean): Promise<{ status: number; text: string; body: any }> {
  if (!stream) return h.call(req.method, req.url, req.body, token);
  // Server-sent events never end on their own: read the status over a real socket, then hang up.
  const address = h.cp.http.server.listening ? `http://127.0.0.1:${(h.cp.http.server.address() as { port: number }).port}` : await h.cp.http.listen({ host: '127.0.0.1', port: 0 });
  const abort = new AbortController();
  const res = await fetch(address + req.url, { method: req.method, headers: token ? { authorization: `Bearer ${token}` } : {}, signal: abort.signal });
  const text = res.status === 200 ? '' : await res.text();
  abort.abort();
  return { status: res.status, text, body: text ? JSON.parse(text) : undefined };
}

for (const backend of BACKENDS) {
  describe(`operator roles on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let w: World;
    let routes: Array<{ key: string; isPublic: boolean }>;
    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend, { settings: ROUTE_CASE_SETTINGS });
      w = await buildWorld(h);
      // First use of a token is a sign-in that writes; do it now so later counts see only the call under test.
      for (const role of ROLES) expect((await h.call('GET', '/v1/whoami', undefined, w.tokens[role])).body.role).toBe(role);
      routes = routesFromOpenApi((await h.call('GET', '/openapi.json', undefined, null)).body);
    });
    afterAll(async () => { await h?.close(); });

    it.runIf(enabled)('has a case for every /v1 route the app publishes, and no case for a route that is gone', () => {
      const published = routes.filter((r) => / \/(access\/)?v1\//.test(r.key));
      expect(published.length).toBeGreaterThan(15);
      const uncovered = published.filter((r) => !r.isPublic && !ROUTE_CASES[r.key]).map((r) => r.key);
      expect(uncovered, 'routes without a role-matrix case').toEqual([]);
      const stale = Object.keys(ROUTE_CASES).filter((k) => !published.some((r) => r.key === k));
      expect(stale, 'cases for routes the app no longer has').toEqual([]);
      const publicRoutes = published.filter((r) => r.isPublic).map((r) => r.key);
      expect(publicRoutes.every((k) => PUBLIC_V1_ROUTES.has(k)), `unexpected public routes: ${publicRoutes.join(', ')}`).toBe(true);
      expect(publicRoutes.every((k) => k.startsWith('GET ')), 'no write route is public').toBe(true);
    });

    it.runIf(enabled)('the expectations encode the role rules: auditors write nothing, only admins mint, owners manage no teams', () => {
      for (const [key, c] of Object.entries(ROUTE_CASES)) {
        if (!key.startsWith('GET ') && !c.readOnly) expect(c.expect.auditor, key).toBe('forbidden');
        if (key.startsWith('GET ')) expect(c.expect.admin, key).not.toBe('forbidden');
      }
      expect(ROUTE_CASES['POST /v1/operator-tokens']!.expect).toEqual({ admin: 'ok', security: 'forbidden', auditor: 'forbidden', owner: 'forbidden' });
      for (const k of Object.keys(ROUTE_CASES).filter((k) => k.includes('/v1/teams') && !k.startsWith('GET '))) {
        expect(ROUTE_CASES[k]!.expect.owner, k).toBe('forbidden');
      }
    });

    for (const role of ROLES) {
      it.runIf(enabled)(`role ${role}: every route answers as the matrix says, and a refused call writes nothing`, async () => {
        const failures: string[] = [];
        for (const { key, isPublic } of routes) {
          const c = ROUTE_CASES[key];
          if (!c || isPublic) continue;
          const req = await c.build(w, role);
          const before = await rowCounts(h);
          const res = await send(h, req, w.tokens[role], c.stream ?? false);
          const want = c.expect[role];
          const ok = want === 'ok' ? res.status >= 200 && res.status < 300
            : want === 'allowed' ? ![401, 403].includes(res.status) && res.status < 500
              : res.status === 403 && res.body?.code === 'forbidden';
          if (!ok) failures.push(`${key} as ${role}: wanted ${want}, got ${res.status} ${res.text.slice(0, 160)}`);
          if (want === 'forbidden') {
            const after = await rowCounts(h);
            for (const t of ENTITY_TABLES) if (after[t] !== before[t]) failures.push(`${key} as ${role}: refused but ${t} changed`);
          }
        }
        expect(failures).toEqual([]);
      });
    }

    it.runIf(enabled)('an owner cannot touch a principal owned by someone else, by any route', async () => {
      const foreign = w.uniq('foreign');
      await w.admin('POST', '/v1/principals', { name: foreign, kind: 'agent', owner: 'bootstrap-admin', status: 'active' });
      const t = w.tokens.owner;
      const calls: Array<[string, string, unknown?]> = [
        ['GET', `/v1/principals/${foreign}`],
        ['PATCH', `/v1/principals/${foreign}`, { display_name: 'mine now' }],
        ['POST', `/v1/principals/${foreign}/suspend`, {}],
        ['POST', `/v1/principals/${foreign}/decommission`, {}],
        ['POST', `/v1/principals/${foreign}/review`, {}],
      ];
      for (const [method, url, body] of calls) {
        const r = await h.call(method, url, body, t);
        // Existence is information: what an owner may not see answers 404, like what does not exist.
        expect(r.status, `${method} ${url}`).toBe(404);
      }
      const list = await h.call('GET', '/v1/principals?limit=500', undefined, t);
      expect(list.body.items.map((p: { name: string }) => p.name)).not.toContain(foreign);
      const shown = await h.call('GET', `/v1/principals/${foreign}`);
      expect(shown.body.status).toBe('active');
      expect(shown.body.version).toBe(1);
    });

    it.runIf(enabled)('an owner cannot register humans, activate, register for someone else, or mint tokens', async () => {
      const t = w.tokens.owner;
      expect((await h.call('POST', '/v1/principals', { name: w.uniq('h'), kind: 'human' }, t)).status).toBe(403);
      expect((await h.call('POST', '/v1/principals', { name: w.uniq('a'), kind: 'agent', owner: w.names.owner, status: 'active' }, t)).status).toBe(403);
      expect((await h.call('POST', '/v1/principals', { name: w.uniq('a'), kind: 'agent', owner: 'bootstrap-admin' }, t)).status).toBe(403);
      const proposed = await h.call('POST', '/v1/principals', { name: w.uniq('a'), kind: 'agent', owner: w.names.owner }, t);
      expect(proposed.status).toBe(201);
      expect(proposed.body.status).toBe('proposed');
      const act = await h.call('POST', `/v1/principals/${proposed.body.name}/activate`, {}, t);
      expect(act.status).toBe(403);
      for (const role of ROLES) {
        expect((await h.call('POST', '/v1/operator-tokens', { principal: w.names.owner, role }, t)).status).toBe(403);
        expect((await h.call('POST', '/v1/operator-tokens', { principal: w.names.owner, role }, w.tokens.security)).status).toBe(403);
      }
    });

    it.runIf(enabled)('an owner cannot widen scopes or purposes, raise the data ceiling, postpone the review or reassign ownership', async () => {
      const name = w.uniq('guarded');
      await w.admin('POST', '/v1/principals', {
        // Proposed: a high risk agent becomes active only through an approved registration request.
        name, kind: 'agent', owner: w.names.owner, scopes: ['model:invoke', 'data:read'], purposes: ['support'],
        data_ceiling: 'internal', autonomy: 'supervised', environment: 'staging', risk_tier: 'high',
      });
      const t = w.tokens.owner;
      const refused: Array<Record<string, unknown>> = [
        { scopes: ['model:invoke', 'model:train'] },
        { purposes: ['support', 'marketing'] },
        { data_ceiling: 'restricted' },
        { data_ceiling: null },
        { autonomy: 'autonomous' },
        { environment: 'prod' },
        { risk_tier: 'low' },
        { review_due_at: '2099-01-01T00:00:00.000Z' },
        { external_ids: { spiffe_id: 'spiffe://example.org/anything' } },
        { owner: 'bootstrap-admin' },
        { owner_team: w.ownerTeam },
        { owner: null },
      ];
      for (const body of refused) {
        const r = await h.call('PATCH', `/v1/principals/${name}`, body, t);
        expect(r.status, JSON.stringify(body)).toBe(403);
        expect(r.body.fields, JSON.stringify(body)).toEqual(Object.keys(body));
      }
      expect((await h.call('GET', `/v1/principals/${name}`)).body.version).toBe(1);
      // Narrowing stays within an owner's remit.
      const narrowed = await h.call('PATCH', `/v1/principals/${name}`, {
        scopes: ['model:invoke'], purposes: [], data_ceiling: 'public', autonomy: 'assistive', environment: 'dev', risk_tier: 'critical',
      }, t);
      expect(narrowed.status).toBe(200);
      expect(narrowed.body).toMatchObject({ scopes: ['model:invoke'], purposes: [], data_ceiling: 'public', autonomy: 'assistive', environment: 'dev', risk_tier: 'critical' });
    });

    it.runIf(enabled)('security cannot mint tokens but can revoke them; auditors can read tokens but never their secrets', async () => {
      const minted = await w.admin('POST', '/v1/operator-tokens', { principal: w.names.auditor, role: 'auditor', ttl_seconds: 600 });
      const listed = await h.call('GET', '/v1/operator-tokens?limit=500', undefined, w.tokens.auditor);
      expect(listed.status).toBe(200);
      expect(listed.text).not.toContain(minted.token);
      expect(listed.body.items.every((i: Record<string, unknown>) => !('token' in i) && !('secret_hash' in i))).toBe(true);
      const revoked = await h.call('POST', `/v1/operator-tokens/${minted.id}/revoke`, { reason: 'test' }, w.tokens.security);
      expect(revoked.status).toBe(200);
      expect((await h.call('GET', '/v1/whoami', undefined, minted.token)).status).toBe(401);
    });
  });
}
