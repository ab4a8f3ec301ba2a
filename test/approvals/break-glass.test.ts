import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_FACTS, type RequestFacts } from '../../src/authz/contracts.js';
import { requestHash } from '../../src/approvals/request-hash.js';
import { DEFAULT_APPROVAL_SETTINGS } from '../../src/approvals/settings.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { clientAssertion, createAgent, form, issuerOf, nowOf, tokenFor } from '../support/oauth.js';
import { createBrowser, pkcePair, signInWithOperatorToken, tokenRequest } from '../support/signin.js';
import { eventsSince, lastSeq } from '../identity/store-probe.js';

// Break-glass through the real app, the real decision point and the real audit log: a member of the break-glass
// team gets access at once, for at most the configured maximum, marked break_glass in the audit log with the
// approvers it skipped and the people told; everyone else (admins who are not members, agents, service accounts,
// delegated tokens, API keys) is refused; the post-incident review stays open until someone other than the user
// closes it with a finding.

const JUSTIFICATION = 'INC-9: the serving model returns errors for every customer';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const REDIRECT = 'http://127.0.0.1:53682/callback';

for (const backend of BACKENDS) {
  describe(`break-glass on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    /** Break-glass team: olga (owner role), adam (admin role). Security team: sam, sue (security role). */
    const t = {} as Record<'olga' | 'adam' | 'sam' | 'sue' | 'auditor' | 'owen', string>;
    const ids = {} as Record<string, string>;

    const ok = async (method: string, url: string, body?: unknown) => {
      const r = await h.call(method, url, body);
      if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
      return r.body;
    };
    const open = (token: string, body: Record<string, unknown> = {}) =>
      h.call('POST', '/v1/break-glass', { resource: 'prod-model', actions: ['read', 'invoke'], justification: JUSTIFICATION, ...body }, token);
    const decide = async (principal: string, action: string, resource: string, facts: Partial<RequestFacts> = {}) =>
      (await h.cp.authz.pdp.evaluate({ principal, action, resource: { kind: 'registry', ref: resource }, facts: { ...NO_FACTS, ...facts }, requestId: null })).decision;
    const rowCount = async () => Number((await h.cp.db.kysely.selectFrom('access_requests').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      t.olga = await h.operator('oncall-olga', 'owner');
      t.adam = await h.operator('oncall-adam', 'admin');
      t.sam = await h.operator('sec-sam', 'security');
      t.sue = await h.operator('sec-sue', 'security');
      t.auditor = await h.operator('aud-ann', 'auditor');
      t.owen = await h.operator('owner-owen', 'owner'); // an owner-role operator off the team
      // First use of a token is a sign-in that writes; do it now so later audit checks see only the call under test.
      for (const token of Object.values(t)) expect((await h.call('GET', '/v1/whoami', undefined, token)).status).toBe(200);
      await ok('PATCH', '/v1/principals/oncall-olga', { purposes: ['incident'] });
      await ok('POST', '/v1/teams', { name: 'break-glass', reason: 'on-call engineers' });
      await ok('POST', '/v1/teams', { name: 'security' });
      await ok('POST', '/v1/teams', { name: 'ml-platform' });
      for (const p of ['oncall-olga', 'oncall-adam']) await ok('PUT', `/v1/teams/break-glass/members/${p}`, { role: 'member' });
      for (const p of ['sec-sam', 'sec-sue']) await ok('PUT', `/v1/teams/security/members/${p}`, { role: 'member' });
      await ok('POST', '/v1/principals', { name: 'res-owner', kind: 'human' });
      await ok('POST', '/v1/principals', { name: 'ml-lead', kind: 'human' });
      for (const p of ['ml-lead', 'oncall-adam']) await ok('PUT', `/v1/teams/ml-platform/members/${p}`, { role: 'member' });
      // high: one approver from the resource's owners; critical: anyone + security; low: auto-approved.
      await ok('POST', '/v1/resources', { name: 'prod-model', kind: 'model', owner: 'res-owner', risk_tier: 'high', purposes: ['incident', 'support'] });
      await ok('POST', '/v1/resources', { name: 'pii-store', kind: 'dataset', owner: 'res-owner', risk_tier: 'critical', classification: 'restricted' });
      await ok('POST', '/v1/resources', { name: 'team-model', kind: 'model', owner_team: 'ml-platform', risk_tier: 'high' });
      await ok('POST', '/v1/resources', { name: 'sandbox', kind: 'model', owner: 'res-owner', risk_tier: 'low', classification: 'public' });
      for (const name of ['oncall-olga', 'oncall-adam', 'sec-sam', 'sec-sue', 'res-owner', 'ml-lead']) ids[name] = (await ok('GET', `/v1/principals/${name}`)).id;
    });
    afterAll(async () => { await h?.close(); });

    it.runIf(enabled)('a member gets access at once, marked break_glass in the audit log; the grant ends at the duration', async () => {
      expect(await decide('oncall-olga', 'read', 'prod-model')).toBe('deny');
      const seq = await lastSeq(h);
      const started = h.clock.now().getTime();
      const r = await open(t.olga, { duration_seconds: 600, ticket: 'INC-9' });
      expect(r.status, r.text).toBe(201);
      expect(r.body).toMatchObject({
        user: { id: ids['oncall-olga'], name: 'oncall-olga' }, resource: { name: 'prod-model', kind: 'model', risk_tier: 'high', classification: 'internal' },
        actions: ['invoke', 'read'], purpose: null, justification: JUSTIFICATION, ticket: 'INC-9', duration_seconds: 600, tier: 'high',
        skipped: { rule: { auto_approve: false, slots: ['resource_owners'] }, approvers: [{ group: 'resource_owners', people: [{ id: ids['res-owner'], name: 'res-owner' }] }] },
        grant: { status: 'active' }, review: { status: 'open', finding: null, closed_by: null, closed_at: null },
      });
      expect(r.body.notified.map((p: { name: string }) => p.name).sort()).toEqual(['res-owner', 'sec-sam', 'sec-sue']);
      // The end is rounded up to a whole second (the decision point compares whole seconds): never shorter than asked.
      expect(Date.parse(r.body.expires_at) - started).toBeGreaterThanOrEqual(600_000);
      expect(Date.parse(r.body.expires_at) - started).toBeLessThan(601_000);

      // The decision point allows at once.
      expect(await decide('oncall-olga', 'read', 'prod-model')).toBe('allow');
      expect(await decide('oncall-olga', 'invoke', 'prod-model')).toBe('allow');
      expect(await decide('oncall-olga', 'write', 'prod-model')).toBe('deny');
      expect(await decide('oncall-adam', 'read', 'prod-model')).toBe('deny'); // the access is the user's only

      const events = await eventsSince(h, seq);
      expect(events.map((e) => e.type)).toEqual(['grant.created', 'break_glass.used']);
      expect(events[0]).toMatchObject({
        actor: { principal_id: null, principal_name: `approvals:break-glass/${r.body.id}` },
        details: { principal: { name: 'oncall-olga' }, source: 'break_glass', source_ref: r.body.id, reason: JUSTIFICATION, expires_at: r.body.expires_at },
      });
      const used = events[1]!;
      expect(used).toMatchObject({
        actor: { principal_name: 'oncall-olga', role: 'owner' }, target: { type: 'break_glass', id: r.body.id, name: 'oncall-olga → prod-model' }, outcome: 'success',
        details: {
          break_glass: true, user: { name: 'oncall-olga' }, resource: { name: 'prod-model' }, actions: ['invoke', 'read'], justification: JUSTIFICATION, ticket: 'INC-9',
          duration_seconds: 600, grant: { id: r.body.grant.id, expires_at: r.body.expires_at }, tier: 'high',
          skipped_rule: { tier: 'high', auto_approve: false, slots: ['resource_owners'] },
          skipped_approvers: [{ group: 'resource_owners', people: [{ id: ids['res-owner'], name: 'res-owner' }] }], review: 'open',
        },
      });
      expect(used.details.notified).toEqual(r.body.notified);

      const grant = await ok('GET', `/v1/grants/${r.body.grant.id}`);
      expect(grant).toMatchObject({ status: 'active', principal: { name: 'oncall-olga' }, resource: { name: 'prod-model' }, source: 'break_glass', source_ref: r.body.id, reason: JUSTIFICATION, expires_at: r.body.expires_at });

      const row = await h.cp.db.kysely.selectFrom('access_requests').selectAll().where('id', '=', r.body.id).executeTakeFirstOrThrow();
      expect(row).toMatchObject({
        kind: 'break_glass', status: 'approved', requester_id: ids['oncall-olga'], accountable_id: ids['oncall-olga'], subject_id: ids['oncall-olga'],
        tier: 'high', revision: 1, decided_by: ids['oncall-olga'], review_status: 'open', ticket: 'INC-9', duration_seconds: 600,
      });
      expect(JSON.parse(row.requester_chain)).toEqual([ids['oncall-olga']]);
      expect(JSON.parse(row.grant_ids)).toEqual([r.body.grant.id]);
      expect(JSON.parse(row.requirement)).toMatchObject({ break_glass: true, skipped: { tier: 'high', rule: DEFAULT_APPROVAL_SETTINGS.rules.high } });
      expect(row.request_hash).toBe(requestHash({
        kind: 'break_glass', revision: 1, subjectId: ids['oncall-olga']!, resourceIds: [r.body.resource.id], actions: ['invoke', 'read'], purpose: null, durationSeconds: 600, justification: JUSTIFICATION, ticket: 'INC-9',
      }));

      // It ends at the duration by itself (the grant's own condition); the review stays open.
      h.clock.advance(Date.parse(r.body.expires_at) - h.clock.now().getTime() - 1000);
      expect(await decide('oncall-olga', 'read', 'prod-model')).toBe('allow');
      h.clock.advance(1000);
      expect(await decide('oncall-olga', 'read', 'prod-model')).toBe('deny');
      const shown = await ok('GET', `/v1/break-glass/${r.body.id}`);
      expect(shown).toMatchObject({ grant: { id: r.body.grant.id, status: 'ended' }, review: { status: 'open' } });
      expect((await ok('GET', `/v1/grants/${r.body.grant.id}`)).status).toBe('expired');
    });

    it.runIf(enabled)('lasts the configured maximum when no duration is asked; longer is refused with the maximum', async () => {
      const started = h.clock.now().getTime();
      const r = await open(t.adam, { resource: 'sandbox', actions: ['invoke'] });
      expect(r.status, r.text).toBe(201);
      expect(r.body.duration_seconds).toBe(3600);
      expect(Date.parse(r.body.expires_at) - started).toBeGreaterThanOrEqual(3600_000);
      expect(Date.parse(r.body.expires_at) - started).toBeLessThan(3601_000);
      const before = await rowCount();
      const tooLong = await open(t.olga, { duration_seconds: 3601 });
      expect([tooLong.status, tooLong.body.code, tooLong.body.max_seconds]).toEqual([422, 'break_glass_too_long', 3600]);
      expect((await open(t.olga, { duration_seconds: 59 })).status).toBe(400);
      expect(await rowCount()).toBe(before);
    });

    it.runIf(enabled)('nobody off the team, admins included; nothing granted, the attempt recorded', async () => {
      const before = await rowCount();
      for (const token of [h.adminToken, t.sam, t.owen]) {
        const seq = await lastSeq(h);
        const r = await open(token);
        expect([r.status, r.body.code], r.text).toEqual([403, 'break_glass_not_allowed']);
        expect(r.body.detail).toContain("team 'break-glass'");
        const events = await eventsSince(h, seq);
        expect(events.map((e) => e.type)).toEqual(['break_glass.refused']);
        expect(events[0]).toMatchObject({ outcome: 'failure', details: { break_glass: true, resource: 'prod-model', team: 'break-glass' } });
      }
      // Auditors do not hold breakglass.use at all.
      expect([(await open(t.auditor)).status, (await open(t.auditor)).body.code]).toEqual([403, 'forbidden']);
      // A member who was removed from the team is refused from then on.
      await ok('PUT', '/v1/teams/break-glass/members/owner-owen', { role: 'member' });
      expect((await open(t.owen, { resource: 'sandbox', duration_seconds: 60 })).status).toBe(201);
      await ok('DELETE', '/v1/teams/break-glass/members/owner-owen');
      expect((await open(t.owen, { resource: 'sandbox', duration_seconds: 60 })).body.code).toBe('break_glass_not_allowed');
      expect(await rowCount()).toBe(before + 1);
      expect(await decide('bootstrap-admin', 'read', 'prod-model')).toBe('deny');
    });

    it.runIf(enabled)('a justification is required; the body is checked; the resource and purpose must allow it', async () => {
      const before = await rowCount();
      const code = async (body: Record<string, unknown>) => {
        const r = await h.call('POST', '/v1/break-glass', body, t.olga);
        return `${r.status} ${r.body?.code}`;
      };
      const base = { resource: 'prod-model', actions: ['read'], justification: JUSTIFICATION };
      const { justification: _j, ...noJustification } = base;
      expect(await code(noJustification)).toBe('400 validation_failed');
      expect(await code({ ...base, justification: 'urgent' })).toBe('400 validation_failed');
      expect(await code({ ...base, justification: `   ${'x'.repeat(5)}             ` })).toBe('400 validation_failed'); // padding does not count
      expect(await code({ ...base, actions: [] })).toBe('400 validation_failed');
      expect(await code({ ...base, actions: ['approve'] })).toBe('400 validation_failed'); // management actions are not granted
      expect(await code({ ...base, principal: 'someone-else' })).toBe('400 validation_failed'); // always for the caller
      expect(await code({ ...base, resource: 'nothing' })).toBe('422 resource_not_found');
      expect(await code({ ...base, purpose: 'marketing' })).toBe('422 purpose_not_allowed'); // neither side allows it
      expect(await code({ ...base, purpose: 'support' })).toBe('422 purpose_not_allowed'); // the resource's, not olga's
      expect(await rowCount()).toBe(before);
      const withPurpose = await open(t.olga, { purpose: 'incident', duration_seconds: 120 });
      expect(withPurpose.status, withPurpose.text).toBe(201);
      expect(withPurpose.body.purpose).toBe('incident');
      expect(await decide('oncall-olga', 'read', 'prod-model', { purpose: 'incident' })).toBe('allow');
      expect(await decide('oncall-olga', 'read', 'prod-model', { purpose: 'support' })).toBe('deny');
    });

    it.runIf(enabled)('agents and service accounts are refused with any token, and so is a delegated token; a signed-in person is not', async () => {
      const agent = await createAgent(h, 'pager-bot', { scopes: ['models:invoke', 'custos:self', 'custos:access-request'], purposes: ['support', 'incident'] });
      await ok('PUT', '/v1/teams/break-glass/members/pager-bot', { role: 'member' }); // membership alone never lets a non-person in
      await ok('POST', '/v1/principals', { name: 'ci-runner', kind: 'service_account', owner: 'res-owner', status: 'active', scopes: ['custos:self'] });
      await ok('PUT', '/v1/teams/break-glass/members/ci-runner', { role: 'member' });
      const before = await rowCount();
      const accessToken = (await tokenFor(h, agent, { scope: 'custos:self custos:access-request' })).body.access_token as string;
      expect((await h.call('GET', '/v1/whoami', undefined, accessToken)).status).toBe(200);
      const agentKey = (await ok('POST', '/v1/api-keys', { principal: 'pager-bot', audience: [issuerOf(h)], scope: ['custos:self'], purpose: 'support', ttl_seconds: 3600 })).key as string;
      const serviceKey = (await ok('POST', '/v1/api-keys', { principal: 'ci-runner', audience: [issuerOf(h)], scope: ['custos:self'], ttl_seconds: 3600 })).key as string;
      for (const token of [accessToken, agentKey, serviceKey]) {
        expect((await h.call('GET', '/v1/whoami', undefined, token)).status).toBe(200);
        expect((await open(token)).status).toBe(403);
      }

      // A person signed in through the browser flow holds an access token with their role: that is a person acting directly.
      const pkce = pkcePair();
      const back = await signInWithOperatorToken(h, createBrowser(h), t.olga, { challenge: pkce.challenge });
      const session = await tokenRequest(h, { grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier });
      expect(session.status).toBe(200);
      const personToken = session.body.access_token as string;
      expect((await h.call('GET', '/v1/whoami', undefined, personToken)).body).toMatchObject({ role: 'owner', credential_kind: 'access_token' });
      const viaSession = await open(personToken, { resource: 'sandbox', duration_seconds: 60 });
      expect(viaSession.status, viaSession.text).toBe(201);
      expect(viaSession.body.user.name).toBe('oncall-olga');

      // The same person's token delegated to an agent (RFC 8693): the agent acts, with olga on its chain — refused.
      await ok('PATCH', '/v1/principals/oncall-olga', { may_delegate_to: ['pager-bot'] });
      const now = nowOf(h);
      const exchanged = await form(h, '/oauth/token', {
        grant_type: EXCHANGE, client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(agent, issuerOf(h), now),
        subject_token: personToken, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        actor_token: await clientAssertion(agent, issuerOf(h), now), actor_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      });
      expect(exchanged.status, exchanged.text).toBe(200);
      const delegated = exchanged.body.access_token as string;
      expect((await h.call('GET', '/v1/whoami', undefined, delegated)).body).toMatchObject({ principal_id: agent.id, role: null });
      expect((await open(delegated, { resource: 'sandbox', duration_seconds: 60 })).status).toBe(403);
      expect(await rowCount()).toBe(before + 1);
    });

    it.runIf(enabled)('security and the skipped approvers are told; an anyone slot is named as the group; the user never', async () => {
      // critical (restricted): anyone + security. The user is on neither list.
      const critical = await open(t.adam, { resource: 'pii-store', actions: ['read'], duration_seconds: 300 });
      expect(critical.status, critical.text).toBe(201);
      expect(critical.body.tier).toBe('critical');
      expect(critical.body.skipped.approvers).toEqual([
        { group: 'anyone', people: 'anyone' },
        { group: 'security', people: [{ id: ids['sec-sam']!, name: 'sec-sam' }, { id: ids['sec-sue']!, name: 'sec-sue' }].sort((a, b) => a.id.localeCompare(b.id)) },
      ]);
      expect(critical.body.notified.map((p: { name: string }) => p.name).sort()).toEqual(['sec-sam', 'sec-sue']);
      // A team-owned resource: the owning team's members, minus the user (adam is on ml-platform himself).
      const owned = await open(t.adam, { resource: 'team-model', actions: ['read'], duration_seconds: 300 });
      expect(owned.body.skipped.approvers).toEqual([{ group: 'resource_owners', people: [{ id: ids['ml-lead'], name: 'ml-lead' }] }]);
      expect(owned.body.notified.map((p: { name: string }) => p.name).sort()).toEqual(['ml-lead', 'sec-sam', 'sec-sue']);
      // low is auto-approved: no approver was skipped, security is still told.
      const seq = await lastSeq(h);
      const low = await open(t.olga, { resource: 'sandbox', actions: ['invoke'], duration_seconds: 60 });
      expect(low.body.skipped).toEqual({ rule: { auto_approve: true, slots: [], max_duration_seconds: DEFAULT_APPROVAL_SETTINGS.rules.low.max_duration_seconds }, approvers: [] });
      expect(low.body.notified.map((p: { name: string }) => p.name).sort()).toEqual(['sec-sam', 'sec-sue']);
      const used = (await eventsSince(h, seq)).find((e) => e.type === 'break_glass.used')!;
      expect(used.details).toMatchObject({ break_glass: true, skipped_approvers: [], notified: low.body.notified, tier: 'low' });
    });

    it.runIf(enabled)('the review: never closed by the user (admin or not), closed once by someone else with a finding, never by itself', async () => {
      const mine = await open(t.adam, { resource: 'sandbox', actions: ['invoke'], duration_seconds: 60 });
      const close = (id: string, token: string, body: unknown = { finding: 'needed for INC-9; used as justified' }) => h.call('POST', `/v1/break-glass/${id}/close`, body, token);
      const self = await close(mine.body.id, t.adam);
      expect([self.status, self.body.code]).toEqual([403, 'self_review']); // an admin, and still not their own review

      const olgas = await open(t.olga, { resource: 'sandbox', actions: ['invoke'], duration_seconds: 60 });
      expect((await close(olgas.body.id, t.olga)).body.code).toBe('forbidden'); // owners do not hold breakglass.review
      expect((await close(olgas.body.id, t.auditor)).body.code).toBe('forbidden');
      expect((await close(olgas.body.id, t.sam, {})).status).toBe(400); // a finding is required
      expect((await close(olgas.body.id, t.sam, { finding: 'ok' })).status).toBe(400);

      // Hours pass and sweeps run: the reviews stay open (nothing closes them but a reviewer).
      h.clock.advance(8 * 3600_000);
      await h.cp.approvals.sweep();
      expect((await ok('GET', `/v1/break-glass/${olgas.body.id}`)).review.status).toBe('open');

      const seq = await lastSeq(h);
      const closed = await close(olgas.body.id, t.sam);
      expect(closed.status, closed.text).toBe(200);
      expect(closed.body.review).toEqual({ status: 'closed', finding: 'needed for INC-9; used as justified', closed_by: { id: ids['sec-sam'], name: 'sec-sam' }, closed_at: h.clock.now().toISOString() });
      const events = await eventsSince(h, seq);
      expect(events.map((e) => e.type)).toEqual(['break_glass.reviewed']);
      expect(events[0]).toMatchObject({ actor: { principal_name: 'sec-sam' }, target: { id: olgas.body.id }, details: { break_glass: true, user: { name: 'oncall-olga' }, finding: 'needed for INC-9; used as justified' } });
      const twice = await close(olgas.body.id, t.sue, { finding: 'a second opinion on the same access' });
      expect([twice.status, twice.body.code]).toEqual([409, 'review_not_open']);
      expect((await ok('GET', `/v1/break-glass/${olgas.body.id}`)).review.finding).toBe('needed for INC-9; used as justified');

      // Adam's own review is closed by another admin.
      expect((await close(mine.body.id, h.adminToken)).body.review.closed_by.name).toBe('bootstrap-admin');
      expect((await close('0190a6f0-0000-7000-8000-000000000000', t.sam)).status).toBe(404);
    });

    it.runIf(enabled)('the user gives the access up early: the grant is revoked at once, the review stays open', async () => {
      const r = await open(t.olga, { duration_seconds: 900 });
      expect(await decide('oncall-olga', 'read', 'prod-model')).toBe('allow');
      const end = (token: string, body: unknown = { reason: 'incident resolved' }) => h.call('POST', `/v1/break-glass/${r.body.id}/end`, body, token);
      expect((await end(t.owen)).body.code).toBe('forbidden'); // another owner-role operator
      expect((await end(t.olga, {})).status).toBe(400);
      const seq = await lastSeq(h);
      const ended = await end(t.olga);
      expect(ended.status, ended.text).toBe(200);
      expect(ended.body).toMatchObject({ grant: { status: 'ended' }, review: { status: 'open' } });
      expect(await decide('oncall-olga', 'read', 'prod-model')).toBe('deny');
      const events = await eventsSince(h, seq);
      expect(events.map((e) => e.type)).toEqual(['grant.revoked', 'break_glass.ended']);
      expect(events[1]).toMatchObject({ actor: { principal_name: 'oncall-olga' }, details: { break_glass: true, reason: 'incident resolved', review: 'open' } });
      expect((await ok('GET', `/v1/grants/${r.body.grant.id}`))).toMatchObject({ status: 'revoked', revoked_by: { name: 'oncall-olga' } });
      expect((await end(t.olga)).body.code).toBe('grant_already_revoked');
      // Security ends someone else's.
      const other = await open(t.adam, { resource: 'sandbox', actions: ['invoke'], duration_seconds: 300 });
      expect((await h.call('POST', `/v1/break-glass/${other.body.id}/end`, { reason: 'contained' }, t.sam)).status).toBe(200);
    });

    it.runIf(enabled)('listed with their reviews, filtered and paginated; owner-role operators see only their own', async () => {
      const all = await ok('GET', '/v1/break-glass?limit=500');
      expect(all.items.length).toBeGreaterThan(5);
      expect(all.items.every((x: { id: string }) => typeof x.id === 'string')).toBe(true);
      const open = await ok('GET', '/v1/break-glass?review=open&limit=500');
      const closed = await ok('GET', '/v1/break-glass?review=closed&limit=500');
      expect(open.items.every((x: { review: { status: string } }) => x.review.status === 'open')).toBe(true);
      expect(closed.items.map((x: { review: { closed_by: { name: string } } }) => x.review.closed_by.name).sort()).toEqual(['bootstrap-admin', 'sec-sam']);
      expect(open.items.length + closed.items.length).toBe(all.items.length);
      const byUser = await ok('GET', '/v1/break-glass?user=oncall-adam&limit=500');
      expect(byUser.items.length).toBeGreaterThan(0);
      expect(byUser.items.every((x: { user: { name: string } }) => x.user.name === 'oncall-adam')).toBe(true);
      expect((await ok('GET', `/v1/break-glass?user=${ids['oncall-adam']}&limit=500`)).items).toHaveLength(byUser.items.length);
      expect((await ok('GET', '/v1/break-glass?user=nobody')).items).toEqual([]);

      const p1 = await ok('GET', '/v1/break-glass?limit=2');
      const p2 = await ok('GET', `/v1/break-glass?limit=2&cursor=${encodeURIComponent(p1.next_cursor)}`);
      expect(new Set([...p1.items, ...p2.items].map((x: { id: string }) => x.id)).size).toBe(4);
      expect((await h.call('GET', '/v1/break-glass?cursor=forged')).body.code).toBe('invalid_cursor');

      const olgas = await h.call('GET', '/v1/break-glass?limit=500', undefined, t.olga);
      expect(olgas.status).toBe(200);
      expect(olgas.body.items.length).toBeGreaterThan(0);
      expect(olgas.body.items.every((x: { user: { name: string } }) => x.user.name === 'oncall-olga')).toBe(true);
      expect((await h.call('GET', '/v1/break-glass?user=oncall-adam', undefined, t.olga)).body.items).toEqual([]);
      const adams = byUser.items[0];
      expect((await h.call('GET', `/v1/break-glass/${adams.id}`, undefined, t.olga)).status).toBe(404);
      expect((await h.call('GET', `/v1/break-glass/${adams.id}`, undefined, t.auditor)).body.user.name).toBe('oncall-adam');
      expect((await h.call('GET', '/v1/break-glass?limit=500', undefined, t.auditor)).body.items).toHaveLength(all.items.length);
      expect((await h.call('GET', '/v1/break-glass/0190a6f0-0000-7000-8000-000000000000')).status).toBe(404);
      expect((await h.call('GET', '/v1/break-glass/not-an-id')).status).toBe(400);
      // Ordinary access requests never show up here (only kind break_glass rows are read).
      expect(all.items.length).toBe(await h.cp.db.kysely.selectFrom('access_requests').where('kind', '=', 'break_glass').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow().then((x) => Number(x.n)));
    });

    it.runIf(enabled)('the team and the maximum are settings: another team name, a shorter maximum', async () => {
      const current = await ok('GET', '/v1/approval-settings');
      const put = async (change: Partial<typeof DEFAULT_APPROVAL_SETTINGS>, version: number) =>
        ok('PUT', '/v1/approval-settings', { expected_version: version, settings: { ...current.settings, ...change }, reason: 'break-glass test' });
      await put({ break_glass_max_seconds: 1800 }, current.version);
      const tooLong = await open(t.olga, { duration_seconds: 1801 });
      expect([tooLong.status, tooLong.body.max_seconds]).toEqual([422, 1800]);
      expect((await open(t.olga, { resource: 'sandbox' })).body.duration_seconds).toBe(1800);
      await put({ break_glass_team: 'on-call' }, current.version + 1); // no such team yet: nobody
      const none = await open(t.olga, { resource: 'sandbox' });
      expect([none.status, none.body.code]).toEqual([403, 'break_glass_not_allowed']);
      expect(none.body.detail).toContain("no team named 'on-call'");
      await ok('POST', '/v1/teams', { name: 'on-call' });
      await ok('PUT', '/v1/teams/on-call/members/oncall-adam', { role: 'member' });
      expect((await open(t.olga, { resource: 'sandbox' })).body.code).toBe('break_glass_not_allowed');
      expect((await open(t.adam, { resource: 'sandbox' })).status).toBe(201);
      await put({}, current.version + 2);
    });
  });
}
