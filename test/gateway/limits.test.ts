import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLimitsPart, type LimitCall, type LimitEnforcer, type ReserveOutcome } from '../../src/gateway/limits/index.js';
import { newId } from '../../src/platform/ids.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { eventsSince, lastSeq } from '../identity/store-probe.js';

// Limits and budgets end to end on both stores: /v1/limits through the real app (set, change, clear one value,
// list, show with usage, remove; each audited with before and after), bad input refused with problem+json and
// nothing written, and the enforcer the gateway reserves through (`cp.gateway.limits`) against the stored limits:
// every limit on the principal, its teams and the resource must pass; a change applies to the very next reserve;
// a concurrent burst cannot overrun a budget; a refusal says which limit and when to retry; an unsettled
// reservation gives its tokens back; a store that cannot be read refuses by throwing, never by allowing.

const MINUTE = 60_000;

/**
 * The limits part as the gateway module exposes it (`cp.gateway.limits`). Until the module composes it, it is built
 * here exactly as the module would, from the control plane's store, audit writer and clock, with its routes on the
 * control plane's app (before the app's first request, so they run behind the same management pipeline).
 */
function limitsPartOf(h: Harness): LimitEnforcer {
  const wired = (h.cp.gateway as { limits?: LimitEnforcer }).limits;
  if (wired) return wired;
  const part = createLimitsPart({ db: h.cp.db, audit: h.cp.audit, clock: h.clock, newId });
  part.registerRoutes(h.cp.http);
  return part;
}

