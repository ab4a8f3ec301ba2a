import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_FACTS, type RequestFacts } from '../../src/authz/contracts.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { eventsSince, lastSeq } from '../identity/store-probe.js';

// Time-bound grants through the real app and the real decision point: a grant allows its actions on its resource
// and everything below it, for its purpose only, until its expiry (enforced by the policy condition, not by a
// sweeper); revocation is in force on the very next decision; every change is audited in its own transaction.

for (const backend of BACKENDS) {
  describe(`grants on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let security: string;
    let auditor: string;
    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      security = await h.operator('sec-sam', 'security');
      auditor = await h.operator('aud-ann', 'auditor');
      const ok = async (method: string, url: string, body: unknown) => {
        const r = await h.call(method, url, body);
        if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
      };
      await ok('POST', '/v1/principals', { name: 'agent-keeper', kind: 'human' }); // owns the agents: nobody grants to what they own
      await ok('POST', '/v1/principals', { name: 'support-bot', kind: 'agent', owner: 'agent-keeper', status: 'active', purposes: ['support', 'billing'] });
      await ok('POST', '/v1/principals', { name: 'other-bot', kind: 'agent', owner: 'agent-keeper', status: 'active', purposes: ['support'] });
      await ok('POST', '/v1/resources', { name: 'corpus', kind: 'dataset', owner: 'bootstrap-admin', purposes: ['support', 'research'] });
      await ok('POST', '/v1/resources', { name: 'tickets', kind: 'dataset', owner: 'bootstrap-admin', parent: 'corpus', purposes: ['support'] });
      await ok('POST', '/v1/resources', { name: 'weights', kind: 'model', owner: 'bootstrap-admin', purposes: ['support'] });
    });
    afterAll(async () => { await h?.close(); });

    const decide = async (principal: string, action: string, resource: string, facts: Partial<RequestFacts> = {}) =>
      (await h.cp.authz.pdp.evaluate({ principal, action, resource: { kind: 'registry', ref: resource }, facts: { ...NO_FACTS, ...facts }, requestId: null })).decision;

    it.runIf(enabled)('a grant allows its actions on the resource and its children, for its purpose only; audited', async () => {
      expect(await decide('support-bot', 'read', 'tickets', { purpose: 'support' })).toBe('deny');
      const seq = await lastSeq(h);
      const g = await h.call('POST', '/v1/grants', { principal: 'support-bot', resource: 'corpus', actions: ['read', 'invoke', 'read'], purpose: 'support', duration_seconds: 86_400, reason: 'ticket triage INC-7' });
      expect(g.status, g.text).toBe(201);
      expect(g.body).toMatchObject({
        status: 'active', principal: { name: 'support-bot', kind: 'agent' }, resource: { name: 'corpus', kind: 'dataset' }, actions: ['invoke', 'read'],
        purpose: 'support', reason: 'ticket triage INC-7', source: 'admin', granted_by: { name: 'bootstrap-admin' }, revoked_at: null,
      });
      expect(Date.parse(g.body.expires_at) - h.clock.now().getTime()).toBeLessThanOrEqual(86_400_000);
      const events = await eventsSince(h, seq);
      expect(events.map((e) => e.type)).toEqual(['grant.created']);
      expect(events[0]).toMatchObject({ target: { type: 'grant', id: g.body.id }, details: { actions: ['invoke', 'read'], purpose: 'support', reason: 'ticket triage INC-7', source: 'admin' } });

      expect(await decide('support-bot', 'read', 'corpus', { purpose: 'support' })).toBe('allow');
      expect(await decide('support-bot', 'read', 'tickets', { purpose: 'support' })).toBe('allow'); // a child
      expect(await decide('support-bot', 'invoke', 'tickets', { purpose: 'support' })).toBe('allow');
      expect(await decide('support-bot', 'write', 'tickets', { purpose: 'support' })).toBe('deny'); // not granted
      expect(await decide('support-bot', 'read', 'tickets', { purpose: 'billing' })).toBe('deny'); // another purpose
      expect(await decide('support-bot', 'read', 'tickets')).toBe('deny'); // no purpose
      expect(await decide('support-bot', 'read', 'weights', { purpose: 'support' })).toBe('deny'); // another resource
      expect(await decide('other-bot', 'read', 'corpus', { purpose: 'support' })).toBe('deny'); // another principal
    });

    it.runIf(enabled)('a grant without a purpose holds for any purpose, and for none', async () => {
      const g = await h.call('POST', '/v1/grants', { principal: 'other-bot', resource: 'weights', actions: ['invoke'], duration_seconds: 600, reason: 'load test' });
      expect(g.status, g.text).toBe(201);
      expect(g.body.purpose).toBeNull();
      expect(await decide('other-bot', 'invoke', 'weights')).toBe('allow');
      expect(await decide('other-bot', 'invoke', 'weights', { purpose: 'support' })).toBe('allow');
      await h.call('POST', `/v1/grants/${g.body.id}/revoke`, { reason: 'done' });
    });

    it.runIf(enabled)('an expired grant never allows, with its row still present', async () => {
      const g = await h.call('POST', '/v1/grants', { principal: 'support-bot', resource: 'weights', actions: ['invoke'], purpose: 'support', duration_seconds: 120, reason: 'short' });
      expect(g.status, g.text).toBe(201);
      expect(await decide('support-bot', 'invoke', 'weights', { purpose: 'support' })).toBe('allow');
      h.clock.advance(119_000);
      expect(await decide('support-bot', 'invoke', 'weights', { purpose: 'support' })).toBe('allow');
      h.clock.advance(1_000); // the expiry instant itself: no longer allowed
      expect(await decide('support-bot', 'invoke', 'weights', { purpose: 'support' })).toBe('deny');
      const row = await h.cp.db.kysely.selectFrom('grants').select(['id', 'revoked_at']).where('id', '=', g.body.id).executeTakeFirst();
      expect(row).toEqual({ id: g.body.id, revoked_at: null });
      expect((await h.call('GET', `/v1/grants/${g.body.id}`)).body.status).toBe('expired');
      // Nothing else changed, so no snapshot reload happened: the policy condition alone refused it.
      h.clock.advance(3600_000);
      expect(await decide('support-bot', 'invoke', 'weights', { purpose: 'support' })).toBe('deny');
    });

    it.runIf(enabled)('revocation takes effect on the very next decision; once only; audited with its reason', async () => {
      const g = await h.call('POST', '/v1/grants', { principal: 'other-bot', resource: 'tickets', actions: ['read'], purpose: 'support', duration_seconds: 3600, reason: 'review' });
      expect(await decide('other-bot', 'read', 'tickets', { purpose: 'support' })).toBe('allow');
      const seq = await lastSeq(h);
      const r = await h.call('POST', `/v1/grants/${g.body.id}/revoke`, { reason: 'review finished' }, security);
      expect(r.status, r.text).toBe(200);
      expect(r.body).toMatchObject({ status: 'revoked', revoked_by: { name: 'sec-sam' }, revoked_reason: 'review finished' });
      expect(await decide('other-bot', 'read', 'tickets', { purpose: 'support' })).toBe('deny');
      const again = await h.call('POST', `/v1/grants/${g.body.id}/revoke`, { reason: 'twice' });
      expect(again.status).toBe(409);
      const events = (await eventsSince(h, seq)).filter((e) => e.type.startsWith('grant.'));
      expect(events.map((e) => e.type)).toEqual(['grant.revoked']);
      expect(events[0]).toMatchObject({ actor: { principal_name: 'sec-sam' }, target: { id: g.body.id }, details: { reason: 'review finished', was: 'active' } });
      expect((await h.call('POST', `/v1/grants/${g.body.id}/revoke`, {})).status).toBe(400); // a reason is required
    });

    it.runIf(enabled)('listed per principal and per resource, in force or ended, paginated', async () => {
      const byPrincipal = await h.call('GET', '/v1/grants?principal=support-bot');
      expect(byPrincipal.body.items.map((g: { resource: { name: string } }) => g.resource.name)).toEqual(['corpus', 'weights']);
      const active = await h.call('GET', '/v1/grants?principal=support-bot&active=true');
      expect(active.body.items.map((g: { status: string }) => g.status)).toEqual(['active']);
      const ended = await h.call('GET', '/v1/grants?active=false');
      expect(ended.body.items.map((g: { status: string }) => g.status).sort()).toEqual(['expired', 'revoked', 'revoked']);
      const byResource = await h.call('GET', '/v1/grants?resource=tickets', undefined, auditor);
      expect(byResource.status).toBe(200);
      expect(byResource.body.items).toHaveLength(1); // only grants on the resource itself, not on its parent
      const supportBotId = byPrincipal.body.items[0].principal.id;
      expect((await h.call('GET', `/v1/grants?principal=${supportBotId}`)).body.items).toHaveLength(2);
      expect((await h.call('GET', '/v1/grants?principal=nobody')).body.items).toEqual([]);
      const p1 = await h.call('GET', '/v1/grants?limit=2');
      expect(p1.body.items).toHaveLength(2);
      const p2 = await h.call('GET', `/v1/grants?limit=2&cursor=${encodeURIComponent(p1.body.next_cursor)}`);
      expect(p2.body.items.length).toBeGreaterThan(0);
      expect(new Set([...p1.body.items, ...p2.body.items].map((g: { id: string }) => g.id)).size).toBe(p1.body.items.length + p2.body.items.length);
      expect((await h.call('GET', '/v1/grants?cursor=forged')).body.code).toBe('invalid_cursor');
      expect((await h.call('GET', `/v1/grants/${byPrincipal.body.items[0].id}`, undefined, auditor)).body.principal.name).toBe('support-bot');
      expect((await h.call('GET', '/v1/grants/0190a6f0-0000-7000-8000-000000000000')).status).toBe(404);
    });

    it.runIf(enabled)('refusals: purposes both sides allow, bounded expiry in the future, existing targets, admins only, never to oneself', async () => {
      const seq = await lastSeq(h);
      const base = { principal: 'support-bot', resource: 'tickets', actions: ['read'], duration_seconds: 3600, reason: 'x' };
      const code = async (body: unknown, token?: string) => {
        const r = await h.call('POST', '/v1/grants', body, token);
        return `${r.status} ${r.body?.code}`;
      };
      expect(await code({ ...base, purpose: 'research' })).toBe('422 purpose_not_allowed'); // the resource's (parent's), not the principal's
      expect(await code({ ...base, purpose: 'billing' })).toBe('422 purpose_not_allowed'); // the principal's, not the resource's
      expect(await code({ ...base, duration_seconds: 91 * 86_400 })).toBe('422 grant_too_long'); // as a too-late expires_at
      expect(await code({ ...base, duration_seconds: 30 })).toBe('400 validation_failed');
      const { duration_seconds: _d, ...noDuration } = base;
      expect(await code({ ...noDuration, expires_at: new Date(h.clock.now().getTime() + 91 * 86_400_000).toISOString() })).toBe('422 grant_too_long');
      expect(await code({ ...noDuration, expires_at: new Date(h.clock.now().getTime() - 1000).toISOString() })).toBe('400 validation_failed');
      expect(await code({ ...base, expires_at: new Date(h.clock.now().getTime() + 86_400_000).toISOString() })).toBe('400 validation_failed');
      expect(await code(noDuration)).toBe('400 validation_failed');
      expect(await code({ ...base, actions: [] })).toBe('400 validation_failed');
      expect(await code({ ...base, actions: ['approve'] })).toBe('400 validation_failed'); // management actions are not granted
      expect(await code({ ...base, reason: undefined })).toBe('400 validation_failed');
      expect(await code({ ...base, principal: 'nobody' })).toBe('422 principal_not_found');
      expect(await code({ ...base, resource: 'nothing' })).toBe('422 resource_not_found');
      expect(await code({ ...base, principal: 'bootstrap-admin' })).toBe('403 forbidden'); // to oneself
      // ...nor to a principal one owns, directly or through a team (one acts through it: a self-grant).
      const admin2 = await h.operator('adm-ada', 'admin');
      await h.call('POST', '/v1/principals', { name: 'ada-bot', kind: 'agent', owner: 'adm-ada', status: 'active', purposes: ['support'] });
      await h.call('POST', '/v1/teams', { name: 'ada-team', reason: 'x' });
      await h.call('PUT', '/v1/teams/ada-team/members/adm-ada', { reason: 'x' });
      await h.call('POST', '/v1/principals', { name: 'team-bot', kind: 'agent', owner_team: 'ada-team', status: 'active', purposes: ['support'] });
      const admin2Again = (await h.call('POST', '/v1/operator-tokens', { principal: 'adm-ada', role: 'admin' })).body.token as string; // minted after joining
      const owned = await h.call('POST', '/v1/grants', { ...base, principal: 'ada-bot' }, admin2);
      expect(`${owned.status} ${owned.body.code}`).toBe('403 forbidden');
      expect(owned.body.detail).toMatch(/'ada-bot' is owned by you/);
      const teamOwned = await h.call('POST', '/v1/grants', { ...base, principal: 'team-bot' }, admin2Again);
      expect(`${teamOwned.status} ${teamOwned.body.code}`).toBe('403 forbidden');
      expect(teamOwned.body.detail).toMatch(/owned by a team you belong to/);
      expect(await code(base, security)).toBe('403 forbidden'); // admins only, for now
      expect(await code(base, auditor)).toBe('403 forbidden');
      await h.call('POST', '/v1/principals', { name: 'gone-bot', kind: 'agent', owner: 'agent-keeper', purposes: ['support'] });
      await h.call('POST', '/v1/principals/gone-bot/decommission', { reason: 'x' });
      expect(await code({ ...base, principal: 'gone-bot' })).toBe('409 principal_decommissioned');
      expect((await eventsSince(h, seq)).filter((e) => e.type.startsWith('grant.'))).toEqual([]);
      expect((await h.call('POST', '/v1/grants/not-an-id/revoke', { reason: 'x' })).status).toBe(400);
      expect((await h.call('GET', '/v1/grants', undefined, await h.operator('own-olga', 'owner'))).status).toBe(403);
    });
  });
}
