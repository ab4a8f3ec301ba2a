import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { RESOURCE_KINDS } from '../../src/identity/taxonomy.js';
import { MAX_DEPTH } from '../../src/identity/index.js';
import { eventsSince, lastSeq, rowCounts } from './store-probe.js';

// Teams (membership and ownership through a team) and the resource catalog (kinds, hierarchy, deletion).

for (const backend of BACKENDS) {
  describe(`teams and resources on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let owner: string;
    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      owner = await h.operator('olga', 'owner');
      await h.call('POST', '/v1/principals', { name: 'pat', kind: 'human' });
      await h.call('GET', '/v1/whoami', undefined, owner);
    });
    afterAll(async () => { await h?.close(); });

    it.runIf(enabled)('teams: create, unique names, members added, re-roled and removed, each audited', async () => {
      const seq = await lastSeq(h);
      const t = await h.call('POST', '/v1/teams', { name: 'ml-platform', display_name: 'ML platform', reason: 'reorg' });
      expect(t.status).toBe(201);
      expect(t.body.members).toEqual([]);
      expect((await h.call('POST', '/v1/teams', { name: 'ml-platform' })).body.code).toBe('name_taken');
      expect((await h.call('PUT', '/v1/teams/ml-platform/members/pat', { role: 'maintainer' })).body.members).toMatchObject([{ name: 'pat', role: 'maintainer' }]);
      expect((await h.call('PUT', '/v1/teams/ml-platform/members/pat', { role: 'member' })).body.members).toMatchObject([{ name: 'pat', role: 'member' }]);
      expect((await h.call('PUT', '/v1/teams/ml-platform/members/pat', { role: 'boss' })).status).toBe(400);
      expect((await h.call('PUT', '/v1/teams/ml-platform/members/nobody', {})).body.code).toBe('principal_not_found');
      expect((await h.call('PUT', '/v1/teams/no-team/members/pat', {})).status).toBe(404);
      const member = (await h.call('GET', '/v1/teams?member=pat')).body.items.map((x: { name: string }) => x.name);
      expect(member).toEqual(['ml-platform']);
      const removed = await h.call('DELETE', '/v1/teams/ml-platform/members/pat');
      expect(removed.body.members).toEqual([]);
      expect((await h.call('DELETE', '/v1/teams/ml-platform/members/pat')).status).toBe(404);
      const events = await eventsSince(h, seq);
      expect(events.map((e) => e.type)).toEqual(['team.created', 'team.member_added', 'team.member_added', 'team.member_removed']);
      expect(events[0]).toMatchObject({ target: { type: 'team', id: t.body.id, name: 'ml-platform' }, details: { reason: 'reorg' }, actor: { principal_name: 'bootstrap-admin' } });
      expect(events[1]!.details).toMatchObject({ principal: { name: 'pat' }, role: 'maintainer' });
    });

    it.runIf(enabled)('a decommissioned principal cannot join a team', async () => {
      await h.call('POST', '/v1/principals', { name: 'gone', kind: 'human' });
      await h.call('POST', '/v1/principals/gone/decommission', {});
      const counts = await rowCounts(h);
      expect((await h.call('PUT', '/v1/teams/ml-platform/members/gone', {})).body.code).toBe('principal_decommissioned');
      expect(await rowCounts(h)).toEqual(counts);
    });

    it.runIf(enabled)('ownership through a team: a member with the owner role manages the team\'s principals, and loses that on leaving', async () => {
      await h.call('POST', '/v1/teams', { name: 'search' });
      await h.call('POST', '/v1/principals', { name: 'search-bot', kind: 'agent', owner_team: 'search', status: 'active' });
      // Not yet a member: the team's principal is invisible (404, as if it did not exist), and not registrable.
      expect((await h.call('GET', '/v1/principals/search-bot', undefined, owner)).status).toBe(404);
      expect((await h.call('POST', '/v1/principals', { name: 'search-bot-2', kind: 'agent', owner_team: 'search' }, owner)).status).toBe(403);

      await h.call('PUT', '/v1/teams/search/members/olga', {});
      expect((await h.call('GET', '/v1/principals/search-bot', undefined, owner)).status).toBe(200);
      expect((await h.call('PATCH', '/v1/principals/search-bot', { description: 'ranks results' }, owner)).status).toBe(200);
      expect((await h.call('POST', '/v1/principals/search-bot/review', {}, owner)).status).toBe(200);
      expect((await h.call('POST', '/v1/principals/search-bot/suspend', { reason: 'noisy' }, owner)).body.status).toBe('suspended');
      expect((await h.call('POST', '/v1/principals/search-bot/activate', {}, owner)).status).toBe(403);
      const proposed = await h.call('POST', '/v1/principals', { name: 'search-bot-2', kind: 'agent', owner_team: 'search' }, owner);
      expect(proposed.status).toBe(201);
      expect(proposed.body.status).toBe('proposed');
      const visible = (await h.call('GET', '/v1/principals?limit=500', undefined, owner)).body.items.map((p: { name: string }) => p.name).sort();
      expect(visible).toEqual(['olga', 'search-bot', 'search-bot-2']);
      await h.call('POST', '/v1/resources', { name: 'search-index', kind: 'vector_index', owner_team: 'search' });
      expect((await h.call('PATCH', '/v1/resources/search-index', { description: 'ours' }, owner)).status).toBe(200);

      await h.call('DELETE', '/v1/teams/search/members/olga');
      expect((await h.call('GET', '/v1/principals/search-bot', undefined, owner)).status).toBe(404);
      expect((await h.call('PATCH', '/v1/principals/search-bot', { description: 'still mine?' }, owner)).status).toBe(404);
      expect((await h.call('PATCH', '/v1/resources/search-index', { description: 'still mine?' }, owner)).status).toBe(404);
      expect((await h.call('GET', '/v1/principals?limit=500', undefined, owner)).body.items.map((p: { name: string }) => p.name)).toEqual(['olga']);
    });

    it.runIf(enabled)('resources: every kind, owners that are active humans or teams, unique names', async () => {
      for (const kind of RESOURCE_KINDS) {
        const r = await h.call('POST', '/v1/resources', { name: `r-${kind.replace(/_/g, '-')}`, kind, owner: 'pat', classification: 'confidential', risk_tier: 'high', purposes: ['eval'], labels: { k: kind } });
        expect(r.status, r.text).toBe(201);
        expect(r.body).toMatchObject({ kind, owner: { name: 'pat' }, classification: 'confidential', risk_tier: 'high', purposes: ['eval'], labels: { k: kind }, parent: null });
      }
      expect((await h.call('POST', '/v1/resources', { name: 'r-x', kind: 'spaceship', owner: 'pat' })).status).toBe(400);
      expect((await h.call('POST', '/v1/resources', { name: 'r-model', kind: 'model', owner: 'pat' })).body.code).toBe('name_taken');
      expect((await h.call('POST', '/v1/resources', { name: 'r-y', kind: 'model' })).body.code).toBe('owner_required');
      expect((await h.call('POST', '/v1/resources', { name: 'r-y', kind: 'model', owner: 'gone' })).body.code).toBe('owner_not_active_human');
      expect((await h.call('POST', '/v1/resources', { name: 'r-y', kind: 'model', owner: 'search-bot' })).body.code).toBe('owner_not_active_human');
      expect((await h.call('POST', '/v1/resources', { name: 'r-y', kind: 'model', owner: 'pat', owner_team: 'search' })).body.code).toBe('owner_ambiguous');
      expect((await h.call('GET', '/v1/resources?kind=tool')).body.items.map((r: { name: string }) => r.name)).toEqual(['r-tool']);
      expect((await h.call('GET', '/v1/resources?label=k%3Ddataset')).body.items.map((r: { name: string }) => r.name)).toEqual(['r-dataset']);
      // An owner-role operator registers only what they own, and cannot hand it to someone else.
      expect((await h.call('POST', '/v1/resources', { name: 'r-z', kind: 'model', owner: 'pat' }, owner)).status).toBe(403);
      expect((await h.call('POST', '/v1/resources', { name: 'r-z', kind: 'model', owner: 'olga' }, owner)).status).toBe(201);
      expect((await h.call('PATCH', '/v1/resources/r-z', { owner: 'pat' }, owner)).status).toBe(403);
      expect((await h.call('DELETE', '/v1/resources/r-model', undefined, owner)).status).toBe(404);
      expect((await h.call('PATCH', '/v1/resources/r-z', { owner: 'pat' })).body.owner.name).toBe('pat');
    });

    it.runIf(enabled)('hierarchy: parents shown and filtered, cycles refused, deletes refused while children exist', async () => {
      const mk = (name: string, parent?: string) => h.call('POST', '/v1/resources', { name, kind: 'dataset', owner: 'pat', ...(parent ? { parent } : {}) });
      expect((await mk('proj')).status).toBe(201);
      expect((await mk('proj-data', 'proj')).body.parent.name).toBe('proj');
      expect((await mk('proj-data-v1', 'proj-data')).status).toBe(201);
      expect((await mk('orphan-data', 'no-such-parent')).body.code).toBe('parent_not_found');
      expect((await h.call('GET', '/v1/resources?parent=proj')).body.items.map((r: { name: string }) => r.name)).toEqual(['proj-data']);

      const counts = await rowCounts(h);
      const seq = await lastSeq(h);
      expect((await h.call('PATCH', '/v1/resources/proj', { parent: 'proj-data-v1' })).body.code).toBe('parent_cycle');
      expect((await h.call('PATCH', '/v1/resources/proj', { parent: 'proj' })).body.code).toBe('parent_cycle');
      expect((await h.call('PATCH', '/v1/resources/proj-data', { parent: 'proj-data-v1' })).body.code).toBe('parent_cycle');
      expect((await h.call('DELETE', '/v1/resources/proj')).body.code).toBe('resource_has_children');
      expect((await h.call('DELETE', '/v1/resources/proj-data')).body.code).toBe('resource_has_children');
      expect(await rowCounts(h)).toEqual(counts);
      expect(await eventsSince(h, seq)).toEqual([]);

      // Moving to the top is fine; then leaves first, and each delete is audited.
      expect((await h.call('PATCH', '/v1/resources/proj-data-v1', { parent: null })).body.parent).toBeNull();
      expect((await h.call('DELETE', '/v1/resources/proj-data')).status).toBe(204);
      expect((await h.call('DELETE', '/v1/resources/proj')).status).toBe(204);
      expect((await h.call('GET', '/v1/resources/proj')).status).toBe(404);
      const deletes = (await eventsSince(h, seq)).filter((e) => e.type === 'resource.deleted').map((e) => e.target!.name);
      expect(deletes).toEqual(['proj-data', 'proj']);
    });

    it.runIf(enabled)(`hierarchies hold at most ${MAX_DEPTH} levels, also when a subtree is moved`, async () => {
      const chain: string[] = [];
      for (let i = 0; i < MAX_DEPTH; i++) {
        const r = await h.call('POST', '/v1/resources', { name: `deep-${i}`, kind: 'model', owner: 'pat', ...(i ? { parent: `deep-${i - 1}` } : {}) });
        expect(r.status, `level ${i + 1}: ${r.text}`).toBe(201);
        chain.push(r.body.name);
      }
      const tooDeep = await h.call('POST', '/v1/resources', { name: 'deep-x', kind: 'model', owner: 'pat', parent: chain[MAX_DEPTH - 1] });
      expect(tooDeep.body.code).toBe('hierarchy_too_deep');
      // A two-level subtree may hang below level MAX_DEPTH-2, not below MAX_DEPTH-1.
      await h.call('POST', '/v1/resources', { name: 'sub', kind: 'model', owner: 'pat' });
      await h.call('POST', '/v1/resources', { name: 'sub-leaf', kind: 'model', owner: 'pat', parent: 'sub' });
      expect((await h.call('PATCH', '/v1/resources/sub', { parent: chain[MAX_DEPTH - 2] })).body.code).toBe('hierarchy_too_deep');
      expect((await h.call('PATCH', '/v1/resources/sub', { parent: chain[MAX_DEPTH - 3] })).status).toBe(200);
    });
  });
}
