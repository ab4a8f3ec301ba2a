import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_FACTS } from '../../src/authz/contracts.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { eventsSince, lastSeq } from '../identity/store-probe.js';

// Access requests end to end through the real app: the rule by risk tier and classification, separation of duties
// on every decision (each bypass is its own failing attempt), approval → grant effective at once on the decision
// point, edits voiding approvals, cancellation and expiry, registration of high-risk principals, early revocation.

for (const backend of BACKENDS) {
  describe(`access requests on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    const t = {} as Record<'alice' | 'bob' | 'rita' | 'ron' | 'sam' | 'sue' | 'al', string>;
    let n = 0;
    const uniq = (p: string) => `${p}-${++n}`;
    const must = async (method: string, url: string, body?: unknown, token?: string) => {
      const r = await h.call(method, url, body, token);
      if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
      return r.body;
    };
    const decide = async (principal: string, action: string, resource: string, purpose = 'support') =>
      (await h.cp.authz.pdp.evaluate({ principal, action, resource: { kind: 'registry', ref: resource }, facts: { ...NO_FACTS, purpose }, requestId: null })).decision;
    const file = (body: Record<string, unknown>, token: string = t.alice) => h.call('POST', '/v1/access-requests', { justification: 'triage of the support queue', ...body }, token);
    const approve = (id: string, hash: string, token: string, extra: Record<string, unknown> = {}) => h.call('POST', `/v1/access-requests/${id}/approve`, { request_hash: hash, ...extra }, token);
    const agent = async (owner: string, extra: Record<string, unknown> = {}) => {
      const name = uniq(`${owner}-bot`);
      await must('POST', '/v1/principals', { name, kind: 'agent', owner, status: 'active', purposes: ['support'], ...extra });
      return name;
    };

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      for (const [name, role] of [['alice', 'owner'], ['bob', 'owner'], ['rita', 'owner'], ['ron', 'owner'], ['sam', 'security'], ['sue', 'security'], ['al', 'admin']] as const) {
        t[name] = await h.operator(name, role);
      }
      await must('POST', '/v1/teams', { name: 'security' });
      for (const p of ['sam', 'sue']) await must('PUT', `/v1/teams/security/members/${p}`, {});
      await must('POST', '/v1/teams', { name: 'ml-platform' });
      for (const p of ['rita', 'ron']) await must('PUT', `/v1/teams/ml-platform/members/${p}`, {});
      await must('POST', '/v1/resources', { name: 'notes', kind: 'dataset', owner: 'bob', classification: 'internal', risk_tier: 'low', purposes: ['support'] });
      await must('POST', '/v1/resources', { name: 'corpus', kind: 'dataset', owner: 'bob', classification: 'internal', risk_tier: 'medium', purposes: ['support'] });
      await must('POST', '/v1/resources', { name: 'tickets', kind: 'dataset', owner: 'bob', classification: 'confidential', risk_tier: 'low', purposes: ['support'] });
      await must('POST', '/v1/resources', { name: 'weights', kind: 'model', owner_team: 'ml-platform', classification: 'internal', risk_tier: 'high', purposes: ['support'] });
      await must('POST', '/v1/resources', { name: 'pii', kind: 'dataset', owner: 'bob', classification: 'restricted', risk_tier: 'critical', purposes: ['support'] });
    });
    afterAll(async () => { await h?.close(); });

    it.runIf(enabled)('low: auto-approved, audited, the grant effective at once', async () => {
      const bot = await agent('alice');
      const seq = await lastSeq(h);
      const r = await file({ subject: bot, resources: ['notes'], actions: ['read'], purpose: 'support', duration_seconds: 3600 });
      expect(r.status, r.text).toBe(201);
      expect(r.body).toMatchObject({ status: 'approved', tier: 'low', decided_by: 'auto', requirement: { auto_approve: true, slots: [] } });
      expect(r.body.grant_ids).toHaveLength(1);
      expect(await decide(bot, 'read', 'notes')).toBe('allow');
      const types = (await eventsSince(h, seq)).map((e) => e.type).filter((x) => !x.startsWith('auth.'));
      expect(types).toEqual(['access_request.created', 'grant.created', 'access_request.approved']);
      const g = await must('GET', `/v1/grants/${r.body.grant_ids[0]}`);
      expect(g).toMatchObject({ source: 'approval', source_ref: r.body.id, purpose: 'support' });
    });

    it.runIf(enabled)('classification raises the tier: a low-risk confidential dataset needs one approver', async () => {
      const bot = await agent('alice');
      const r = await file({ subject: bot, resources: ['tickets'], actions: ['read'], purpose: 'support', duration_seconds: 3600 });
      expect(r.body).toMatchObject({ status: 'pending', tier: 'medium', needs: ['anyone'] });
    });

    it.runIf(enabled)('medium: the requester cannot approve; another person can, and the grant holds at once', async () => {
      const bot = await agent('alice');
      const r = await file({ subject: bot, resources: ['corpus'], actions: ['read', 'invoke'], purpose: 'support', duration_seconds: 7200, ticket: 'INC-7' });
      expect(r.status, r.text).toBe(201);
      expect(r.body).toMatchObject({ status: 'pending', tier: 'medium', requester: { name: 'alice' }, accountable: { name: 'alice' }, needs: ['anyone'] });
      expect(await decide(bot, 'read', 'corpus')).toBe('deny');
      const self = await approve(r.body.id, r.body.request_hash, t.alice);
      expect(self.status).toBe(403);
      expect(self.body.code).toBe('self_approval');
      const ok = await approve(r.body.id, r.body.request_hash, t.bob, { comment: 'fine' });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.body).toMatchObject({ status: 'approved', approvals: [{ approver: { name: 'bob' }, decision: 'approve', counts: true }] });
      expect(await decide(bot, 'read', 'corpus')).toBe('allow');
      expect(await decide(bot, 'write', 'corpus')).toBe('deny');
      // Decided requests take no more decisions.
      const late = await approve(r.body.id, r.body.request_hash, t.sam);
      expect(late.status).toBe(409);
      expect(late.body).toMatchObject({ code: 'request_not_pending', status: 'approved' });
    });

    it.runIf(enabled)('nobody approves on behalf of someone else: there is no approver field', async () => {
      const bot = await agent('alice');
      const r = await file({ subject: bot, resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 });
      const forged = await approve(r.body.id, r.body.request_hash, t.alice, { approver: 'bob' });
      expect(forged.status).toBe(400);
      expect(forged.body.code).toBe('validation_failed');
      expect((await must('GET', `/v1/access-requests/${r.body.id}`)).approvals).toEqual([]);
    });

    it.runIf(enabled)('high: only the resource owner\'s team approves; an admin does not approve around the rule', async () => {
      const bot = await agent('alice');
      const r = await file({ subject: bot, resources: ['weights'], actions: ['invoke'], purpose: 'support', duration_seconds: 3600 });
      expect(r.body).toMatchObject({ status: 'pending', tier: 'high', needs: ['resource_owners'] });
      for (const who of ['al', 'sam', 'bob']) {
        const no = await approve(r.body.id, r.body.request_hash, t[who as keyof typeof t]);
        expect(no.status, who).toBe(403);
        expect(no.body.code).toBe('approver_not_eligible');
      }
      const boot = await approve(r.body.id, r.body.request_hash, h.adminToken);
      expect(boot.body.code).toBe('approver_not_eligible');
      const ok = await approve(r.body.id, r.body.request_hash, t.rita);
      expect(ok.body.status).toBe('approved');
      expect(await decide(bot, 'invoke', 'weights')).toBe('allow');
    });

    it.runIf(enabled)('high: the subject\'s owner cannot be the only approver, even from the right team', async () => {
      const bot = await agent('rita');
      const r = await file({ subject: bot, resources: ['weights'], actions: ['invoke'], purpose: 'support', duration_seconds: 3600 }, t.al);
      const first = await approve(r.body.id, r.body.request_hash, t.rita);
      expect(first.status, first.text).toBe(200);
      expect(first.body).toMatchObject({ status: 'pending', needs: ["someone other than the subject's owner"] });
      expect(await decide(bot, 'invoke', 'weights')).toBe('deny');
      const second = await approve(r.body.id, r.body.request_hash, t.ron);
      expect(second.body.status).toBe('approved');
    });

    it.runIf(enabled)('critical: two distinct people, one from security; one person counts once whatever token', async () => {
      const bot = await agent('alice');
      const r = await file({ subject: bot, resources: ['pii'], actions: ['read'], purpose: 'support', duration_seconds: 3600 });
      expect(r.body).toMatchObject({ tier: 'critical', needs: ['security', 'anyone'] });
      const samAgain = (await must('POST', '/v1/operator-tokens', { principal: 'sam', role: 'security' })).token as string;
      expect((await approve(r.body.id, r.body.request_hash, t.sam)).body).toMatchObject({ status: 'pending', needs: ['anyone'] });
      const twice = await approve(r.body.id, r.body.request_hash, samAgain);
      expect(twice.status).toBe(409);
      expect(twice.body.code).toBe('already_decided');
      const done = await approve(r.body.id, r.body.request_hash, t.bob);
      expect(done.body.status).toBe('approved');
      expect(done.body.approvals.map((a: any) => a.approver.name)).toEqual(['sam', 'bob']);
    });

    it.runIf(enabled)('an edit changes the hash: earlier approvals stop counting, approving the old text is refused', async () => {
      const bot = await agent('alice');
      const r = await file({ subject: bot, resources: ['pii'], actions: ['read'], purpose: 'support', duration_seconds: 3600 });
      await approve(r.body.id, r.body.request_hash, t.sam);
      const edited = await h.call('PATCH', `/v1/access-requests/${r.body.id}`, { actions: ['read', 'export'] }, t.alice);
      expect(edited.status, edited.text).toBe(200);
      expect(edited.body.request_hash).not.toBe(r.body.request_hash);
      expect(edited.body).toMatchObject({ revision: 2, needs: ['security', 'anyone'], approvals: [{ approver: { name: 'sam' }, counts: false }] });
      const stale = await approve(r.body.id, r.body.request_hash, t.bob);
      expect(stale.status).toBe(409);
      expect(stale.body).toMatchObject({ code: 'request_changed', current_hash: edited.body.request_hash });
      // Nobody but the requester edits.
      expect((await h.call('PATCH', `/v1/access-requests/${r.body.id}`, { justification: 'mine now' }, t.bob)).status).toBe(403);
      expect((await approve(r.body.id, edited.body.request_hash, t.bob)).body.status).toBe('pending');
      expect((await approve(r.body.id, edited.body.request_hash, t.sam)).body.status).toBe('approved');
    });

    it.runIf(enabled)('cancelled and expired requests take no approvals; expiry is swept, audited', async () => {
      const bot = await agent('alice');
      const c = await file({ subject: bot, resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 });
      expect((await h.call('POST', `/v1/access-requests/${c.body.id}/cancel`, { reason: 'not needed' }, t.alice)).body.status).toBe('cancelled');
      const afterCancel = await approve(c.body.id, c.body.request_hash, t.bob);
      expect(afterCancel.body).toMatchObject({ code: 'request_not_pending', status: 'cancelled' });

      // A shorter pending time for medium (the rules are data; the request freezes the rule it was filed under).
      const current = await must('GET', '/v1/approval-settings');
      const shorter = structuredClone(current.settings);
      shorter.rules.medium.pending_seconds = 600;
      const put = await must('PUT', '/v1/approval-settings', { expected_version: current.version, settings: shorter, reason: 'test expiry' });
      const e = await file({ subject: bot, resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 });
      expect(e.body.pending_until).toBe(new Date(h.clock.now().getTime() + 600_000).toISOString());
      await must('PUT', '/v1/approval-settings', { expected_version: put.version, settings: current.settings, reason: 'restore' });
      h.clock.advance(600_000);
      const afterExpiry = await approve(e.body.id, e.body.request_hash, t.bob);
      expect(afterExpiry.status).toBe(409);
      expect(afterExpiry.body).toMatchObject({ code: 'request_not_pending', status: 'expired' });
      const seq = await lastSeq(h);
      await h.cp.approvals.sweep();
      expect((await must('GET', `/v1/access-requests/${e.body.id}`)).status).toBe('expired');
      expect((await eventsSince(h, seq)).map((x) => x.type)).toContain('access_request.expired');
      expect(await decide(bot, 'read', 'corpus')).toBe('deny');
    });

    it.runIf(enabled)('deny ends the request; the denier must be eligible and not the requester', async () => {
      const bot = await agent('alice');
      const r = await file({ subject: bot, resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 });
      expect((await h.call('POST', `/v1/access-requests/${r.body.id}/deny`, { request_hash: r.body.request_hash, reason: 'no' }, t.alice)).body.code).toBe('self_approval');
      const d = await h.call('POST', `/v1/access-requests/${r.body.id}/deny`, { request_hash: r.body.request_hash, reason: 'use the sandbox' }, t.bob);
      expect(d.body).toMatchObject({ status: 'denied', decision_reason: 'use the sandbox' });
    });

    it.runIf(enabled)('bad content is refused with stable codes and nothing written', async () => {
      const bot = await agent('alice');
      const before = await lastSeq(h);
      expect((await file({ subject: bot, resources: ['corpus'], actions: ['read'], purpose: 'billing', duration_seconds: 600 })).body.code).toBe('purpose_not_allowed');
      const long = await file({ subject: bot, resources: ['pii'], actions: ['read'], purpose: 'support', duration_seconds: 86_400 });
      expect(long.body).toMatchObject({ code: 'request_too_long', max_seconds: 8 * 3600 });
      expect((await file({ subject: bot, resources: ['nope'], actions: ['read'], purpose: 'support', duration_seconds: 600 })).body.code).toBe('resource_not_found');
      expect((await file({ subject: bot, resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 59 })).body.code).toBe('validation_failed');
      expect((await file({ subject: bot, resources: ['corpus'], actions: ['read'], purpose: 'support' })).body.code).toBe('validation_failed');
      // Someone else's agent: not yours to ask for.
      expect((await file({ subject: bot, resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 }, t.ron)).status).toBe(403);
      expect(await lastSeq(h)).toBe(before);
    });

    it.runIf(enabled)('an agent asks for itself: its owner is the accountable requester and cannot approve', async () => {
      const bot = await agent('alice', { scopes: ['custos:access-request'] });
      const key = (await must('POST', '/v1/api-keys', { principal: bot, scope: ['custos:access-request'] })).key as string;
      const r = await file({ resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 }, key);
      expect(r.status, r.text).toBe(201);
      expect(r.body).toMatchObject({ requester: { name: bot, kind: 'agent' }, accountable: { name: 'alice' }, subject: { name: bot } });
      expect((await approve(r.body.id, r.body.request_hash, t.alice)).body.code).toBe('self_approval');
      // The agent itself has no way to approve anything.
      expect((await approve(r.body.id, r.body.request_hash, key)).status).toBe(403);
      // It sees its own requests only, and may not ask for another principal.
      expect((await h.call('GET', '/v1/access-requests', undefined, key)).body.items.map((x: any) => x.id)).toEqual([r.body.id]);
      const other = await agent('bob');
      expect((await file({ subject: other, resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 }, key)).status).toBe(403);
      expect((await approve(r.body.id, r.body.request_hash, t.bob)).body.status).toBe('approved');
    });

    it.runIf(enabled)('the tier counts what is below a resource: a grant on a low parent would cover a critical child', async () => {
      await must('POST', '/v1/resources', { name: uniq('box'), kind: 'dataset', owner: 'bob', classification: 'public', risk_tier: 'low', purposes: ['support'] });
      const box = `box-${n}`;
      await must('POST', '/v1/resources', { name: uniq('crown'), kind: 'dataset', owner: 'bob', parent: box, risk_tier: 'critical', purposes: ['support'] });
      const bot = await agent('alice');
      const r = await file({ subject: bot, resources: [box], actions: ['read'], purpose: 'support', duration_seconds: 600 });
      expect(r.body).toMatchObject({ status: 'pending', tier: 'critical', needs: ['security', 'anyone'] });
      // Nor may an admin grant it directly: direct grants stop at medium, descendants included.
      const direct = await h.call('POST', '/v1/grants', { principal: bot, resource: box, actions: ['read'], purpose: 'support', duration_seconds: 600, reason: 'around the rules' }, t.al);
      expect([direct.status, direct.body.code, direct.body.tier]).toEqual([403, 'approval_required', 'critical']);
      const pii = await h.call('POST', '/v1/grants', { principal: bot, resource: 'pii', actions: ['read'], purpose: 'support', duration_seconds: 600, reason: 'around the rules' });
      expect(pii.body.code).toBe('approval_required');
      expect((await h.call('POST', '/v1/grants', { principal: bot, resource: 'corpus', actions: ['read'], purpose: 'support', duration_seconds: 600, reason: 'medium is fine' })).status).toBe(201);
    });

    it.runIf(enabled)('the person who benefits never decides, whoever filed the request for them', async () => {
      await must('PATCH', '/v1/principals/bob', { purposes: ['support'] });
      const r = await file({ subject: 'bob', resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 }, t.al);
      expect(r.status, r.text).toBe(201);
      const self = await approve(r.body.id, r.body.request_hash, t.bob);
      expect([self.status, self.body.code]).toEqual([403, 'self_approval']);
      expect((await approve(r.body.id, r.body.request_hash, t.ron)).body.status).toBe('approved');
    }, 30_000);

    it.runIf(enabled)('a resource that became riskier after filing raises the pending request\'s rule', async () => {
      const name = uniq('rising');
      await must('POST', '/v1/resources', { name, kind: 'dataset', owner: 'bob', risk_tier: 'medium', purposes: ['support'] });
      const bot = await agent('alice');
      const r = await file({ subject: bot, resources: [name], actions: ['read'], purpose: 'support', duration_seconds: 600 });
      await must('PATCH', `/v1/resources/${name}`, { risk_tier: 'critical' });
      const seq = await lastSeq(h);
      const one = await approve(r.body.id, r.body.request_hash, t.ron);
      expect(one.status, one.text).toBe(200);
      expect(one.body).toMatchObject({ status: 'pending', tier: 'critical', needs: ['security'] });
      expect((await eventsSince(h, seq)).map((e) => e.type)).toContain('access_request.retiered');
      expect((await approve(r.body.id, r.body.request_hash, t.sam)).body.status).toBe('approved');
    });

    it.runIf(enabled)('editing back to the first text does not revive the approvals it voided; expired requests take no edit or cancel', async () => {
      const bot = await agent('alice');
      // A short pending time for critical (the rule is frozen when filed), so the clock jump stays within token lifetimes.
      const current = await must('GET', '/v1/approval-settings');
      const shorter = structuredClone(current.settings);
      shorter.rules.critical.pending_seconds = 600;
      const put = await must('PUT', '/v1/approval-settings', { expected_version: current.version, settings: shorter, reason: 'test expiry' });
      const r = await file({ subject: bot, resources: ['pii'], actions: ['read'], purpose: 'support', duration_seconds: 600 });
      await must('PUT', '/v1/approval-settings', { expected_version: put.version, settings: current.settings, reason: 'restore' });
      await approve(r.body.id, r.body.request_hash, t.sam);
      await must('PATCH', `/v1/access-requests/${r.body.id}`, { actions: ['read', 'export'] }, t.alice);
      const back = await must('PATCH', `/v1/access-requests/${r.body.id}`, { actions: ['read'] }, t.alice);
      expect(back.revision).toBe(3);
      expect(back.request_hash).not.toBe(r.body.request_hash);
      expect(back.approvals).toMatchObject([{ approver: { name: 'sam' }, counts: false }]);
      expect(back.needs).toEqual(['security', 'anyone']);

      h.clock.advance(600_000);
      const edit = await h.call('PATCH', `/v1/access-requests/${r.body.id}`, { justification: 'later' }, t.alice);
      expect([edit.status, edit.body.status]).toEqual([409, 'expired']);
      const cancel = await h.call('POST', `/v1/access-requests/${r.body.id}/cancel`, {}, t.alice);
      expect([cancel.status, cancel.body.status]).toEqual([409, 'expired']);
    });

    it.runIf(enabled)('break-glass rows share the list: requests list and show them without failing', async () => {
      await must('POST', '/v1/teams', { name: 'break-glass' });
      await must('PUT', '/v1/teams/break-glass/members/sue', {});
      const bg = await h.call('POST', '/v1/break-glass', { resource: 'corpus', actions: ['read'], justification: 'pager: corpus outage, need to read it now' }, t.sue);
      expect(bg.status, bg.text).toBe(201);
      const all = await h.call('GET', '/v1/access-requests?limit=500');
      expect(all.status, all.text).toBe(200);
      const row = all.body.items.find((x: any) => x.id === bg.body.id);
      expect(row).toMatchObject({ kind: 'break_glass', status: 'approved', needs: [] });
      expect((await h.call('GET', `/v1/access-requests/${bg.body.id}`)).status).toBe(200);
      expect((await h.call('GET', '/v1/access-requests?kind=break_glass')).body.items.length).toBeGreaterThan(0);
    });

    it.runIf(enabled)('a resource named by a grant is not deleted: 409 resource_in_use, nothing lost', async () => {
      const name = uniq('kept');
      await must('POST', '/v1/resources', { name, kind: 'dataset', owner: 'bob', risk_tier: 'low', purposes: ['support'] });
      const bot = await agent('alice');
      const r = await file({ subject: bot, resources: [name], actions: ['read'], purpose: 'support', duration_seconds: 600 });
      expect(r.body.status).toBe('approved');
      const del = await h.call('DELETE', `/v1/resources/${name}`);
      expect([del.status, del.body.code]).toEqual([409, 'resource_in_use']);
      expect((await h.call('GET', `/v1/resources/${name}`)).status).toBe(200);
      expect(await decide(bot, 'read', name)).toBe('allow');
    });

    it.runIf(enabled)('registration: a critical agent starts proposed and becomes active only through an approved request', async () => {
      const name = uniq('crit-bot');
      const refused = await h.call('POST', '/v1/principals', { name, kind: 'agent', owner: 'alice', status: 'active', risk_tier: 'critical' });
      expect(refused.body.code).toBe('registration_required');
      await must('POST', '/v1/principals', { name, kind: 'agent', owner: 'alice', risk_tier: 'critical' });
      const direct = await h.call('POST', `/v1/principals/${name}/activate`, { reason: 'trust me' });
      expect(direct.status).toBe(409);
      expect(direct.body.code).toBe('registration_required');
      expect((await h.call('PATCH', `/v1/principals/${name}`, { risk_tier: 'low' })).body.code).toBe('registration_required');
      const r = await file({ kind: 'registration', subject: name, justification: 'new fraud-detection agent' });
      expect(r.status, r.text).toBe(201);
      expect(r.body).toMatchObject({ kind: 'registration', tier: 'critical', needs: ['security', 'anyone'] });
      await approve(r.body.id, r.body.request_hash, t.sue);
      const done = await approve(r.body.id, r.body.request_hash, t.ron);
      expect(done.body.status).toBe('approved');
      expect((await must('GET', `/v1/principals/${name}`)).status).toBe('active');
    });

    it.runIf(enabled)('approvers, the resource owner and security revoke early; others cannot', async () => {
      const bot = await agent('alice');
      const r = await file({ subject: bot, resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 });
      const ok = await approve(r.body.id, r.body.request_hash, t.rita);
      const grant = ok.body.grant_ids[0];
      expect((await h.call('POST', `/v1/grants/${grant}/revoke`, { reason: 'mine?' }, t.ron)).status).toBe(403);
      const rev = await h.call('POST', `/v1/grants/${grant}/revoke`, { reason: 'done early' }, t.rita);
      expect(rev.status, rev.text).toBe(200);
      expect(await decide(bot, 'read', 'corpus')).toBe('deny');
    });
  });
}
