import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { ROUTE_CASE_SETTINGS, buildWorld, writeRouteRequests, type Req, type World } from '../operators/route-cases.js';
import { rowCounts } from './store-probe.js';

// Bad input on every body-taking route: a 4xx problem+json with a stable code and nothing written.
// Then fast-check fuzzes the principal and resource bodies: never a 5xx, never a partial write.


function wrongTypeFor(value: unknown): unknown {
  if (typeof value === 'string') return 12345;
  if (typeof value === 'number' || typeof value === 'boolean') return 'not-a-number';
  if (Array.isArray(value)) return 'not-an-array';
  if (value === null) return 42;
  return ['not', 'an', 'object'];
}

for (const backend of BACKENDS) {
  describe(`bad input on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let w: World;
    let writes: Array<{ key: string; req: Req; bodyLimit: number }>;

    const send = async (req: Req, payload: string | Buffer | undefined, contentType = 'application/json') => {
      const res = await h.cp.http.inject({
        method: req.method as 'POST', url: req.url,
        headers: { authorization: `Bearer ${h.adminToken}`, ...(payload !== undefined ? { 'content-type': contentType } : {}) },
        payload,
      });
      let body: { code?: unknown } = {};
      try { body = res.json(); } catch { /* asserted below */ }
      return { status: res.statusCode, code: body.code, type: String(res.headers['content-type']) };
    };

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend, { settings: ROUTE_CASE_SETTINGS });
      w = await buildWorld(h);
      writes = await writeRouteRequests(w);
      await h.call('GET', '/v1/whoami');
    });
    afterAll(async () => { await h?.close(); });

    it.runIf(enabled)('covers every body-taking route of the registry', () => {
      const keys = writes.map((x) => x.key);
      for (const k of ['POST /v1/principals', 'PATCH /v1/principals/{ref}', 'POST /v1/principals/{ref}/{action}', 'POST /v1/principals/{ref}/review',
        'POST /v1/teams', 'PATCH /v1/teams/{ref}', 'PUT /v1/teams/{ref}/members/{principal}', 'POST /v1/resources', 'PATCH /v1/resources/{ref}',
        'POST /v1/operator-tokens', 'POST /v1/operator-tokens/{id}/revoke']) expect(keys).toContain(k);
    });

    it.runIf(enabled)('unknown fields, wrong types, oversized strings, huge bodies, invalid JSON and wrong media types are refused and write nothing', async () => {
      const before = await rowCounts(h);
      const failures: string[] = [];
      const expectProblem = (label: string, res: { status: number; code: unknown; type: string }, status: number, code: string) => {
        if (res.status !== status || res.code !== code || !res.type.includes('application/problem+json')) {
          failures.push(`${label}: wanted ${status} ${code}, got ${res.status} ${String(res.code)} (${res.type})`);
        }
      };
      for (const { key, req, bodyLimit } of writes) {
        const body = req.body as Record<string, unknown>;
        expectProblem(`${key} unknown field`, await send(req, JSON.stringify({ ...body, zz_unknown: 1 })), 400, 'validation_failed');
        expectProblem(`${key} array body`, await send(req, '[]'), 400, 'validation_failed');
        expectProblem(`${key} string body`, await send(req, '"x"'), 400, 'validation_failed');
        for (const [field, value] of Object.entries(body)) {
          expectProblem(`${key} ${field} wrong type`, await send(req, JSON.stringify({ ...body, [field]: wrongTypeFor(value) })), 400, 'validation_failed');
          if (typeof value === 'string') {
            expectProblem(`${key} ${field} oversized`, await send(req, JSON.stringify({ ...body, [field]: 'x'.repeat(70_000) })), 400, 'validation_failed');
          }
        }
        // Every optional text field the schema declares, too long.
        for (const field of ['reason', 'description', 'display_name']) {
          if (field in body) continue;
          const res = await send(req, JSON.stringify({ ...body, [field]: 'x'.repeat(70_000) }));
          expectProblem(`${key} ${field} oversized`, res, 400, 'validation_failed');
        }
        expectProblem(`${key} over its body limit`, await send(req, JSON.stringify({ ...body, reason: 'x'.repeat(bodyLimit + 10) })), 413, 'body_too_large');
        expectProblem(`${key} invalid JSON`, await send(req, '{"name": '), 400, 'malformed_json');
        expectProblem(`${key} JSON with trailing garbage`, await send(req, JSON.stringify(body) + '}'), 400, 'malformed_json');
        expectProblem(`${key} prototype pollution`, await send(req, '{"__proto__": {"admin": true}}'), 400, 'malformed_json');
        expectProblem(`${key} xml`, await send(req, '<principal/>', 'application/xml'), 415, 'unsupported_media_type');
        expectProblem(`${key} form`, await send(req, 'name=x', 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type');
      }
      expect(failures).toEqual([]);
      expect(await rowCounts(h)).toEqual(before);
    });

    it.runIf(enabled)('oversized and malformed path references are refused with a problem, not a crash', async () => {
      const before = await rowCounts(h);
      for (const url of ['/v1/principals/' + 'a'.repeat(200), '/v1/teams/' + 'a'.repeat(200), '/v1/resources/' + 'a'.repeat(200), '/v1/operator-tokens/NOT-AN-ID/revoke', '/v1/principals/%00/suspend']) {
        const res = await send({ method: url.endsWith('revoke') ? 'POST' : 'PATCH', url }, '{}');
        expect(res.status, url).toBeGreaterThanOrEqual(400);
        expect(res.status, url).toBeLessThan(500);
        expect(typeof res.code, url).toBe('string');
        expect(res.type).toContain('application/problem+json');
      }
      for (const q of ['limit=0', 'limit=501', 'limit=abc', 'kind=robot', 'orphaned=yes', 'cursor=' + 'a'.repeat(500), 'format=xml', 'zz=1']) {
        const res = await h.call('GET', `/v1/principals?${q}`);
        expect([res.status, res.body.code], q).toEqual([400, 'validation_failed']);
      }
      expect(await rowCounts(h)).toEqual(before);
    });

    // The router's own errors (a parameter over maxParamLength) come back as problem+json too.
    it.runIf(enabled)('a path reference over 200 characters gets a problem+json answer', async () => {
      const res = await send({ method: 'PATCH', url: '/v1/principals/' + 'a'.repeat(201) }, '{}');
      expect(res.type).toContain('application/problem+json');
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(typeof res.code).toBe('string');
    });

    // Only JSON is parsed: text/plain is not quietly handed to the schema.
    it.runIf(enabled)('a text/plain body is refused as an unsupported media type', async () => {
      const req = writes.find((x) => x.key === 'POST /v1/principals')!.req;
      const res = await send(req, JSON.stringify(req.body), 'text/plain');
      expect([res.status, res.code]).toEqual([415, 'unsupported_media_type']);
    });

    describe('fuzzing', () => {
      const counts = async () => {
        const q = async (t: 'principals' | 'resources' | 'audit_events' | 'principal_labels' | 'resource_labels') =>
          Number((await sql<{ n: string | number }>`select count(*) as n from ${sql.table(t)}`.execute(h.cp.db.kysely)).rows[0]!.n);
        return { principals: await q('principals'), resources: await q('resources'), audit: await q('audit_events'), labels: (await q('principal_labels')) + (await q('resource_labels')) };
      };
      const some = <T>(valid: fc.Arbitrary<T>) => fc.option(fc.oneof({ weight: 4, arbitrary: valid as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: fc.anything() }), { nil: undefined });
      const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,14}[a-z0-9]$/);
      const word = fc.stringMatching(/^[a-z:._/*-]{1,12}$/);
      const labels = fc.dictionary(fc.oneof(fc.stringMatching(/^[a-z._/-]{1,10}$/), fc.string()), fc.string({ maxLength: 20 }), { maxKeys: 4 });
      const common = {
        display_name: some(fc.string({ maxLength: 210 })),
        description: some(fc.string({ maxLength: 50 })),
        purposes: some(fc.array(word, { maxLength: 3 })),
        labels: some(labels),
        risk_tier: some(fc.constantFrom('low', 'medium', 'high', 'critical', 'extreme')),
        reason: some(fc.string({ maxLength: 30 })),
      };
      const delegates = some(fc.array(fc.constantFrom('fz-agent', 'fz-owner', 'ghost', 'kind:agent', 'kind:robot', 'kind:'), { maxLength: 3 }));
      const uri = fc.constantFrom('https://fz.example.com', 'https://fz.example.com/#x', 'urn:fz:one', 'urn:custos:resource:fz-root', 'ftp://fz.example.com', '');
      const server = fc.constantFrom('fz-agent', 'fz-owner', 'ghost');
      const principalCreate = fc.record({
        name: some(label), kind: some(fc.constantFrom('human', 'agent', 'service_account', 'workload', 'training_job', 'pipeline', 'robot')),
        owner: some(fc.constantFrom('fz-owner', 'ghost', 'op-admin', 'fz-agent')), owner_team: some(fc.constantFrom('fz-team', 'nope')),
        status: some(fc.constantFrom('proposed', 'active', 'suspended')), team: some(fc.constantFrom('fz-team', 'nope')),
        scopes: some(fc.array(word, { maxLength: 3 })), autonomy: some(fc.constantFrom('assistive', 'supervised', 'autonomous', 'rogue')),
        environment: some(fc.constantFrom('dev', 'staging', 'prod', 'moon')), data_ceiling: some(fc.constantFrom('public', 'restricted', 'secret')),
        external_ids: some(fc.record({ spiffe_id: some(fc.constantFrom('spiffe://example.org/a', 'http://x')) })),
        may_delegate_to: delegates,
        ...common,
      }, { requiredKeys: [] });
      const principalUpdate = fc.record({
        owner: some(fc.constantFrom('fz-owner', 'ghost', null)), owner_team: some(fc.constantFrom('fz-team', null)), team: some(fc.constantFrom('fz-team', null)),
        scopes: some(fc.array(word, { maxLength: 3 })), review_due_at: some(fc.constantFrom('2030-01-01T00:00:00Z', 'tomorrow')),
        expected_version: some(fc.integer({ min: -1, max: 3 })), data_ceiling: some(fc.constantFrom('public', null, 'secret')),
        may_delegate_to: delegates,
        ...common,
      }, { requiredKeys: [] });
      const resourceCreate = fc.record({
        name: some(label), kind: some(fc.constantFrom('model', 'dataset', 'training_pipeline', 'endpoint', 'tool', 'vector_index', 'spaceship')),
        owner: some(fc.constantFrom('fz-owner', 'ghost')), owner_team: some(fc.constantFrom('fz-team', 'nope')),
        classification: some(fc.constantFrom('public', 'internal', 'top-secret')), parent: some(fc.constantFrom('fz-root', 'nope')),
        uri: some(uri), server: some(server),
        ...common,
      }, { requiredKeys: [] });
      const resourceUpdate = fc.record({
        owner: some(fc.constantFrom('fz-owner', 'ghost')), owner_team: some(fc.constantFrom('fz-team')), parent: some(fc.constantFrom('fz-root', 'fz-child', null, 'nope')),
        classification: some(fc.constantFrom('public', 'restricted', 'top-secret')), uri: some(fc.oneof(uri, fc.constant(null))),
        server: some(fc.oneof(server, fc.constant(null))), ...common,
      }, { requiredKeys: [] });

      beforeAll(async () => {
        if (!enabled) return;
        await w.admin('POST', '/v1/principals', { name: 'fz-owner', kind: 'human' });
        await w.admin('POST', '/v1/teams', { name: 'fz-team' });
        await w.admin('POST', '/v1/principals', { name: 'fz-agent', kind: 'agent', owner: 'fz-owner', status: 'active' });
        await w.admin('POST', '/v1/principals', { name: 'fz-target', kind: 'agent', owner: 'fz-owner', status: 'active' });
        await w.admin('POST', '/v1/resources', { name: 'fz-root', kind: 'model', owner: 'fz-owner' });
        await w.admin('POST', '/v1/resources', { name: 'fz-child', kind: 'dataset', owner: 'fz-owner', parent: 'fz-root' });
      });

      const property = (method: string, url: string, arb: fc.Arbitrary<Record<string, unknown>>, table: 'principals' | 'resources') =>
        fc.asyncProperty(arb, async (body) => {
          const before = await counts();
          const res = await h.call(method, url, body);
          const after = await counts();
          expect(res.status, `${res.status} ${res.text}`).toBeLessThan(500);
          expect(res.headers['content-type']).toMatch(res.status >= 400 ? /application\/problem\+json/ : /application\/json/);
          if (res.status >= 400) {
            expect(typeof res.body.code).toBe('string');
            expect(after).toEqual(before);
            return;
          }
          const created = method === 'POST' ? 1 : 0;
          expect(after[table] - before[table]).toBe(created);
          // A change and its audit event are written together; an update that changes nothing writes neither.
          expect(after.audit - before.audit).toBeLessThanOrEqual(1);
          if (created) expect(after.audit - before.audit).toBe(1);
        });

      it.runIf(enabled)('principal create bodies: never a 5xx, never a partial write', async () => {
        await fc.assert(property('POST', '/v1/principals', principalCreate, 'principals'), { numRuns: 100 });
      });
      it.runIf(enabled)('principal update bodies: never a 5xx, never a partial write', async () => {
        await fc.assert(property('PATCH', '/v1/principals/fz-target', principalUpdate, 'principals'), { numRuns: 100 });
      });
      it.runIf(enabled)('resource create bodies: never a 5xx, never a partial write', async () => {
        await fc.assert(property('POST', '/v1/resources', resourceCreate, 'resources'), { numRuns: 100 });
      });
      it.runIf(enabled)('resource update bodies: never a 5xx, never a partial write', async () => {
        await fc.assert(property('PATCH', '/v1/resources/fz-child', resourceUpdate, 'resources'), { numRuns: 100 });
      });
    });
  });
}
