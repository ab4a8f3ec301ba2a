import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { ENTITY_TABLES, eventsSince, lastSeq, rowCounts } from '../identity/store-probe.js';
import { formatCustosToken } from '../../src/platform/credential-format.js';
import { ROUTE_CASES, ROUTE_CASE_SETTINGS, buildWorld, routesFromOpenApi, type Req, type World } from './route-cases.js';

// No route is open: without a valid token every non-public route answers 401 and writes nothing.

async function raw(h: Harness, req: Req, authorization: string | undefined) {
  const res = await h.cp.http.inject({
    method: req.method as 'GET', url: req.url,
    headers: { ...(authorization !== undefined ? { authorization } : {}), ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    payload: req.body === undefined ? undefined : JSON.stringify(req.body),
  });
  return { status: res.statusCode, body: res.json() as { code?: string }, type: String(res.headers['content-type']) };
}

for (const backend of BACKENDS) {
  describe(`authentication on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let w: World;
    let requests: Array<{ key: string; req: Req }>;
    const bad: Record<string, string | undefined> = {};

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend, { settings: ROUTE_CASE_SETTINGS });
      w = await buildWorld(h);
      const routes = routesFromOpenApi((await h.call('GET', '/openapi.json', undefined, null)).body);
      requests = [];
      for (const r of routes) {
        const c = ROUTE_CASES[r.key];
        if (r.isPublic || !r.key.includes(' /v1/') || !c) continue;
        // Requests that would succeed for an admin, so only the credential decides the answer.
        requests.push({ key: r.key, req: await c.build(w, 'admin') });
      }
      // Expired: a one-minute token, then the clock moves past it.
      const expiring = await w.admin('POST', '/v1/operator-tokens', { principal: w.names.auditor, role: 'auditor', ttl_seconds: 60 });
      const revoked = await w.admin('POST', '/v1/operator-tokens', { principal: w.names.auditor, role: 'auditor', ttl_seconds: 3600 });
      await w.admin('POST', `/v1/operator-tokens/${revoked.id}/revoke`, { reason: 'test' });
      await w.admin('POST', '/v1/principals', { name: 'suspended-op', kind: 'human' });
      const suspended = await w.admin('POST', '/v1/operator-tokens', { principal: 'suspended-op', role: 'admin', ttl_seconds: 3600 });
      expect((await h.call('GET', '/v1/whoami', undefined, suspended.token)).status).toBe(200);
      await w.admin('POST', '/v1/principals/suspended-op/suspend', { reason: 'test' });
      h.clock.advance(61_000);
      // Unknown: well-formed with a valid checksum shape but never issued; and a real token with one character changed.
      const forged = formatCustosToken('op', 'a'.repeat(16), 'A'.repeat(32));
      // The id of a live token with another secret and a correct checksum: only the stored hash tells them apart.
      const wrongSecret = formatCustosToken('op', expiring.id, 'B'.repeat(32));
      const flipped = w.tokens.admin.slice(0, 30) + (w.tokens.admin[30] === 'A' ? 'B' : 'A') + w.tokens.admin.slice(31);
      Object.assign(bad, {
        'no header': undefined,
        'empty bearer': 'Bearer ',
        'basic scheme': `Basic ${Buffer.from('admin:admin').toString('base64')}`,
        'bearer without space': `Bearer${w.tokens.admin}`,
        'two tokens': `Bearer ${w.tokens.admin} ${w.tokens.admin}`,
        'garbage': 'Bearer not-a-custos-token',
        'forged id': `Bearer ${forged}`,
        'wrong secret': `Bearer ${wrongSecret}`,
        'one character changed': `Bearer ${flipped}`,
        'expired': `Bearer ${expiring.token}`,
        'revoked': `Bearer ${revoked.token}`,
        'suspended human': `Bearer ${suspended.token}`,
      });
    });
    afterAll(async () => { await h?.close(); });

    it.runIf(enabled)('checks at least the registry, team, resource and token routes', () => {
      const keys = requests.map((r) => r.key);
      for (const k of ['POST /v1/principals', 'PATCH /v1/principals/{ref}', 'POST /v1/operator-tokens', 'DELETE /v1/resources/{ref}']) expect(keys).toContain(k);
    });

    it.runIf(enabled)('every non-public route refuses a missing, malformed, unknown, expired, revoked or suspended credential with 401', async () => {
      const counts = await rowCounts(h);
      const failures: string[] = [];
      for (const [label, header] of Object.entries(bad)) {
        for (const { key, req } of requests) {
          const res = await raw(h, req, header);
          if (res.status !== 401 || res.body.code !== 'unauthenticated' || !res.type.includes('application/problem+json')) {
            failures.push(`${label} ${key}: ${res.status} ${res.body.code}`);
          }
        }
      }
      expect(failures).toEqual([]);
      const after = await rowCounts(h);
      for (const t of ENTITY_TABLES) expect(after[t], t).toBe(counts[t]);
    });

    it.runIf(enabled)('refusals say why without echoing the token, and each is audited as auth.failed with a keyed hash, never the token', async () => {
      const seq = await lastSeq(h);
      const cases: Array<[string, string]> = [
        ['expired', 'token_expired'], ['revoked', 'token_revoked'], ['suspended human', 'principal_not_active'],
        ['forged id', 'unknown_token'], ['wrong secret', 'unknown_token'], ['garbage', 'malformed_token'], ['one character changed', 'malformed_token'],
      ];
      for (const [label, reason] of cases) {
        const header = bad[label]!;
        const res = await h.cp.http.inject({ method: 'GET', url: '/v1/whoami', headers: { authorization: header } });
        expect(res.statusCode).toBe(401);
        expect(res.body).not.toContain(header.slice(7));
        const [event] = (await eventsSince(h, await lastSeq(h) - 1));
        expect(event, label).toMatchObject({ type: 'auth.failed', outcome: 'failure', reasons: [reason] });
        expect(JSON.stringify(event)).not.toContain(header.slice(7));
        expect(event!.details.token_hmac).toMatch(/^[0-9a-f]{64}$/);
      }
      expect((await eventsSince(h, seq)).length).toBe(cases.length);
    });

    it.runIf(enabled)('a token works until the second it expires', async () => {
      const t = await w.admin('POST', '/v1/operator-tokens', { principal: w.names.auditor, role: 'auditor', ttl_seconds: 120 });
      h.clock.advance(119_000);
      expect((await h.call('GET', '/v1/whoami', undefined, t.token)).status).toBe(200);
      h.clock.advance(1_000);
      expect((await h.call('GET', '/v1/whoami', undefined, t.token)).status).toBe(401);
    });

    it.runIf(enabled)('suspending a human stops their tokens at once and reactivation restores them; a decommissioned human never returns', async () => {
      await w.admin('POST', '/v1/principals', { name: 'temp-op', kind: 'human' });
      const t = await w.admin('POST', '/v1/operator-tokens', { principal: 'temp-op', role: 'security', ttl_seconds: 3600 });
      expect((await h.call('GET', '/v1/whoami', undefined, t.token)).body.principal_name).toBe('temp-op');
      await w.admin('POST', '/v1/principals/temp-op/suspend', {});
      expect((await h.call('GET', '/v1/whoami', undefined, t.token)).status).toBe(401);
      await w.admin('POST', '/v1/principals/temp-op/activate', {});
      expect((await h.call('GET', '/v1/whoami', undefined, t.token)).status).toBe(200);
      await w.admin('POST', '/v1/principals/temp-op/decommission', {});
      expect((await h.call('GET', '/v1/whoami', undefined, t.token)).status).toBe(401);
      // Tokens are minted only for active humans.
      expect((await h.call('POST', '/v1/operator-tokens', { principal: 'temp-op', role: 'auditor' })).body.code).toBe('principal_not_active');
      await w.admin('POST', '/v1/principals', { name: 'bot-x', kind: 'agent', owner: w.names.owner });
      expect((await h.call('POST', '/v1/operator-tokens', { principal: 'bot-x', role: 'auditor' })).body.code).toBe('principal_not_human');
      expect((await h.call('POST', '/v1/operator-tokens', { principal: 'nobody', role: 'auditor' })).body.code).toBe('principal_not_found');
    });

    it.runIf(enabled)('minted tokens default to a 12-hour expiry and carry their role', async () => {
      const t = await w.admin('POST', '/v1/operator-tokens', { principal: w.names.security, role: 'security' });
      expect(Date.parse(t.expires_at) - Date.parse(t.created_at)).toBe(12 * 3600 * 1000);
      expect((await h.call('GET', '/v1/whoami', undefined, t.token)).body.role).toBe('security');
    });

    // Authentication runs before the body is parsed or validated: an anonymous caller learns nothing about the schema.
    it.runIf(enabled)('every non-public route without a token answers 401 before looking at a missing, malformed or oversized body', async () => {
      for (const { key, req } of requests) {
        expect((await raw(h, { method: req.method, url: req.url }, undefined)).status, `${key} no body`).toBe(401);
        if (req.method === 'GET' || req.method === 'DELETE') continue;
        const res = await h.cp.http.inject({ method: req.method as 'POST', url: req.url, headers: { 'content-type': 'application/json' }, payload: '{"broken' });
        expect(res.statusCode, `${key} malformed`).toBe(401);
      }
    });
  });
}
