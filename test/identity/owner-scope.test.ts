import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { eventsSince, lastSeq, rowCounts } from './store-probe.js';

// What an owner-role operator may see and change (docs/registry.md "Operator roles"): only what they or their
// teams own, plus themselves, and only by narrowing it. Anything else they may not see answers 404 exactly
// like something that does not exist. Also: the home team, and label updates by key.

for (const backend of BACKENDS) {
  describe(`owner scope on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let olga: string; // owner-role operator, member of team 'ml'
    let otto: string; // another owner-role operator
    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      olga = await h.operator('olga', 'owner');
      otto = await h.operator('otto', 'owner');
      await h.call('POST', '/v1/teams', { name: 'ml' });
      await h.call('POST', '/v1/teams', { name: 'web' });
      await h.call('PUT', '/v1/teams/ml/members/olga', {});
      for (const t of [olga, otto]) await h.call('GET', '/v1/whoami', undefined, t);
      await h.call('POST', '/v1/resources', { name: 'olga-project', kind: 'dataset', owner: 'olga', classification: 'confidential', risk_tier: 'high', purposes: ['eval', 'train'] });
      await h.call('POST', '/v1/resources', { name: 'ml-model', kind: 'model', owner_team: 'ml' });
      await h.call('POST', '/v1/resources', { name: 'otto-project', kind: 'dataset', owner: 'otto' });
      await h.call('POST', '/v1/principals', { name: 'olga-bot', kind: 'agent', owner: 'olga', status: 'active' });
      await h.call('POST', '/v1/principals', { name: 'otto-bot', kind: 'agent', owner: 'otto', status: 'active' });
    });
    afterAll(async () => { await h?.close(); });

    it.runIf(enabled)('owners list and read only the resources they or their teams own; others are 404 on every route, like a missing one', async () => {
      const listed = (await h.call('GET', '/v1/resources?limit=500', undefined, olga)).body.items.map((r: { name: string }) => r.name).sort();
      expect(listed).toEqual(['ml-model', 'olga-project']);
      expect((await h.call('GET', '/v1/resources?limit=500')).body.items).toHaveLength(3);
      expect((await h.call('GET', '/v1/resources/ml-model', undefined, olga)).status).toBe(200);
      const counts = await rowCounts(h);
      for (const [method, body] of [['GET', undefined], ['PATCH', { description: 'mine now' }], ['DELETE', undefined]] as const) {
        const foreign = await h.call(method, '/v1/resources/otto-project', body, olga);
        const missing = await h.call(method, '/v1/resources/no-such-thing', body, olga);
        expect([foreign.status, foreign.body.code], method).toEqual([404, 'not_found']);
        expect([missing.status, missing.body.code], method).toEqual([404, 'not_found']);
        expect(foreign.body.title).toBe(missing.body.title);
      }
      // Filtering by a parent one may not see is the same 404 as by one that does not exist.
      expect((await h.call('GET', '/v1/resources?parent=otto-project', undefined, olga)).status).toBe(404);
      expect(await rowCounts(h)).toEqual(counts);
    });

    it.runIf(enabled)('owners read only principals they or their teams own, and themselves; every other principal route is 404', async () => {
      const names = (await h.call('GET', '/v1/principals?limit=500', undefined, olga)).body.items.map((p: { name: string }) => p.name).sort();
      expect(names).toEqual(['olga', 'olga-bot']);
      expect((await h.call('GET', '/v1/principals/olga', undefined, olga)).status).toBe(200);
      for (const [method, url] of [
        ['GET', '/v1/principals/otto-bot'], ['PATCH', '/v1/principals/otto-bot'], ['POST', '/v1/principals/otto-bot/suspend'],
        ['POST', '/v1/principals/otto-bot/review'], ['GET', '/v1/principals/otto'], ['POST', '/v1/principals/otto/suspend'],
      ] as const) {
        const r = await h.call(method, url, method === 'GET' ? undefined : {}, olga);
        expect([r.status, r.body.code], `${method} ${url}`).toEqual([404, 'not_found']);
      }
      // Filtering by an owner one may not see answers like filtering by one that does not exist.
      const foreign = await h.call('GET', '/v1/principals?owner=otto', undefined, olga);
      const missing = await h.call('GET', '/v1/principals?owner=nobody', undefined, olga);
      expect([foreign.status, foreign.body.code]).toEqual([missing.status, missing.body.code]);
      expect((await h.call('GET', '/v1/principals/otto-bot')).body.version).toBe(1);
    });

    it.runIf(enabled)('owners see every team, but the members only of teams they belong to, and cannot probe others\' memberships', async () => {
      expect((await h.call('GET', '/v1/teams/ml', undefined, olga)).body.members.map((m: { name: string }) => m.name)).toEqual(['olga']);
      await h.call('PUT', '/v1/teams/web/members/otto', {});
      const web = await h.call('GET', '/v1/teams/web', undefined, olga);
      expect([web.status, web.body.name, 'members' in web.body]).toEqual([200, 'web', false]);
      expect((await h.call('GET', '/v1/teams/web')).body.members.map((m: { name: string }) => m.name)).toEqual(['otto']);
      const probe = await h.call('GET', '/v1/teams?member=otto', undefined, olga);
      const missing = await h.call('GET', '/v1/teams?member=nobody', undefined, olga);
      expect([probe.status, probe.body.items]).toEqual([200, []]);
      expect(missing.body.items).toEqual([]);
      expect((await h.call('GET', '/v1/teams?member=olga', undefined, olga)).body.items.map((t: { name: string }) => t.name)).toEqual(['ml']);
      expect((await h.call('GET', '/v1/teams?member=otto')).body.items.map((t: { name: string }) => t.name)).toEqual(['web']);
    });

    it.runIf(enabled)('owners register only for themselves or their teams, and a foreign human answers like a missing one', async () => {
      const foreign = await h.call('POST', '/v1/principals', { name: 'x-bot', kind: 'agent', owner: 'otto' }, olga);
      const missing = await h.call('POST', '/v1/principals', { name: 'x-bot', kind: 'agent', owner: 'nobody' }, olga);
      expect([foreign.status, foreign.body.code]).toEqual([403, 'forbidden']);
      expect([missing.status, missing.body.code, missing.body.detail]).toEqual([foreign.status, foreign.body.code, foreign.body.detail]);
      expect((await h.call('POST', '/v1/resources', { name: 'x-res', kind: 'model', owner: 'nobody' }, olga)).body.detail).toBe(foreign.body.detail);
    });

    it.runIf(enabled)('owners cannot hang a resource under a parent they do not own, so they cannot block its owner from deleting it', async () => {
      const created = await h.call('POST', '/v1/resources', { name: 'olga-child', kind: 'dataset', owner: 'olga', parent: 'otto-project' }, olga);
      expect([created.status, created.body.code]).toEqual([422, 'parent_not_found']);
      // The answer is the same as for a parent that does not exist.
      expect((await h.call('POST', '/v1/resources', { name: 'olga-child', kind: 'dataset', owner: 'olga', parent: 'nothing-here' }, olga)).body.detail)
        .toBe(created.body.detail.replace('otto-project', 'nothing-here'));
      await h.call('POST', '/v1/resources', { name: 'olga-leaf', kind: 'dataset', owner: 'olga' }, olga);
      expect((await h.call('PATCH', '/v1/resources/olga-leaf', { parent: 'otto-project' }, olga)).body.code).toBe('parent_not_found');
      // Under their own (or their team's) resource it works.
      expect((await h.call('PATCH', '/v1/resources/olga-leaf', { parent: 'ml-model' }, olga)).body.parent.name).toBe('ml-model');
      // otto's resource has no child of olga's, so otto can delete it.
      await h.call('POST', '/v1/resources', { name: 'otto-tmp', kind: 'dataset', owner: 'otto' });
      expect((await h.call('DELETE', '/v1/resources/otto-tmp', undefined, otto)).status).toBe(204);
      // An admin may place anything anywhere; the owner then cannot move it away from the foreign parent.
      expect((await h.call('PATCH', '/v1/resources/olga-leaf', { parent: 'otto-project' })).status).toBe(200);
      const detach = await h.call('PATCH', '/v1/resources/olga-leaf', { parent: null }, olga);
      expect([detach.status, detach.body.fields]).toEqual([403, ['parent']]);
      // And otto, deleting the parent, is told it has children without being told the name of one he cannot see.
      const blocked = await h.call('DELETE', '/v1/resources/otto-project', undefined, otto);
      expect(blocked.body.code).toBe('resource_has_children');
      expect(blocked.body.detail).not.toContain('olga-leaf');
      expect((await h.call('DELETE', '/v1/resources/otto-project')).body.detail).toContain('olga-leaf');
      await h.call('PATCH', '/v1/resources/olga-leaf', { parent: null });
    });

    it.runIf(enabled)('owners cannot lower a resource\'s classification or risk tier, or add purposes; they can raise and drop; admin and security can do all', async () => {
      const before = (await h.call('GET', '/v1/resources/olga-project')).body;
      const refused: Array<Record<string, unknown>> = [
        { classification: 'internal' }, { classification: 'public' }, { risk_tier: 'medium' }, { purposes: ['eval', 'ads'] },
        { owner: 'otto' }, { owner_team: 'ml' },
      ];
      for (const body of refused) {
        const r = await h.call('PATCH', '/v1/resources/olga-project', body, olga);
        expect([r.status, r.body.code, r.body.fields], JSON.stringify(body)).toEqual([403, 'forbidden', Object.keys(body)]);
      }
      expect((await h.call('GET', '/v1/resources/olga-project')).body.updated_at).toBe(before.updated_at);
      const narrowed = await h.call('PATCH', '/v1/resources/olga-project', { classification: 'restricted', risk_tier: 'critical', purposes: ['eval'] }, olga);
      expect(narrowed.body).toMatchObject({ classification: 'restricted', risk_tier: 'critical', purposes: ['eval'] });
      const sec = await h.operator('sam', 'security');
      const widened = await h.call('PATCH', '/v1/resources/olga-project', { classification: 'internal', risk_tier: 'low', purposes: ['eval', 'train'] }, sec);
      expect(widened.body).toMatchObject({ classification: 'internal', risk_tier: 'low', purposes: ['eval', 'train'] });
    });

    it.runIf(enabled)('the home team (team) is not membership; an owner may only pick a team they belong to', async () => {
      const foreign = await h.call('POST', '/v1/principals', { name: 'web-bot', kind: 'agent', owner: 'olga', team: 'web' }, olga);
      expect([foreign.status, foreign.body.fields]).toEqual([403, ['team']]);
      const own = await h.call('POST', '/v1/principals', { name: 'ml-bot', kind: 'agent', owner: 'olga', team: 'ml' }, olga);
      expect([own.status, own.body.team?.name]).toEqual([201, 'ml']);
      const moved = await h.call('PATCH', '/v1/principals/ml-bot', { team: 'web' }, olga);
      expect([moved.status, moved.body.fields]).toEqual([403, ['team']]);
      expect((await h.call('PATCH', '/v1/principals/ml-bot', { team: null }, olga)).body.team).toBeNull();
      // Admins file anything anywhere. Filing does not make a member: the team lists its members only.
      expect((await h.call('PATCH', '/v1/principals/ml-bot', { team: 'web' })).body.team.name).toBe('web');
      expect((await h.call('GET', '/v1/principals?team=web')).body.items.map((p: { name: string }) => p.name)).toEqual(['ml-bot']);
      expect((await h.call('GET', '/v1/teams/web')).body.members.map((m: { name: string }) => m.name)).not.toContain('ml-bot');
      expect((await h.call('GET', '/v1/teams?member=ml-bot')).body.items).toEqual([]);
    });

    it.runIf(enabled)('labels: labels replaces the set; labels_add and labels_remove change single keys; the label filter follows; mixing is refused', async () => {
      for (const [collection, name] of [['principals', 'olga-bot'], ['resources', 'ml-model']] as const) {
        const url = `/v1/${collection}/${name}`;
        expect((await h.call('PATCH', url, { labels: { app: 'a', env: 'prod' } }, olga)).body.labels).toEqual({ app: 'a', env: 'prod' });
        expect((await h.call('PATCH', url, { labels_add: { tier: 'gold', app: 'b' } }, olga)).body.labels).toEqual({ app: 'b', env: 'prod', tier: 'gold' });
        expect((await h.call('PATCH', url, { labels_remove: ['env', 'absent'] }, olga)).body.labels).toEqual({ app: 'b', tier: 'gold' });
        expect((await h.call('GET', `/v1/${collection}?label=${encodeURIComponent('tier=gold')}`)).body.items.map((x: { name: string }) => x.name)).toEqual([name]);
        expect((await h.call('GET', `/v1/${collection}?label=${encodeURIComponent('env=prod')}`)).body.items).toEqual([]);
        const seq = await lastSeq(h);
        expect((await h.call('PATCH', url, { labels_add: { app: 'b' } }, olga)).status).toBe(200);
        expect(await eventsSince(h, seq), 'a no-op label change records nothing').toEqual([]);
        const mixed = await h.call('PATCH', url, { labels: {}, labels_add: { x: 'y' } }, olga);
        expect([mixed.status, mixed.body.code]).toEqual([400, 'validation_failed']);
        expect((await h.call('PATCH', url, { labels: { only: 'this' } }, olga)).body.labels).toEqual({ only: 'this' });
      }
    });
  });
}
