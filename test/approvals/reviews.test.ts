import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_FACTS, type RequestFacts } from '../../src/authz/contracts.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { eventsSince, lastSeq } from '../identity/store-probe.js';

// Access reviews through the real app, registry and decision point: campaigns route each principal to its owner,
// owning team or (orphans) security; keep / reduce / revoke take effect in the registry and at the decision point in
// the decision's transaction; only reviewers (and admin/security) decide; items left undecided are reminded once
// and then lapse, suspending the tiers the settings name; the sweep starts reviews by itself when review dates pass.

const DAY = 86_400_000;

for (const backend of BACKENDS) {
  describe(`access reviews on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    const tok: Record<string, string> = {};

    const ok = async (method: string, url: string, body?: unknown, token?: string) => {
      const r = await h.call(method, url, body, token);
      if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
      return r.body;
    };
    /** A person with an operator token that outlives the clock jumps below (the default lasts 12 hours). */
    const person = async (name: string, role: 'admin' | 'security' | 'auditor' | 'owner') => {
      await ok('POST', '/v1/principals', { name, kind: 'human' });
      tok[name] = (await ok('POST', '/v1/operator-tokens', { principal: name, role, ttl_seconds: 90 * 86_400 })).token;
      await ok('GET', '/v1/whoami', undefined, tok[name]); // the first use is a sign-in that writes; do it now so later counts see only the call under test
    };
    const agent = async (name: string, owner: { owner?: string; owner_team?: string }, extra: Record<string, unknown> = {}) =>
      ok('POST', '/v1/principals', { name, kind: 'agent', status: 'active', risk_tier: 'low', scopes: ['model:invoke', 'data:read'], purposes: ['support', 'research'], ...owner, ...extra });
    const grant = async (principal: string, purpose: string) =>
      (await ok('POST', '/v1/grants', { principal, resource: 'kb', actions: ['read'], purpose, duration_seconds: 60 * 86_400, reason: 'review test' })).id as string;
    const decide = async (principal: string, action: string, resource: string, facts: Partial<RequestFacts> = {}) =>
      (await h.cp.authz.pdp.evaluate({ principal, action, resource: { kind: 'registry', ref: resource }, facts: { ...NO_FACTS, ...facts }, requestId: null })).decision;
    const items = async (campaign: string, token?: string) =>
      (await ok('GET', `/v1/review-items?campaign=${campaign}&limit=500`, undefined, token)).items as Array<Record<string, any>>;
    const itemOf = async (campaign: string, principal: string) => (await items(campaign)).find((i) => i.principal.name === principal)!;
    const principal = async (name: string) => ok('GET', `/v1/principals/${name}`);
    const raw = async (id: string) => h.cp.db.kysely.selectFrom('review_items').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend, { settings: { approvalsSweepSeconds: '0' } });
      await person('olga', 'owner'); // owns agents directly
      await person('mia', 'owner'); // in the team that owns an agent
      await person('oscar', 'owner'); // reviews nothing here
      await person('sid', 'owner'); // in the security team, with no staff role
      await person('sam', 'security');
      await person('aud', 'auditor');
      await ok('POST', '/v1/principals', { name: 'dave', kind: 'human' }); // leaves, orphaning what he owns
      await ok('POST', '/v1/teams', { name: 'ml-team' });
      await ok('PUT', '/v1/teams/ml-team/members/mia', { role: 'member' });
      await ok('POST', '/v1/teams', { name: 'security' });
      await ok('PUT', '/v1/teams/security/members/sid', { role: 'member' });
      await ok('PUT', '/v1/teams/security/members/sam', { role: 'member' });
      await ok('POST', '/v1/resources', { name: 'kb', kind: 'dataset', owner: 'bootstrap-admin', purposes: ['support', 'research'] });
      await agent('a-keep', { owner: 'olga' });
      await agent('a-reduce', { owner: 'olga' }, { risk_tier: 'medium' });
      await agent('a-revoke', { owner: 'olga' });
      await agent('a-team', { owner_team: 'ml-team' });
      await agent('a-orphan', { owner: 'dave' });
      await ok('POST', '/v1/principals/dave/suspend', { reason: 'left the company' });
      h.clock.advance(DAY); // so a recertification's next due date differs from the one set at registration
    });
    afterAll(async () => { await h?.close(); });

    let q1: string;

    it.runIf(enabled)('a campaign routes each principal to its owner, its owning team or, orphaned, to security, with a snapshot of what it holds', async () => {
      const g = await grant('a-reduce', 'support');
      const seq = await lastSeq(h);
      const r = await h.call('POST', '/v1/review-campaigns', { name: 'q1', principals: ['a-keep', 'a-reduce', 'a-revoke', 'a-team', 'a-orphan'] }, tok.sam);
      expect(r.status, r.text).toBe(201);
      q1 = r.body.id;
      expect(r.body).toMatchObject({
        name: 'q1', status: 'open', automatic: false, due_only: false, created_by: { name: 'sam' }, suspend_unreviewed: ['high', 'critical'], already_in_review: 0,
        progress: { total: 5, pending: 5, kept: 0, reduced: 0, revoked: 0, lapsed: 0, overdue: 0 },
      });
      expect(Date.parse(r.body.due_at) - h.clock.now().getTime()).toBe(14 * DAY);
      expect(Date.parse(r.body.grace_until) - Date.parse(r.body.due_at)).toBe(14 * DAY);

      const all = await items(q1, tok.aud);
      const by = (n: string) => all.find((i) => i.principal.name === n)!;
      expect(by('a-keep')).toMatchObject({ reviewer: { name: 'olga' }, reviewer_team: null, route: 'owner', orphaned: false, status: 'pending', notified: ['due'] });
      expect(by('a-team')).toMatchObject({ reviewer: null, reviewer_team: { name: 'ml-team' }, route: 'owning_team', orphaned: false });
      expect(by('a-orphan')).toMatchObject({ reviewer: null, reviewer_team: { name: 'security' }, route: 'security', route_reason: 'orphaned', orphaned: true });
      expect(by('a-reduce').snapshot).toMatchObject({ scopes: ['model:invoke', 'data:read'], purposes: ['support', 'research'], grants: [{ id: g, resource: { name: 'kb' }, actions: ['read'], purpose: 'support' }] });

      const events = await eventsSince(h, seq);
      expect(events.map((e) => e.type)).toEqual(['review.campaign_started']);
      expect(events[0]).toMatchObject({ actor: { principal_name: 'sam' }, target: { type: 'review_campaign', id: q1 }, details: { items: 5, by_route: { owner: 3, owning_team: 1, security: 1 } } });

      // Nobody is in two open campaigns: a second campaign over the same principals has nothing to do and closes.
      const again = await h.call('POST', '/v1/review-campaigns', { name: 'q1-again', principals: ['a-keep', 'a-team'] });
      expect(again.body).toMatchObject({ status: 'closed', already_in_review: 2, progress: { total: 0 } });
    });

    it.runIf(enabled)('each reviewer sees only the items sent to them; staff and auditors see all', async () => {
      const names = async (token: string, extra = '') => (await ok('GET', `/v1/review-items?campaign=${q1}${extra}`, undefined, token)).items.map((i: { principal: { name: string } }) => i.principal.name).sort();
      expect(await names(tok.olga!)).toEqual(['a-keep', 'a-reduce', 'a-revoke']);
      expect(await names(tok.mia!)).toEqual(['a-team']);
      expect(await names(tok.sid!)).toEqual(['a-orphan']);
      expect(await names(tok.oscar!)).toEqual([]);
      expect(await names(tok.aud!)).toHaveLength(5);
      expect(await names(tok.sam!, '&mine=true')).toEqual(['a-orphan']);
      expect(await names(tok.olga!, '&status=kept')).toEqual([]);
      const teamItem = await itemOf(q1, 'a-team');
      expect((await h.call('GET', `/v1/review-items/${teamItem.id}`, undefined, tok.olga)).status).toBe(404);
      expect((await h.call('GET', `/v1/review-items/${teamItem.id}`, undefined, tok.mia)).body.principal.name).toBe('a-team');
      expect((await h.call('GET', `/v1/review-campaigns/${q1}`, undefined, tok.olga)).body.progress.total).toBe(5);
      const list = await ok('GET', '/v1/review-campaigns?status=open', undefined, tok.aud);
      expect(list.items.map((c: { name: string }) => c.name)).toContain('q1');
      expect(list.items.map((c: { name: string }) => c.name)).not.toContain('q1-again');
      expect((await h.call('GET', '/v1/review-campaigns/0190a6f0-0000-7000-8000-000000000000')).status).toBe(404);
    });

    it.runIf(enabled)('keep recertifies: the next review is a full period of the tier away, set by the workflow for an owner', async () => {
      const item = await itemOf(q1, 'a-keep');
      const seq = await lastSeq(h);
      const r = await h.call('POST', `/v1/review-items/${item.id}/decision`, { decision: 'keep', reason: 'still answers tickets' }, tok.olga);
      expect(r.status, r.text).toBe(200);
      const next = new Date(h.clock.now().getTime() + 365 * DAY).toISOString();
      expect(r.body).toMatchObject({ status: 'kept', decided_by: { name: 'olga' }, decision_reason: 'still answers tickets', applied: { decision: 'keep', next_review_due_at: next, applied_as: { review_due_at: 'workflow' } } });
      expect((await principal('a-keep')).review_due_at).toBe(next);
      const events = await eventsSince(h, seq);
      expect(events.map((e) => e.type)).toEqual(['principal.updated', 'review.item_decided']);
      expect(events[0]!.actor.principal_name).toBe(`approvals:review/${item.id}`);
      expect(events[0]!.details.reason).toMatch(/by olga: still answers tickets/);
      expect(events[1]).toMatchObject({ actor: { principal_name: 'olga' }, target: { type: 'review_item', id: item.id }, details: { decision: 'keep', principal: { name: 'a-keep' } } });
      const twice = await h.call('POST', `/v1/review-items/${item.id}/decision`, { decision: 'keep', reason: 'again' }, tok.olga);
      expect([twice.status, twice.body.code]).toEqual([409, 'review_not_open']);
    });

    it.runIf(enabled)('reduce narrows scopes and purposes in the registry and revokes the named grants at the decision point; widening is refused', async () => {
      const keepGrant = (await itemOf(q1, 'a-reduce')).snapshot.grants[0].id as string;
      const dropGrant = await grant('a-reduce', 'research');
      expect(await decide('a-reduce', 'read', 'kb', { purpose: 'research' })).toBe('allow');
      const item = await itemOf(q1, 'a-reduce');
      const url = `/v1/review-items/${item.id}/decision`;
      const code = async (body: unknown, token = tok.olga) => { const x = await h.call('POST', url, body, token); return `${x.status} ${x.body?.code}`; };
      const seq = await lastSeq(h);
      expect(await code({ decision: 'reduce', scopes: ['model:invoke', 'admin:all'], reason: 'x' })).toBe('400 validation_failed');
      expect(await code({ decision: 'reduce', purposes: ['support', 'marketing'], reason: 'x' })).toBe('400 validation_failed');
      expect(await code({ decision: 'reduce', revoke_grants: ['0190a6f0-0000-7000-8000-000000000000'], reason: 'x' })).toBe('400 validation_failed');
      expect(await code({ decision: 'reduce', scopes: ['model:invoke', 'data:read'], reason: 'x' })).toBe('400 validation_failed'); // nothing taken away
      expect(await code({ decision: 'keep', scopes: ['model:invoke'], reason: 'x' })).toBe('400 validation_failed');
      expect(await code({ decision: 'reduce', scopes: ['model:invoke'], reason: 'x' }, tok.oscar)).toBe('403 forbidden');
      expect((await eventsSince(h, seq)).filter((e) => e.type.startsWith('review.') || e.type.startsWith('principal.'))).toEqual([]);

      const r = await h.call('POST', url, { decision: 'reduce', scopes: ['model:invoke'], purposes: ['support'], revoke_grants: [dropGrant], reason: 'research finished' }, tok.olga);
      expect(r.status, r.text).toBe(200);
      expect(r.body).toMatchObject({
        status: 'reduced',
        applied: {
          scopes: { before: ['model:invoke', 'data:read'], after: ['model:invoke'] }, purposes: { before: ['support', 'research'], after: ['support'] },
          grants_revoked: [{ id: dropGrant, resource: 'kb' }], applied_as: { narrow: 'decider', grants: 'workflow', review_due_at: 'workflow' },
        },
      });
      const p = await principal('a-reduce');
      expect([p.scopes, p.purposes]).toEqual([['model:invoke'], ['support']]);
      expect(p.review_due_at).toBe(new Date(h.clock.now().getTime() + 180 * DAY).toISOString()); // medium
      expect(await decide('a-reduce', 'read', 'kb', { purpose: 'research' })).toBe('deny');
      expect(await decide('a-reduce', 'read', 'kb', { purpose: 'support' })).toBe('allow'); // the grant kept
      expect((await ok('GET', `/v1/grants/${keepGrant}`)).status).toBe('active');
      const events = (await eventsSince(h, seq)).filter((e) => !e.type.startsWith('authz.'));
      expect(events.map((e) => e.type)).toEqual(['principal.updated', 'grant.revoked', 'principal.updated', 'review.item_decided']);
      expect(events[0]).toMatchObject({ actor: { principal_name: 'olga' }, details: { changed: ['scopes', 'purposes'] } }); // an owner may narrow what they own
      expect(events[1]!.actor.principal_name).toBe(`approvals:review/${item.id}`);
    });

    it.runIf(enabled)('revoke ends every standing grant and suspends the principal', async () => {
      await grant('a-revoke', 'support');
      await grant('a-revoke', 'research');
      expect(await decide('a-revoke', 'read', 'kb', { purpose: 'support' })).toBe('allow');
      const item = await itemOf(q1, 'a-revoke');
      const r = await h.call('POST', `/v1/review-items/${item.id}/decision`, { decision: 'revoke', reason: 'project over' }, tok.olga);
      expect(r.status, r.text).toBe(200);
      expect(r.body).toMatchObject({ status: 'revoked', applied: { suspended: true, next_review_due_at: null, applied_as: { suspend: 'decider', grants: 'workflow' } } });
      expect(r.body.applied.grants_revoked).toHaveLength(2);
      expect((await principal('a-revoke')).status).toBe('suspended');
      expect((await ok('GET', '/v1/grants?principal=a-revoke&active=true')).items).toEqual([]);
      expect(await decide('a-revoke', 'read', 'kb', { purpose: 'support' })).toBe('deny');
    });

    it.runIf(enabled)('only the reviewer decides: a team member for the team, a security member for orphans; others get 403; the campaign closes when done', async () => {
      const team = await itemOf(q1, 'a-team');
      const orphan = await itemOf(q1, 'a-orphan');
      for (const [id, token] of [[team.id, tok.oscar], [team.id, tok.olga], [orphan.id, tok.mia], [orphan.id, tok.aud]] as const) {
        const r = await h.call('POST', `/v1/review-items/${id}/decision`, { decision: 'keep', reason: 'x' }, token);
        expect([r.status, r.body.code]).toEqual([403, 'forbidden']);
      }
      expect((await h.call('POST', `/v1/review-items/${team.id}/decision`, { decision: 'keep', reason: 'team still uses it' }, tok.mia)).status).toBe(200);
      expect((await h.call('GET', `/v1/review-campaigns/${q1}`)).body.status).toBe('open');
      const seq = await lastSeq(h);
      const r = await h.call('POST', `/v1/review-items/${orphan.id}/decision`, { decision: 'keep', reason: 'reassigning to ml-team' }, tok.sid);
      expect(r.status, r.text).toBe(200);
      const c = await ok('GET', `/v1/review-campaigns/${q1}`);
      expect(c).toMatchObject({ status: 'closed', progress: { total: 5, pending: 0, kept: 3, reduced: 1, revoked: 1, lapsed: 0, overdue: 0 } });
      expect((await eventsSince(h, seq)).map((e) => e.type)).toEqual(['principal.updated', 'review.item_decided', 'review.campaign_closed']);
      const closed = await h.call('POST', `/v1/review-items/${orphan.id}/decision`, { decision: 'revoke', reason: 'x' }, tok.sam);
      expect([closed.status, closed.body.code]).toEqual([409, 'review_not_open']);
    });

    it.runIf(enabled)('starting needs review.write, and named principals must be active and non-human', async () => {
      expect((await h.call('POST', '/v1/review-campaigns', { name: 'x', principals: ['a-keep'] }, tok.olga)).status).toBe(403);
      expect((await h.call('POST', '/v1/review-campaigns', { name: 'x', principals: ['nobody'] })).body.code).toBe('principal_not_found');
      expect((await h.call('POST', '/v1/review-campaigns', { name: 'x', principals: ['olga'] })).body.code).toBe('validation_failed');
      expect((await h.call('POST', '/v1/review-campaigns', { name: 'x', principals: ['a-revoke'] })).body.code).toBe('principal_not_active');
      expect((await h.call('POST', '/v1/review-campaigns', { name: 'x', tiers: ['extreme'] })).body.code).toBe('validation_failed');
    });

    it.runIf(enabled)('undecided items are reminded once when overdue, then lapse after the grace period: high and critical are suspended, low is not', async () => {
      await agent('l-low', { owner: 'olga' });
      for (const [name, tier] of [['l-high', 'high'], ['l-crit', 'critical']] as const) {
        await agent(name, { owner: 'olga' }); // active high/critical principals come through registration; raising the tier later is allowed
        await ok('PATCH', `/v1/principals/${name}`, { risk_tier: tier, reason: 'handles payments' });
      }
      await ok('POST', '/v1/webhooks', { name: 'reviews-hook', url: 'http://127.0.0.1:9/reviews', events: ['review.due', 'review.overdue'], reason: 'review notices' });
      const notices = async (type: string) => (await h.cp.db.kysely.selectFrom('webhook_deliveries').select('payload').where('event_type', '=', type).execute())
        .map((d) => JSON.parse(d.payload) as { data: { item: { id: string }; principal: { name: string }; suspended_if_unreviewed: boolean }; recipients: Array<{ name: string }> });
      const c = await ok('POST', '/v1/review-campaigns', { name: 'lapse', principals: ['l-low', 'l-high', 'l-crit'], due_in_days: 1 });
      const ids = (await items(c.id)).map((i) => i.id as string);
      const due = (await notices('review.due')).filter((n) => ids.includes(n.data.item.id));
      expect(due.map((n) => [n.data.principal.name, n.data.suspended_if_unreviewed, n.recipients.map((r) => r.name)]).sort())
        .toEqual([['l-crit', true, ['olga']], ['l-high', true, ['olga']], ['l-low', false, ['olga']]]);

      h.clock.advance(DAY); // the due instant itself: not yet overdue
      await h.cp.approvals.sweep();
      expect((await ok('GET', `/v1/review-campaigns/${c.id}`)).progress.overdue).toBe(0);
      h.clock.advance(1);
      let seq = await lastSeq(h);
      await h.cp.approvals.sweep();
      const overdue = (await eventsSince(h, seq)).filter((e) => e.type === 'review.item_overdue');
      expect(overdue.map((e) => e.target!.id).sort()).toEqual([...ids].sort());
      expect(overdue[0]!.details.notified).toEqual([{ id: (await principal('olga')).id, name: 'olga' }]);
      for (const id of ids) expect(JSON.parse((await raw(id)).notified!)).toEqual(['due', 'overdue']);
      expect((await ok('GET', `/v1/review-campaigns/${c.id}`)).progress).toMatchObject({ pending: 3, overdue: 3 });
      expect((await items(c.id)).every((i) => i.overdue)).toBe(true);

      h.clock.advance(7 * DAY);
      seq = await lastSeq(h);
      await h.cp.approvals.sweep();
      expect((await eventsSince(h, seq)).filter((e) => e.type.startsWith('review.'))).toEqual([]); // once only, and not lapsed within the grace period
      expect((await notices('review.overdue')).map((n) => n.data.item.id).sort()).toEqual([...ids].sort());

      h.clock.advance(7 * DAY + 1); // past due + 14 days of grace
      seq = await lastSeq(h);
      await h.cp.approvals.sweep();
      const events = await eventsSince(h, seq);
      const lapsed = events.filter((e) => e.type === 'review.item_lapsed');
      expect(lapsed).toHaveLength(3);
      expect(Object.fromEntries(lapsed.map((e) => [e.details.principal.name, e.details.applied.suspended]))).toEqual({ 'l-low': false, 'l-high': true, 'l-crit': true });
      expect(events.filter((e) => e.type === 'principal.suspended').map((e) => e.target!.name).sort()).toEqual(['l-crit', 'l-high']);
      expect(events.find((e) => e.type === 'principal.suspended')!.actor.principal_name).toMatch(/^approvals:review\//);
      expect([(await principal('l-low')).status, (await principal('l-high')).status, (await principal('l-crit')).status]).toEqual(['active', 'suspended', 'suspended']);
      expect(await ok('GET', `/v1/review-campaigns/${c.id}`)).toMatchObject({ status: 'closed', progress: { total: 3, lapsed: 3, pending: 0, overdue: 0 } });
      expect(events.map((e) => e.type)).toContain('review.campaign_closed');
      const late = await h.call('POST', `/v1/review-items/${ids[0]}/decision`, { decision: 'keep', reason: 'too late' });
      expect([late.status, late.body.code]).toEqual([409, 'review_not_open']);
      const item = await ok('GET', `/v1/review-items/${ids[0]}`);
      expect(item).toMatchObject({ status: 'lapsed', decided_by: null, overdue: false });
    });

    it.runIf(enabled)('the sweep starts reviews by itself for principals whose review date passed, once, in the campaign of the day', async () => {
      const now = h.clock.now();
      h.clock.set(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1, 1))); // early in a UTC day: the steps below stay in it
      await agent('s-due', { owner: 'olga' });
      await agent('s-later', { owner: 'olga' });
      await ok('PATCH', '/v1/principals/s-due', { review_due_at: new Date(h.clock.now().getTime() - DAY).toISOString(), reason: 'imported with an overdue review' });
      h.clock.advance(11 * 60_000); // the scheduler reads the registry at most every ten minutes
      const seq = await lastSeq(h);
      await h.cp.approvals.sweep();
      const started = (await eventsSince(h, seq)).filter((e) => e.type.startsWith('review.'));
      expect(started.map((e) => e.type)).toEqual(['review.campaign_started']);
      expect(started[0]).toMatchObject({ actor: { principal_name: 'approvals:review-schedule' }, details: { automatic: true, items: 1 } });
      const campaign = await ok('GET', `/v1/review-campaigns/${started[0]!.target!.id}`);
      expect(campaign).toMatchObject({ name: `scheduled-${h.clock.now().toISOString().slice(0, 10)}`, automatic: true, created_by: null, progress: { total: 1, pending: 1 } });
      const [item] = await items(campaign.id, tok.olga);
      expect(item).toMatchObject({ principal: { name: 's-due' }, reviewer: { name: 'olga' }, notified: ['due'] });

      h.clock.advance(11 * 60_000);
      const seq2 = await lastSeq(h);
      await h.cp.approvals.sweep();
      expect((await eventsSince(h, seq2)).filter((e) => e.type.startsWith('review.'))).toEqual([]); // already in review

      // Another principal falling due the same day joins the day's campaign.
      await ok('PATCH', '/v1/principals/s-later', { review_due_at: new Date(h.clock.now().getTime() - 1000).toISOString(), reason: 'moved in' });
      h.clock.advance(11 * 60_000);
      const seq3 = await lastSeq(h);
      await h.cp.approvals.sweep();
      const extended = (await eventsSince(h, seq3)).filter((e) => e.type.startsWith('review.'));
      expect(extended.map((e) => [e.type, e.target!.id])).toEqual([['review.campaign_extended', campaign.id]]);
      expect(extended[0]!.details).toMatchObject({ items: 1, already_in_review: 1 });
      expect((await ok('GET', `/v1/review-campaigns/${campaign.id}`)).progress.total).toBe(2);

      const r = await h.call('POST', `/v1/review-items/${item!.id}/decision`, { decision: 'keep', reason: 'fine' }, tok.olga);
      expect(r.status, r.text).toBe(200);
      expect(Date.parse((await principal('s-due')).review_due_at) - h.clock.now().getTime()).toBe(365 * DAY);
    });

    it.runIf(enabled)('a campaign takes only principals falling due by its due date unless due_only is false; tiers narrow it', async () => {
      await agent('d-soon', { owner: 'olga' });
      await agent('d-later', { owner: 'olga' });
      await agent('d-medium', { owner: 'olga' }, { risk_tier: 'medium' });
      await ok('PATCH', '/v1/principals/d-soon', { review_due_at: new Date(h.clock.now().getTime() + 5 * DAY).toISOString(), reason: 'due soon' });
      const names = async (body: Record<string, unknown>) => {
        const c = await ok('POST', '/v1/review-campaigns', body);
        return { c, names: (await items(c.id)).map((i) => i.principal.name as string) };
      };
      const due = await names({ name: 'due-low', tiers: ['low'], due_in_days: 7 });
      expect(due.names).toContain('d-soon');
      expect(due.names).not.toContain('d-later');
      expect(due.c).toMatchObject({ due_only: true, tiers: ['low'] });
      const every = await names({ name: 'every-medium', tiers: ['medium'], due_only: false });
      expect(every.names).toContain('d-medium');
      expect(every.names).not.toContain('d-later'); // another tier
      expect(every.names).not.toContain('a-revoke'); // suspended: not in scope
      const rest = await names({ name: 'every-low', tiers: ['low'], due_only: false });
      expect(rest.names).toContain('d-later');
      expect(rest.names).not.toContain('d-soon'); // already in an open campaign
      expect(rest.c.already_in_review).toBeGreaterThanOrEqual(1);
    });
  });
}