for (const backend of BACKENDS) {
  describe(`limits on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let security: string;
    let auditor: string;
    let owner: string;
    let limits: LimitEnforcer;
    const ids: Record<string, string> = {};
    const ok = async (method: string, url: string, body?: unknown) => {
      const r = await h.call(method, url, body);
      if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
      return r.body;
    };
    const counts = async () => {
      const n = async (t: 'gateway_limits' | 'audit_events') =>
        Number((await sql<{ n: number | string }>`select count(*) as n from ${sql.table(t)}`.execute(h.cp.db.kysely)).rows[0]!.n);
      return { gateway_limits: await n('gateway_limits'), audit_events: await n('audit_events') };
    };
    const reserve = (call: Partial<LimitCall> = {}): Promise<ReserveOutcome> =>
      limits.reserve({ principalId: ids.bot!, teamIds: [ids.ml!], resourceId: ids.gpt!, maxTokens: 100, ...call });
    const granted = async (call: Partial<LimitCall> = {}) => {
      const r = await reserve(call);
      if (!r.ok) throw new Error(`refused: ${JSON.stringify(r)}`);
      return r.reservation;
    };
    const put = (kind: string, ref: string, body: Record<string, unknown>, token?: string) =>
      h.call('PUT', `/v1/limits/${kind}/${ref}`, { reason: 'test', ...body }, token);
    const remove = (kind: string, ref: string) => h.call('DELETE', `/v1/limits/${kind}/${ref}?reason=cleanup`);

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      limits = limitsPartOf(h);
      // Mid-morning UTC, well inside a minute: the windows these tests count in are known.
      h.clock.set('2026-06-15T09:30:05.000Z');
      security = await h.operator('sec-sam', 'security');
      auditor = await h.operator('aud-ann', 'auditor');
      owner = await h.operator('own-oli', 'owner');
      await ok('POST', '/v1/principals', { name: 'keeper', kind: 'human' });
      ids.bot = (await ok('POST', '/v1/principals', { name: 'chat-bot', kind: 'agent', owner: 'keeper', status: 'active' })).id;
      ids.other = (await ok('POST', '/v1/principals', { name: 'other-bot', kind: 'agent', owner: 'keeper', status: 'active' })).id;
      ids.ml = (await ok('POST', '/v1/teams', { name: 'ml' })).id;
      ids.web = (await ok('POST', '/v1/teams', { name: 'web' })).id;
      ids.gpt = (await ok('POST', '/v1/resources', { name: 'gpt', kind: 'model', owner: 'bootstrap-admin' })).id;
      ids.llama = (await ok('POST', '/v1/resources', { name: 'llama', kind: 'model', owner: 'bootstrap-admin' })).id;
    });
    afterAll(async () => { await h?.close(); });

    it.runIf(enabled)('set, change, clear one value, show, list and remove a limit; each change audited with before and after', async () => {
      const seq = await lastSeq(h);
      const created = await put('principal', 'chat-bot', { requests_per_minute: 60, tokens_per_day: 100_000, reason: 'pilot quota' });
      expect(created.status, created.text).toBe(201);
      expect(created.body).toMatchObject({
        target: { kind: 'principal', id: ids.bot, name: 'chat-bot' },
        requests_per_minute: 60, tokens_per_minute: null, tokens_per_day: 100_000, tokens_per_month: null,
      });
      const changed = await put('principal', ids.bot!, { tokens_per_day: null, tokens_per_month: 2_000_000, reason: 'monthly instead' }, security);
      expect(changed.status, changed.text).toBe(200);
      expect(changed.body).toMatchObject({ id: created.body.id, requests_per_minute: 60, tokens_per_day: null, tokens_per_month: 2_000_000 });
      const events = (await eventsSince(h, seq)).filter((e) => e.type.startsWith('limit.')); // (a first use of a token is audited too)
      expect(events.map((e) => e.type)).toEqual(['limit.set', 'limit.set']);
      expect(events[0]).toMatchObject({
        target: { type: 'principal', id: ids.bot, name: 'chat-bot' }, actor: { principal_name: 'bootstrap-admin' },
        details: { limit_id: created.body.id, before: null, after: { requests_per_minute: 60, tokens_per_minute: null, tokens_per_day: 100_000, tokens_per_month: null }, reason: 'pilot quota' },
      });
      expect(events[1]).toMatchObject({
        actor: { principal_name: 'sec-sam' },
        details: { before: { tokens_per_day: 100_000, tokens_per_month: null }, after: { requests_per_minute: 60, tokens_per_day: null, tokens_per_month: 2_000_000 }, reason: 'monthly instead' },
      });

      expect((await put('team', 'ml', { tokens_per_minute: 50_000 })).status).toBe(201);
      expect((await put('resource', 'gpt', { tokens_per_month: 9_000_000 })).status).toBe(201);
      const shown = await h.call('GET', '/v1/limits/principal/chat-bot', undefined, auditor);
      expect(shown.status, shown.text).toBe(200);
      expect(shown.body.usage).toEqual([
        { metric: 'requests_per_minute', limit: 60, used: 0, window: 'minute', resets_at: '2026-06-15T09:31:00.000Z' },
        { metric: 'tokens_per_month', limit: 2_000_000, used: 0, window: 'month', resets_at: '2026-07-01T00:00:00.000Z' },
      ]);
      const all = await h.call('GET', '/v1/limits', undefined, auditor);
      expect(all.body.items.map((l: any) => `${l.target.kind}:${l.target.name}`)).toEqual(['principal:chat-bot', 'team:ml', 'resource:gpt']);
      const teams = await h.call('GET', '/v1/limits?kind=team');
      expect(teams.body.items.map((l: any) => l.target.name)).toEqual(['ml']);
      const paged = await h.call('GET', '/v1/limits?limit=2');
      expect(paged.body.items).toHaveLength(2);
      expect((await h.call('GET', `/v1/limits?limit=2&cursor=${paged.body.next_cursor}`)).body.items.map((l: any) => l.target.name)).toEqual(['gpt']);

      const seq2 = await lastSeq(h);
      for (const [kind, ref] of [['principal', 'chat-bot'], ['team', 'ml'], ['resource', 'gpt']] as const) expect((await remove(kind, ref)).status).toBe(204);
      const removed = (await eventsSince(h, seq2)).filter((e) => e.type.startsWith('limit.'));
      expect(removed.map((e) => e.type)).toEqual(['limit.removed', 'limit.removed', 'limit.removed']);
      expect(removed[0]).toMatchObject({ target: { type: 'principal', id: ids.bot }, details: { before: { requests_per_minute: 60, tokens_per_month: 2_000_000 }, after: null, reason: 'cleanup' } });
      const gone = await h.call('GET', '/v1/limits/principal/chat-bot');
      expect(gone.status).toBe(404);
      expect(gone.body).toMatchObject({ code: 'not_found', detail: "no limit is set on principal 'chat-bot'" });
      expect((await h.call('GET', '/v1/limits')).body.items).toEqual([]);
    });

    it.runIf(enabled)('auditors and owners cannot change limits; owners cannot read them', async () => {
      expect((await put('principal', 'chat-bot', { tokens_per_day: 5 }, auditor)).status).toBe(403);
      expect((await put('principal', 'chat-bot', { tokens_per_day: 5 }, owner)).status).toBe(403);
      expect((await h.call('GET', '/v1/limits', undefined, owner)).status).toBe(403);
      expect((await h.call('GET', '/v1/limits')).body.items).toEqual([]);
    });

    it.runIf(enabled)('bad input is a 4xx problem+json and writes nothing', async () => {
      await ok('PUT', '/v1/limits/team/web', { tokens_per_day: 1000, reason: 'existing' });
      const before = await counts();
      const cases: Array<[string, string, unknown, number, string]> = [
        ['PUT', '/v1/limits/group/ml', { tokens_per_day: 5, reason: 'x' }, 400, 'validation_failed'],
        ['PUT', '/v1/limits/team/ml', { tokens_per_day: 5 }, 400, 'validation_failed'], // no reason
        ['PUT', '/v1/limits/team/ml', { tokens_per_day: 5, reason: '' }, 400, 'validation_failed'],
        ['PUT', '/v1/limits/team/ml', { tokens_per_day: 5, burst: 10, reason: 'x' }, 400, 'validation_failed'],
        ['PUT', '/v1/limits/team/ml', { tokens_per_day: '5', reason: 'x' }, 400, 'validation_failed'],
        ['PUT', '/v1/limits/team/ml', { tokens_per_day: 2.5, reason: 'x' }, 400, 'validation_failed'],
        ['PUT', '/v1/limits/team/ml', [1], 400, 'validation_failed'],
        ['PUT', '/v1/limits/team/ml', { reason: 'x' }, 422, 'invalid_limit'],
        ['PUT', '/v1/limits/team/ml', { tokens_per_day: 0, reason: 'x' }, 422, 'invalid_limit'],
        ['PUT', '/v1/limits/team/ml', { requests_per_minute: -1, reason: 'x' }, 422, 'invalid_limit'],
        ['PUT', '/v1/limits/team/ml', { tokens_per_month: 2_147_483_648, reason: 'x' }, 422, 'invalid_limit'],
        ['PUT', '/v1/limits/team/ml', { tokens_per_day: null, reason: 'x' }, 422, 'invalid_limit'], // nothing would be set
        ['PUT', '/v1/limits/team/web', { tokens_per_day: null, reason: 'x' }, 422, 'invalid_limit'], // its only value
        ['PUT', '/v1/limits/team/web', { requests_per_minute: null, tokens_per_minute: null, tokens_per_day: null, tokens_per_month: null, reason: 'x' }, 422, 'invalid_limit'],
        ['PUT', '/v1/limits/principal/ghost', { tokens_per_day: 5, reason: 'x' }, 422, 'invalid_limit'],
        ['PUT', '/v1/limits/resource/0190a1b2-0000-7000-8000-000000000000', { tokens_per_day: 5, reason: 'x' }, 422, 'invalid_limit'],
        ['PUT', '/v1/limits/team/gpt', { tokens_per_day: 5, reason: 'x' }, 422, 'invalid_limit'], // a resource, not a team
        ['DELETE', '/v1/limits/team/web', undefined, 400, 'validation_failed'], // no reason
        ['DELETE', '/v1/limits/team/ml?reason=x', undefined, 404, 'not_found'], // no limit on it
        ['DELETE', '/v1/limits/team/ghost?reason=x', undefined, 404, 'not_found'],
        ['GET', '/v1/limits/principal/ghost', undefined, 404, 'not_found'],
        ['GET', '/v1/limits?kind=group', undefined, 400, 'validation_failed'],
        ['GET', '/v1/limits?cursor=forged', undefined, 400, 'invalid_cursor'],
      ];
      for (const [method, url, body, status, code] of cases) {
        const r = await h.call(method, url, body);
        expect(r.status, `${method} ${url} ${JSON.stringify(body)}: ${r.text}`).toBe(status);
        expect(r.headers['content-type'], url).toMatch(/^application\/problem\+json/);
        expect(r.body.code, url).toBe(code);
      }
      expect(await counts()).toEqual(before);
      expect((await h.call('GET', '/v1/limits/team/web')).body).toMatchObject({ tokens_per_day: 1000 });
      await remove('team', 'web');
    });

    it.runIf(enabled)('a limit whose target was deleted is inert: listed without a name, shown and removed by the target\'s id', async () => {
      const tmp = (await ok('POST', '/v1/resources', { name: 'tmp-model', kind: 'model', owner: 'bootstrap-admin' })).id as string;
      await ok('PUT', '/v1/limits/resource/tmp-model', { tokens_per_day: 10, reason: 'short-lived' });
      const del = await h.call('DELETE', '/v1/resources/tmp-model?reason=gone');
      expect(del.status, del.text).toBe(204);
      expect((await ok('GET', '/v1/limits?kind=resource')).items).toMatchObject([{ target: { kind: 'resource', id: tmp, name: null }, tokens_per_day: 10 }]);
      expect((await h.call('GET', '/v1/limits/resource/tmp-model')).status).toBe(404);
      expect((await ok('GET', `/v1/limits/resource/${tmp}`)).target).toEqual({ kind: 'resource', id: tmp, name: null });
      expect((await h.call('PUT', `/v1/limits/resource/${tmp}`, { tokens_per_day: 20, reason: 'x' })).body.code).toBe('invalid_limit');
      const seq = await lastSeq(h);
      expect((await remove('resource', tmp)).status).toBe(204);
      expect((await eventsSince(h, seq)).filter((e) => e.type === 'limit.removed')).toMatchObject([{ target: { type: 'resource', id: tmp, name: null }, details: { before: { tokens_per_day: 10 } } }]);
      expect((await h.call('GET', `/v1/limits/resource/${tmp}`)).body).toMatchObject({ code: 'not_found', detail: `resource '${tmp}' does not exist` });
    });

    it.runIf(enabled)('the enforcer applies every limit on the principal, its teams and the resource; a change applies to the next call', async () => {
      expect((await reserve({ maxTokens: 10_000_000 })).ok).toBe(true); // no limits: anything goes
      await ok('PUT', '/v1/limits/principal/chat-bot', { tokens_per_day: 1000, reason: 'test' });
      const first = await granted({ maxTokens: 600 });
      const refused = await reserve({ maxTokens: 600 });
      expect(refused).toEqual({
        ok: false, retryAfterSeconds: 52_195, // to midnight UTC
        limit: { target: { kind: 'principal', id: ids.bot }, metric: 'tokens_per_day', value: 1000, window: 'day', resetsAt: '2026-06-16T00:00:00.000Z', exceedsWindow: false },
      });
      // Raised: the very next call sees it.
      await ok('PUT', '/v1/limits/principal/chat-bot', { tokens_per_day: 1200, reason: 'test' });
      const second = await granted({ maxTokens: 600 });
      // Lowered below what is already reserved: refused at once, even a call of 0 tokens.
      await ok('PUT', '/v1/limits/principal/chat-bot', { tokens_per_day: 500, reason: 'test' });
      expect((await reserve({ maxTokens: 0 })).ok).toBe(false);
      await limits.settle(first, 100);
      await limits.settle(second, 100);
      const usage = (await ok('GET', '/v1/limits/principal/chat-bot')).usage;
      expect(usage).toEqual([{ metric: 'tokens_per_day', limit: 500, used: 200, window: 'day', resets_at: '2026-06-16T00:00:00.000Z' }]);
      expect((await reserve({ maxTokens: 300 })).ok).toBe(true);
      expect((await reserve({ maxTokens: 1 })).ok).toBe(false);
      // Another principal is not limited by chat-bot's limit.
      expect((await reserve({ principalId: ids.other!, maxTokens: 5000 })).ok).toBe(true);

      // A team limit applies to its members' calls; a resource limit to every call on it.
      await remove('principal', 'chat-bot');
      await ok('PUT', '/v1/limits/team/ml', { tokens_per_minute: 400, reason: 'test' });
      const team = await reserve({ principalId: ids.other!, maxTokens: 500 });
      expect(team).toMatchObject({ ok: false, limit: { target: { kind: 'team', id: ids.ml }, metric: 'tokens_per_minute', exceedsWindow: true }, retryAfterSeconds: 55 });
      expect((await reserve({ principalId: ids.other!, teamIds: [ids.web!], maxTokens: 500 })).ok).toBe(true);
      // A member of many teams (past the statements compiled once): the team's limit still applies.
      const many = [...Array.from({ length: 20 }, () => newId()), ids.ml!];
      expect(await reserve({ principalId: ids.other!, teamIds: many, maxTokens: 500 })).toMatchObject({ ok: false, limit: { target: { kind: 'team', id: ids.ml } } });
      await ok('PUT', '/v1/limits/resource/llama', { requests_per_minute: 1, reason: 'test' });
      expect((await reserve({ principalId: ids.other!, teamIds: [], resourceId: ids.llama!, maxTokens: 1 })).ok).toBe(true);
      const rpm = await reserve({ principalId: ids.bot!, teamIds: [], resourceId: ids.llama!, maxTokens: 1 });
      expect(rpm).toMatchObject({ ok: false, limit: { target: { kind: 'resource', id: ids.llama }, metric: 'requests_per_minute', value: 1, window: 'minute', resetsAt: '2026-06-15T09:31:00.000Z' }, retryAfterSeconds: 55 });
      // Removed: the next call passes.
      await remove('team', 'ml');
      await remove('resource', 'llama');
      expect((await reserve({ maxTokens: 500 })).ok).toBe(true);
      expect((await reserve({ principalId: ids.bot!, teamIds: [], resourceId: ids.llama!, maxTokens: 1 })).ok).toBe(true);
    });

    it.runIf(enabled)('a concurrent burst against a small budget admits only what fits; settling frees the difference', async () => {
      await ok('PUT', '/v1/limits/resource/gpt', { tokens_per_day: 1000, reason: 'burst' });
      const burst = await Promise.all(Array.from({ length: 25 }, () => reserve({ principalId: ids.other!, teamIds: [], maxTokens: 100 })));
      const admitted = burst.flatMap((r) => (r.ok ? [r.reservation] : []));
      expect(admitted).toHaveLength(10);
      for (const r of burst) if (!r.ok) expect(r.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      // Each used 40 of its 100: 600 tokens come back.
      await Promise.all(admitted.map((r) => limits.settle(r, 40)));
      expect((await ok('GET', '/v1/limits/resource/gpt')).usage[0]).toMatchObject({ used: 400 });
      const second = await Promise.all(Array.from({ length: 10 }, () => reserve({ principalId: ids.other!, teamIds: [], maxTokens: 100 })));
      expect(second.filter((r) => r.ok)).toHaveLength(6);
      // A call that never reached the upstream gives everything back.
      for (const r of second) if (r.ok) await limits.release(r.reservation);
      expect((await ok('GET', '/v1/limits/resource/gpt')).usage[0]).toMatchObject({ used: 400 });
      await remove('resource', 'gpt');
    });

    it.runIf(enabled)('requests per minute reset with the UTC minute; an unsettled reservation gives its tokens back after 10 minutes', async () => {
      await ok('PUT', '/v1/limits/principal/other-bot', { requests_per_minute: 2, tokens_per_day: 1000, reason: 'window' });
      const call = { principalId: ids.other!, teamIds: [], resourceId: ids.llama! };
      const held = await granted({ ...call, maxTokens: 900 }); // never settled: the call crashed
      await limits.settle(await granted({ ...call, maxTokens: 50 }), 50);
      expect(await reserve({ ...call, maxTokens: 1 })).toMatchObject({ ok: false, limit: { metric: 'requests_per_minute' }, retryAfterSeconds: 55 });
      h.clock.advance(MINUTE);
      expect(await reserve({ ...call, maxTokens: 100 })).toMatchObject({ ok: false, limit: { metric: 'tokens_per_day' } }); // 950 held or used
      h.clock.advance(9 * MINUTE);
      const after = await granted({ ...call, maxTokens: 900 }); // the 900 came back
      await limits.release(after);
      // The crashed call's late answer is still counted, once.
      await limits.settle(held, 300);
      await limits.settle(held, 300);
      expect((await ok('GET', '/v1/limits/principal/other-bot')).usage.find((u: any) => u.metric === 'tokens_per_day')).toMatchObject({ used: 350 });
      await remove('principal', 'other-bot');
    });

    it.runIf(enabled)('a store that cannot be read fails the reserve (never an allow)', async () => {
      await ok('PUT', '/v1/limits/principal/chat-bot', { tokens_per_day: 1, reason: 'fail closed' });
      await sql`alter table gateway_limits rename to gateway_limits_away`.execute(h.cp.db.kysely);
      try {
        await expect(reserve({ maxTokens: 10 })).rejects.toThrow();
      } finally {
        await sql`alter table gateway_limits_away rename to gateway_limits`.execute(h.cp.db.kysely);
      }
      expect((await reserve({ maxTokens: 10 })).ok).toBe(false);
      await remove('principal', 'chat-bot');
    });
  });
}
