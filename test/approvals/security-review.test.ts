import net from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_FACTS } from '../../src/authz/contracts.js';
import { NOT_THE_OWNER } from '../../src/approvals/requests/sod.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { clientAssertion, createAgent, form, issuerOf, nowOf, tokenFor, type TestAgent } from '../support/oauth.js';
import { createBrowser, pkcePair, signInWithOperatorToken, tokenRequest } from '../support/signin.js';
import { eventsSince, lastSeq } from '../identity/store-probe.js';

// A security review of the approvals module, as attacks through the real app on both stores: every test here is
// one way someone could try to get access (or a secret) they should not, and shows that the server refuses it —
// separation of duties with real delegated (RFC 8693) and client-credentials tokens, people holding several roles
// and tokens, team-owned agents, racing approvers, expiry before the sweep, edits between reading and approving,
// registration bypasses, weakened approval settings, grant revocation, break-glass, webhook URLs and secrets, and
// bad input on every route the module added. Attacks that succeeded are not here (this file keeps only passing
// tests): they are in the review's report, with their reproduction and a proposed fix.

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const REDIRECT = 'http://127.0.0.1:53682/callback';
/** Every scope that lets a non-operator credential reach the management API (operators/roles.ts). */
const SELF_SERVICE = ['custos:self', 'custos:credentials.read', 'authz:evaluate', 'devices:write', 'custos:access-request'];
const MONTH = 30 * 86_400;

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

for (const backend of BACKENDS) {
  describe(`security review of approvals on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    /** Operator tokens, by person; carl holds three (owner, security, admin). */
    const t = {} as Record<'alice' | 'bob' | 'rita' | 'ron' | 'sam' | 'sue' | 'al' | 'ann' | 'olga' | 'carl' | 'carlSec' | 'carlAdmin', string>;
    let n = 0;
    const uniq = (p: string) => `${p}-${++n}`;

    const must = async (method: string, url: string, body?: unknown, token?: string) => {
      const r = await h.call(method, url, body, token);
      if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
      return r.body;
    };
    /** A person with a long-lived operator token (the tests move the clock by days), used once so its first use is behind us. */
    const person = async (name: string, role: 'admin' | 'security' | 'auditor' | 'owner') => {
      const existing = await h.call('GET', `/v1/principals/${name}`);
      if (existing.status === 404) await must('POST', '/v1/principals', { name, kind: 'human', purposes: ['support'] });
      const token = (await must('POST', '/v1/operator-tokens', { principal: name, role, ttl_seconds: MONTH })).token as string;
      expect((await h.call('GET', '/v1/whoami', undefined, token)).status).toBe(200);
      return token;
    };
    const decide = async (principal: string, action: string, resource: string, purpose = 'support') =>
      (await h.cp.authz.pdp.evaluate({ principal, action, resource: { kind: 'registry', ref: resource }, facts: { ...NO_FACTS, purpose }, requestId: null })).decision;
    const file = (body: Record<string, unknown>, token: string = t.alice) =>
      h.call('POST', '/v1/access-requests', { justification: 'triage of the support queue', ...body }, token);
    const approve = (id: string, hash: string, token: string) => h.call('POST', `/v1/access-requests/${id}/approve`, { request_hash: hash }, token);
    const deny = (id: string, hash: string, token: string) => h.call('POST', `/v1/access-requests/${id}/deny`, { request_hash: hash, reason: 'no' }, token);
    const agent = async (owner: string, extra: Record<string, unknown> = {}) => {
      const name = uniq(`${owner}-bot`);
      await must('POST', '/v1/principals', { name, kind: 'agent', owner, status: 'active', purposes: ['support'], ...extra });
      return name;
    };
    const count = async (table: string, where?: { column: string; value: string }) => {
      const q = where
        ? sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)} where ${sql.ref(where.column)} = ${where.value}`
        : sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`;
      return Number((await q.execute(h.cp.db.kysely)).rows[0]!.n);
    };
    const approvalsOf = (id: string) => count('approvals', { column: 'request_id', value: id });
    const grantsOf = (id: string) => count('grants', { column: 'source_ref', value: id });
    /**
     * What a refused call must leave untouched: the module's tables and the audit log's successful events (sign-in
     * events aside; a refusal may itself be recorded as a failure — authz.denied, break_glass.refused).
     */
    const snapshot = async () => {
      const out: Record<string, number> = {};
      for (const table of ['access_requests', 'approvals', 'grants', 'approval_settings', 'webhooks', 'webhook_deliveries', 'review_campaigns', 'review_items', 'principals']) out[table] = await count(table);
      out.events = (await eventsSince(h)).filter((e) => e.outcome === 'success' && !e.type.startsWith('auth.')).length;
      return out;
    };
    /** A person's signed-in session: the access token the browser sign-in gives (it carries their operator role). */
    const signedIn = async (operatorToken: string) => {
      const pkce = pkcePair();
      const back = await signInWithOperatorToken(h, createBrowser(h), operatorToken, { challenge: pkce.challenge });
      const session = await tokenRequest(h, { grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier });
      expect(session.status).toBe(200);
      return session.body.access_token as string;
    };
    /** RFC 8693: `actor` exchanges `subjectToken` (a token of someone who lists it in may_delegate_to) for a delegated token. */
    const exchange = async (actor: TestAgent, subjectToken: string) => {
      const now = nowOf(h);
      const r = await form(h, '/oauth/token', {
        grant_type: EXCHANGE, client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(actor, issuerOf(h), now),
        subject_token: subjectToken, subject_token_type: ACCESS_TOKEN_TYPE,
        actor_token: await clientAssertion(actor, issuerOf(h), now), actor_token_type: JWT_TYPE,
      });
      expect(r.status, r.text).toBe(200);
      return r.body.access_token as string;
    };
    const settings = async () => must('GET', '/v1/approval-settings') as Promise<{ version: number; settings: any }>;
    const withSettings = async (change: (s: any) => void, run: () => Promise<void>) => {
      const current = await settings();
      const next = structuredClone(current.settings);
      change(next);
      const put = await must('PUT', '/v1/approval-settings', { expected_version: current.version, settings: next, reason: 'security review' });
      try {
        await run();
      } finally {
        await must('PUT', '/v1/approval-settings', { expected_version: put.version, settings: current.settings, reason: 'restore' });
      }
    };

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      for (const [name, role] of [['alice', 'owner'], ['bob', 'owner'], ['rita', 'owner'], ['ron', 'owner'], ['sam', 'security'], ['sue', 'security'], ['al', 'admin'], ['ann', 'auditor'], ['olga', 'owner'], ['carl', 'owner']] as const) {
        t[name] = await person(name, role);
      }
      t.carlSec = await person('carl', 'security');
      t.carlAdmin = await person('carl', 'admin');
      await must('POST', '/v1/teams', { name: 'security' });
      for (const p of ['sam', 'sue', 'carl']) await must('PUT', `/v1/teams/security/members/${p}`, {});
      await must('POST', '/v1/teams', { name: 'ml-platform' });
      for (const p of ['rita', 'ron']) await must('PUT', `/v1/teams/ml-platform/members/${p}`, {});
      await must('POST', '/v1/teams', { name: 'break-glass' });
      await must('PUT', '/v1/teams/break-glass/members/olga', {});
      await must('POST', '/v1/principals', { name: 'vera', kind: 'human' }); // owns resources, holds no token
      await must('POST', '/v1/resources', { name: 'notes', kind: 'dataset', owner: 'vera', classification: 'public', risk_tier: 'low', purposes: ['support'] });
      await must('POST', '/v1/resources', { name: 'corpus', kind: 'dataset', owner: 'vera', classification: 'internal', risk_tier: 'medium', purposes: ['support'] });
      await must('POST', '/v1/resources', { name: 'weights', kind: 'model', owner_team: 'ml-platform', classification: 'internal', risk_tier: 'high', purposes: ['support'] });
      await must('POST', '/v1/resources', { name: 'pii', kind: 'dataset', owner: 'vera', classification: 'restricted', risk_tier: 'critical', purposes: ['support'] });
      await must('POST', '/v1/resources', { name: 'vault', kind: 'model', owner: 'vera', classification: 'internal', risk_tier: 'critical', purposes: ['support'] });
    });
    afterAll(async () => { await h?.close(); });

    // ---- Separation of duties -------------------------------------------------------------------------------------

    it.runIf(enabled)('attack: approve with a real RFC 8693 delegated token whose chain includes the requester (and with the requester\'s own session)', async () => {
      const helper = await createAgent(h, uniq('alice-helper'), { owner: 'alice', scopes: SELF_SERVICE });
      const bot = await agent('alice');
      const r = await file({ subject: bot, resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 });
      expect(r.status, r.text).toBe(201);

      // The requester signed in through the browser: a person acting directly, and still the requester.
      const aliceSession = await signedIn(t.alice);
      expect((await h.call('GET', '/v1/whoami', undefined, aliceSession)).body).toMatchObject({ role: 'owner', credential_kind: 'access_token' });
      const self = await approve(r.body.id, r.body.request_hash, aliceSession);
      expect([self.status, self.body.code]).toEqual([403, 'self_approval']);

      // Her session delegated to her agent: the agent acts with alice on its chain.
      await must('PATCH', '/v1/principals/alice', { may_delegate_to: [helper.name] });
      const delegated = await exchange(helper, aliceSession);
      expect((await h.call('GET', '/v1/whoami', undefined, delegated)).body).toMatchObject({ principal_id: helper.id, role: null });
      for (const attempt of [approve(r.body.id, r.body.request_hash, delegated), deny(r.body.id, r.body.request_hash, delegated)]) {
        const res = await attempt;
        expect(res.status, res.text).toBe(403);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
      expect(await approvalsOf(r.body.id)).toBe(0);

      // A token delegated BY an eligible approver is refused too (nobody approves on behalf of someone else) ...
      const bobsHelper = await createAgent(h, uniq('bob-helper'), { owner: 'bob', scopes: SELF_SERVICE });
      const bobSession = await signedIn(t.bob);
      await must('PATCH', '/v1/principals/bob', { may_delegate_to: [bobsHelper.name] });
      const bobDelegated = await exchange(bobsHelper, bobSession);
      expect((await approve(r.body.id, r.body.request_hash, bobDelegated)).status).toBe(403);
      expect(await approvalsOf(r.body.id)).toBe(0);
      // ... while the same person acting directly (their signed-in session) decides: the refusal was the delegation.
      const ok = await approve(r.body.id, r.body.request_hash, bobSession);
      expect(ok.status, ok.text).toBe(200);
      expect(ok.body).toMatchObject({ status: 'approved', approvals: [{ approver: { name: 'bob' }, counts: true }] });
    });

    it.runIf(enabled)('attack: the requester\'s own agent approves with a client_credentials token and an API key carrying every scope it can get', async () => {
      const helper = await createAgent(h, uniq('alice-agent'), { owner: 'alice', scopes: SELF_SERVICE });
      const cc = await tokenFor(h, helper, { scope: SELF_SERVICE.join(' ') });
      expect(cc.status, cc.text).toBe(200);
      const accessToken = cc.body.access_token as string;
      const apiKey = (await must('POST', '/v1/api-keys', { principal: helper.name, audience: [issuerOf(h)], scope: SELF_SERVICE, ttl_seconds: 3600 })).key as string;
      // The agent asks for itself (alice becomes the accountable requester), and alice asks for another of her agents.
      const own = await file({ resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 }, apiKey);
      expect(own.status, own.text).toBe(201);
      expect(own.body).toMatchObject({ requester: { name: helper.name }, accountable: { name: 'alice' } });
      const other = await file({ subject: await agent('alice'), resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 });
      const before = await snapshot();
      for (const r of [own.body, other.body]) {
        for (const token of [accessToken, apiKey]) {
          for (const res of [await approve(r.id, r.request_hash, token), await deny(r.id, r.request_hash, token)]) {
            expect(res.status, res.text).toBe(403);
            expect(['forbidden', 'insufficient_scope']).toContain(res.body.code);
          }
        }
      }
      // Its owner is answerable for what it asked: refused as a self-approval.
      expect((await approve(own.body.id, own.body.request_hash, t.alice)).body.code).toBe('self_approval');
      // An agent cannot cancel a request it did not file, nor touch the settings.
      expect((await h.call('POST', `/v1/access-requests/${other.body.id}/cancel`, {}, apiKey)).status).toBe(403);
      expect((await h.call('PUT', '/v1/approval-settings', { expected_version: 0, settings: (await settings()).settings, reason: 'x' }, accessToken)).status).toBe(403);
      expect(await snapshot()).toEqual(before);
    });

    it.runIf(enabled)('attack: one person holding three operator tokens (owner, security, admin) and a session approves a critical request more than once', async () => {
      const bot = await agent('alice');
      const r = await file({ subject: bot, resources: ['pii'], actions: ['read'], purpose: 'support', duration_seconds: 3600 });
      expect(r.body).toMatchObject({ tier: 'critical', needs: ['security', 'anyone'] });
      const first = await approve(r.body.id, r.body.request_hash, t.carlSec);
      expect(first.body).toMatchObject({ status: 'pending', needs: ['anyone'] });
      const session = await signedIn(t.carl);
      for (const token of [t.carl, t.carlAdmin, session]) {
        const again = await approve(r.body.id, r.body.request_hash, token);
        expect([again.status, again.body.code]).toEqual([409, 'already_decided']);
      }
      expect(await approvalsOf(r.body.id)).toBe(1);
      expect((await must('GET', `/v1/access-requests/${r.body.id}`)).needs).toEqual(['anyone']);
      expect(await decide(bot, 'read', 'pii')).toBe('deny');
      const done = await approve(r.body.id, r.body.request_hash, t.bob);
      expect(done.body.status).toBe('approved');
      expect(done.body.approvals.map((a: any) => a.approver.name)).toEqual(['carl', 'bob']);
    });

    it.runIf(enabled)('attack: the same person races their own tokens concurrently on one request', async () => {
      const r = await file({ subject: await agent('alice'), resources: ['pii'], actions: ['read'], purpose: 'support', duration_seconds: 3600 });
      const results = await Promise.all([t.carlSec, t.carl, t.carlAdmin].map((token) => approve(r.body.id, r.body.request_hash, token)));
      expect(results.filter((x) => x.status === 200)).toHaveLength(1);
      expect(results.filter((x) => x.status === 409).map((x) => x.body.code)).toEqual(['already_decided', 'already_decided']);
      expect(await approvalsOf(r.body.id)).toBe(1);
      expect((await must('GET', `/v1/access-requests/${r.body.id}`)).status).toBe('pending');
    });

    it.runIf(enabled)('attack: a member of the team that owns both the agent and the resource approves a high request for it', async () => {
      const teamBot = uniq('team-bot');
      await must('POST', '/v1/principals', { name: teamBot, kind: 'agent', owner_team: 'ml-platform', status: 'active', purposes: ['support'], scopes: ['custos:access-request'] });
      // A member files for the team's agent; another member (a resource owner, and one of the subject's owners) approves.
      const r = await file({ subject: teamBot, resources: ['weights'], actions: ['invoke'], purpose: 'support', duration_seconds: 3600 }, t.rita);
      expect(r.status, r.text).toBe(201);
      expect(r.body).toMatchObject({ tier: 'high', needs: ['resource_owners'] });
      const ron = await approve(r.body.id, r.body.request_hash, t.ron);
      expect(ron.status, ron.text).toBe(200);
      expect(ron.body).toMatchObject({ status: 'pending', needs: [NOT_THE_OWNER] });
      expect((await approve(r.body.id, r.body.request_hash, t.rita)).body.code).toBe('self_approval');
      expect((await approve(r.body.id, r.body.request_hash, t.al)).body.code).toBe('approver_not_eligible');
      expect((await approve(r.body.id, r.body.request_hash, t.sam)).body.code).toBe('approver_not_eligible');
      expect(await grantsOf(r.body.id)).toBe(0);
      expect(await decide(teamBot, 'invoke', 'weights')).toBe('deny');

      // The agent asks for itself: the whole owning team is on the requester's chain.
      const key = (await must('POST', '/v1/api-keys', { principal: teamBot, audience: [issuerOf(h)], scope: ['custos:access-request'], ttl_seconds: 3600 })).key as string;
      const own = await file({ resources: ['weights'], actions: ['invoke'], purpose: 'support', duration_seconds: 3600 }, key);
      expect(own.status, own.text).toBe(201);
      expect(own.body.accountable).toBeNull();
      for (const member of [t.ron, t.rita]) expect((await approve(own.body.id, own.body.request_hash, member)).body.code).toBe('self_approval');
      expect(await approvalsOf(own.body.id)).toBe(0);
    });

    it.runIf(enabled)('attack: two (then three) approvers race on a critical request — one approved outcome, one set of grants', async () => {
      for (const racers of [[t.sam, t.bob], [t.sam, t.sue, t.bob, t.rita]]) {
        const bot = await agent('alice');
        const r = await file({ subject: bot, resources: ['pii', 'vault'], actions: ['read'], purpose: 'support', duration_seconds: 3600 });
        const seq = await lastSeq(h);
        const results = await Promise.all(racers.map((token) => approve(r.body.id, r.body.request_hash, token)));
        for (const x of results) expect([200, 409], x.text).toContain(x.status);
        expect(results.filter((x) => x.status === 200 && x.body.status === 'approved')).toHaveLength(1);
        const final = await must('GET', `/v1/access-requests/${r.body.id}`);
        expect(final.status).toBe('approved');
        expect(final.grant_ids).toHaveLength(2);
        expect(await grantsOf(r.body.id)).toBe(2);
        const events = (await eventsSince(h, seq)).filter((e) => e.target?.id === r.body.id);
        expect(events.filter((e) => e.type === 'access_request.approved')).toHaveLength(1);
        expect(await decide(bot, 'read', 'vault')).toBe('allow');
      }
    });

    it.runIf(enabled)('attack: approve, edit and cancel race on one request — exactly one of them decides it, and any grant is for the text approved', async () => {
      const bot = await agent('alice');
      const r = await file({ subject: bot, resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 });
      const [approved, edited, cancelled] = await Promise.all([
        approve(r.body.id, r.body.request_hash, t.bob),
        h.call('PATCH', `/v1/access-requests/${r.body.id}`, { actions: ['read', 'export'] }, t.alice),
        h.call('POST', `/v1/access-requests/${r.body.id}/cancel`, { reason: 'changed my mind' }, t.alice),
      ]);
      const final = await must('GET', `/v1/access-requests/${r.body.id}`);
      expect(['approved', 'cancelled']).toContain(final.status);
      if (final.status === 'approved') {
        expect(approved.status).toBe(200);
        expect(final.request_hash).toBe(r.body.request_hash);
        expect(edited.status).toBe(409);
        expect(cancelled.status).toBe(409);
        const grant = await must('GET', `/v1/grants/${final.grant_ids[0]}`);
        expect(grant.actions).toEqual(['read']);
      } else {
        expect(cancelled.status).toBe(200);
        expect(await grantsOf(r.body.id)).toBe(0);
        expect(await decide(bot, 'export', 'corpus')).toBe('deny');
      }
    });

    it.runIf(enabled)('attack: approve (or deny) after expiry but before the sweep has marked it', async () => {
      await withSettings((s) => { s.rules.medium.pending_seconds = 600; s.rules.critical.pending_seconds = 600; }, async () => {
        const bot = await agent('alice');
        const r = await file({ subject: bot, resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 });
        const c = await file({ subject: bot, resources: ['vault'], actions: ['read'], purpose: 'support', duration_seconds: 600 });
        expect((await approve(c.body.id, c.body.request_hash, t.sam)).body.status).toBe('pending');
        h.clock.advance(600_000);
        expect((await must('GET', `/v1/access-requests/${r.body.id}`)).status).toBe('pending'); // not swept yet
        const before = await snapshot();
        for (const res of [await approve(r.body.id, r.body.request_hash, t.bob), await deny(r.body.id, r.body.request_hash, t.bob), await approve(c.body.id, c.body.request_hash, t.bob)]) {
          expect(res.status).toBe(409);
          expect(res.body).toMatchObject({ code: 'request_not_pending', status: 'expired' });
        }
        expect(await snapshot()).toEqual(before);
        expect(await decide(bot, 'read', 'vault')).toBe('deny');
        await h.cp.approvals.sweep();
        expect((await must('GET', `/v1/access-requests/${r.body.id}`)).status).toBe('expired');
        expect((await must('GET', `/v1/access-requests/${c.body.id}`)).status).toBe('expired');
        expect((await approve(c.body.id, c.body.request_hash, t.bob)).body).toMatchObject({ code: 'request_not_pending', status: 'expired' });
      });
    });

    it.runIf(enabled)('attack: the requester edits between the approver\'s read and approve; approving the old text is refused and nothing moves to the new one', async () => {
      const bot = await agent('alice');
      const r = await file({ subject: bot, resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 });
      const read = await must('GET', `/v1/access-requests/${r.body.id}`, undefined, t.bob);
      const edited = await must('PATCH', `/v1/access-requests/${r.body.id}`, { actions: ['read', 'export'], justification: 'export it all' }, t.alice);
      expect(edited.request_hash).not.toBe(read.request_hash);
      const before = await snapshot();
      for (const res of [await approve(r.body.id, read.request_hash, t.bob), await deny(r.body.id, read.request_hash, t.bob)]) {
        expect(res.status).toBe(409);
        expect(res.body).toMatchObject({ code: 'request_changed', current_hash: edited.request_hash });
      }
      expect(await snapshot()).toEqual(before);
      // A hash that is no revision's at all is refused the same way.
      expect((await approve(r.body.id, 'f'.repeat(64), t.bob)).body.code).toBe('request_changed');
      expect(await decide(bot, 'export', 'corpus')).toBe('deny');
    });

    it.runIf(enabled)('attack: the requester edits or cancels a request after it was approved', async () => {
      const bot = await agent('alice');
      const r = await file({ subject: bot, resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 });
      const ok = await approve(r.body.id, r.body.request_hash, t.bob);
      expect(ok.body.status).toBe('approved');
      const before = await snapshot();
      for (const patch of [{ actions: ['read', 'write', 'export'] }, { duration_seconds: 7 * 86_400 }, { resources: ['pii'] }, { justification: 'something else' }]) {
        const res = await h.call('PATCH', `/v1/access-requests/${r.body.id}`, patch, t.alice);
        expect(res.status).toBe(409);
        expect(res.body).toMatchObject({ code: 'request_not_pending', status: 'approved' });
      }
      expect((await h.call('POST', `/v1/access-requests/${r.body.id}/cancel`, {}, t.alice)).body.code).toBe('request_not_pending');
      expect(await snapshot()).toEqual(before);
      const grant = await must('GET', `/v1/grants/${ok.body.grant_ids[0]}`);
      expect(grant).toMatchObject({ actions: ['read'], resource: { name: 'corpus' } });
      expect(await decide(bot, 'write', 'corpus')).toBe('deny');
    });

    it.runIf(enabled)('attack: file a request for someone else\'s agent, another team\'s agent, another person, or (as an agent) for another principal', async () => {
      const alicesBot = await agent('alice');
      const teamBot = uniq('team-bot');
      await must('POST', '/v1/principals', { name: teamBot, kind: 'agent', owner_team: 'ml-platform', status: 'active', purposes: ['support'] });
      const helper = await createAgent(h, uniq('bob-agent'), { owner: 'bob', scopes: ['custos:access-request'] });
      const key = (await must('POST', '/v1/api-keys', { principal: helper.name, audience: [issuerOf(h)], scope: ['custos:access-request'], ttl_seconds: 3600 })).key as string;
      const proposed = uniq('proposed-bot');
      await must('POST', '/v1/principals', { name: proposed, kind: 'agent', owner: 'bob', risk_tier: 'critical' });
      const body = { resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 };
      const before = await snapshot();
      for (const [subject, token] of [[alicesBot, t.ron], [teamBot, t.alice], ['bob', t.alice], [alicesBot, key], ['bob', key]] as const) {
        const res = await file({ subject, ...body }, token);
        expect(res.status, `${subject}: ${res.text}`).toBe(403);
        expect(res.body.code).toBe('forbidden');
      }
      // Nor a registration for someone else's proposal.
      expect((await file({ kind: 'registration', subject: proposed }, t.alice)).status).toBe(403);
      expect(await snapshot()).toEqual(before);
    });

    it.runIf(enabled)('attack: an admin approves around the rules — own agent, a high request outside the owners, after weakening the settings mid-request', async () => {
      const adminsBot = await agent('al');
      const own = await file({ subject: adminsBot, resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 }, t.al);
      expect((await approve(own.body.id, own.body.request_hash, t.al)).body.code).toBe('self_approval');
      expect((await approve(own.body.id, own.body.request_hash, h.adminToken)).status).toBe(200); // another admin: an approver like anyone else

      const bot = await agent('alice');
      const high = await file({ subject: bot, resources: ['weights'], actions: ['invoke'], purpose: 'support', duration_seconds: 3600 });
      // The rule is frozen into the request: weakening high to 'anyone' now does not open this one to the admin.
      await withSettings((s) => { s.rules.high.slots = ['anyone']; }, async () => {
        const res = await approve(high.body.id, high.body.request_hash, t.al);
        expect([res.status, res.body.code]).toEqual([403, 'approver_not_eligible']);
        expect(res.body.needs).toEqual(['resource_owners']);
      });
      expect(await approvalsOf(high.body.id)).toBe(0);
      // Nor does the body carry anyone else's name.
      const forged = await h.call('POST', `/v1/access-requests/${high.body.id}/approve`, { request_hash: high.body.request_hash, approver: 'rita', on_behalf_of: 'rita' }, t.al);
      expect([forged.status, forged.body.code]).toEqual([400, 'validation_failed']);
      expect(await approvalsOf(high.body.id)).toBe(0);
    });

    it.runIf(enabled)('attack: an approval keeps counting after its giver left the group or was suspended; a conflicting-role holder approves with another role', async () => {
      const sid = await person(uniq('sid'), 'security');
      const sidName = (await h.call('GET', '/v1/whoami', undefined, sid)).body.principal_name as string;
      await must('PUT', `/v1/teams/security/members/${sidName}`, {});
      const bot = await agent('alice');
      const left = await file({ subject: bot, resources: ['vault'], actions: ['read'], purpose: 'support', duration_seconds: 3600 });
      const gone = await file({ subject: bot, resources: ['vault'], actions: ['invoke'], purpose: 'support', duration_seconds: 3600 });
      for (const r of [left, gone]) expect((await approve(r.body.id, r.body.request_hash, sid)).body.needs).toEqual(['anyone']);
      // Removed from security: his approval no longer fills the security slot.
      await must('DELETE', `/v1/teams/security/members/${sidName}`);
      const afterLeaving = await approve(left.body.id, left.body.request_hash, t.bob);
      expect(afterLeaving.body).toMatchObject({ status: 'pending', needs: ['security'] });
      // Back on the team but suspended: his approval does not count at all.
      await must('PUT', `/v1/teams/security/members/${sidName}`, {});
      expect((await h.call('POST', `/v1/principals/${sidName}/suspend`, { reason: 'left the company' })).status).toBe(200);
      const afterSuspension = await approve(gone.body.id, gone.body.request_hash, t.bob);
      expect(afterSuspension.body).toMatchObject({ status: 'pending', needs: ['security'] });
      expect(await grantsOf(left.body.id) + await grantsOf(gone.body.id)).toBe(0);
      expect(await decide(bot, 'read', 'vault')).toBe('deny');

      // A conflicting-role pair excludes the person, whichever of their tokens they use.
      await withSettings((s) => { s.conflicts = [{ name: 'platform-does-not-deploy', holders: 'team:ml-platform', actions: ['deploy'] }]; }, async () => {
        const rons = await person('ron', 'security'); // ron gets a security-role token too
        const r = await file({ subject: await agent('alice'), resources: ['corpus'], actions: ['deploy'], purpose: 'support', duration_seconds: 600 });
        for (const token of [t.ron, rons]) {
          const res = await approve(r.body.id, r.body.request_hash, token);
          expect([res.status, res.body.code, res.body.conflict]).toEqual([403, 'approver_not_eligible', 'platform-does-not-deploy']);
        }
        expect(await approvalsOf(r.body.id)).toBe(0);
      });
    });

    // ---- Registration of high and critical principals ------------------------------------------------------------

    it.runIf(enabled)('attack: activate a new high or critical principal without an approved registration, by every route', async () => {
      for (const kind of ['agent', 'service_account', 'workload', 'training_job', 'pipeline']) {
        for (const tier of ['high', 'critical']) {
          const name = uniq(`${kind.replace('_', '-')}-${tier}`);
          for (const token of [t.al, t.sam]) {
            const res = await h.call('POST', '/v1/principals', { name, kind, owner: 'vera', status: 'active', risk_tier: tier }, token);
            expect([res.status, res.body.code], `${kind} ${tier}`).toEqual([409, 'registration_required']);
          }
          // Owners may not even create it active.
          expect((await h.call('POST', '/v1/principals', { name, kind, owner: 'alice', status: 'active', risk_tier: tier }, t.alice)).status).toBe(403);
          await must('POST', '/v1/principals', { name, kind, owner: 'alice', risk_tier: tier });
          for (const token of [t.al, t.sam, h.adminToken]) {
            expect((await h.call('POST', `/v1/principals/${name}/activate`, { reason: 'trust me' }, token)).body.code).toBe('registration_required');
          }
          expect([403, 409]).toContain((await h.call('POST', `/v1/principals/${name}/activate`, { reason: 'mine' }, t.alice)).status);
          // PATCH has no status field, and the tier of a proposal cannot be lowered before its registration.
          expect((await h.call('PATCH', `/v1/principals/${name}`, { status: 'active' })).body.code).toBe('validation_failed');
          for (const lower of ['low', 'medium']) {
            expect((await h.call('PATCH', `/v1/principals/${name}`, { risk_tier: lower })).body.code).toBe('registration_required');
          }
          // A registration request filed and cancelled activates nothing; nor does a denied one.
          const reg = await file({ kind: 'registration', subject: name, justification: 'new principal' });
          expect(reg.status, reg.text).toBe(201);
          expect((await h.call('POST', `/v1/access-requests/${reg.body.id}/cancel`, {}, t.alice)).body.status).toBe('cancelled');
          const reg2 = await file({ kind: 'registration', subject: name, justification: 'new principal, again' });
          expect((await deny(reg2.body.id, reg2.body.request_hash, t.sam)).body.status).toBe('denied');
          // Editing a registration cannot smuggle in resources or a lower tier.
          const reg3 = await file({ kind: 'registration', subject: name, justification: 'third time' });
          expect((await h.call('PATCH', `/v1/access-requests/${reg3.body.id}`, { resources: ['notes'], actions: ['read'] }, t.alice)).body.code).toBe('validation_failed');
          expect((await must('GET', `/v1/principals/${name}`)).status).toBe('proposed');
          // Decommissioned is terminal: no way back to active through it.
          expect((await h.call('POST', `/v1/principals/${name}/decommission`, { reason: 'abandoned' })).status).toBe(200);
          expect((await h.call('POST', `/v1/principals/${name}/activate`, { reason: 'revive' })).status).toBe(409);
          expect((await must('GET', `/v1/principals/${name}`)).status).toBe('decommissioned');
        }
      }
      // Registration requests are only for proposed high and critical non-humans.
      const lowBot = await agent('alice');
      expect((await file({ kind: 'registration', subject: lowBot })).body.code).toBe('validation_failed');
      expect((await file({ kind: 'registration', subject: 'alice' })).body.code).toBe('validation_failed');
    });

    it.runIf(enabled)('attack: the subject\'s owner is the only approver of a registration; an agent\'s own owner registers it alone', async () => {
      const name = uniq('sams-bot');
      await must('POST', '/v1/principals', { name, kind: 'agent', owner: 'sam', risk_tier: 'high' });
      const r = await file({ kind: 'registration', subject: name, justification: 'sam\'s new agent' }, t.al);
      expect(r.body).toMatchObject({ tier: 'high', needs: ['security'] });
      const sam = await approve(r.body.id, r.body.request_hash, t.sam);
      expect(sam.body).toMatchObject({ status: 'pending', needs: [NOT_THE_OWNER] });
      expect((await must('GET', `/v1/principals/${name}`)).status).toBe('proposed');
      // The owner filing it themselves is the requester.
      const other = uniq('sues-bot');
      await must('POST', '/v1/principals', { name: other, kind: 'agent', owner: 'sue', risk_tier: 'critical' });
      const own = await file({ kind: 'registration', subject: other, justification: 'sue\'s new agent' }, t.sue);
      expect((await approve(own.body.id, own.body.request_hash, t.sue)).body.code).toBe('self_approval');
      expect((await approve(r.body.id, r.body.request_hash, t.sue)).body.status).toBe('approved');
      expect((await must('GET', `/v1/principals/${name}`)).status).toBe('active');
    });

    it.runIf(enabled)('by design: registration governs new principals — a registered principal suspended and reactivated stays registered', async () => {
      const name = uniq('reg-bot');
      await must('POST', '/v1/principals', { name, kind: 'agent', owner: 'alice', risk_tier: 'high' });
      const r = await file({ kind: 'registration', subject: name, justification: 'a new agent' });
      expect((await approve(r.body.id, r.body.request_hash, t.sam)).body.status).toBe('approved');
      expect((await h.call('POST', `/v1/principals/${name}/suspend`, { reason: 'incident' })).status).toBe(200);
      expect((await h.call('POST', `/v1/principals/${name}/activate`, { reason: 'cleared' })).status).toBe(200);
      const events = (await eventsSince(h)).filter((e) => e.type === 'principal.activated' && e.target?.name === name);
      expect(events.map((e) => e.details.registration_request ?? null)).toEqual([r.body.id, null]);
    });

    // ---- Approval settings ----------------------------------------------------------------------------------------

    it.runIf(enabled)('attack: weaken the approval settings below the floors (or switch separation of duties off)', async () => {
      const current = await settings();
      const weakenings: Array<[string, (s: any) => void]> = [
        ['critical without security', (s) => { s.rules.critical.slots = ['anyone', 'anyone']; }],
        ['critical with one approver', (s) => { s.rules.critical.slots = ['security']; }],
        ['critical from owners only', (s) => { s.rules.critical.slots = ['resource_owners', 'anyone']; }],
        ['critical auto-approved', (s) => { s.rules.critical.auto_approve = true; }],
        ['high auto-approved', (s) => { s.rules.high.auto_approve = true; s.rules.high.slots = []; }],
        ['high with nobody', (s) => { s.rules.high.slots = []; }],
        ['medium auto-approved', (s) => { s.rules.medium.auto_approve = true; }],
        ['medium with nobody', (s) => { s.rules.medium.slots = []; }],
        ['registration high auto-approved', (s) => { s.registration.high.auto_approve = true; }],
        ['registration high with nobody', (s) => { s.registration.high.slots = []; }],
        ['registration critical without security', (s) => { s.registration.critical.slots = ['anyone', 'resource_owners']; }],
        ['registration critical with one approver', (s) => { s.registration.critical.slots = ['security']; }],
        ['a conflict held by anyone', (s) => { s.conflicts = [{ name: 'nobody', holders: 'anyone', actions: ['read'] }]; }],
        ['break-glass reviewed by itself', (s) => { s.break_glass_team = s.security_team; }],
      ];
      const before = await snapshot();
      for (const [what, change] of weakenings) {
        const next = structuredClone(current.settings);
        change(next);
        const res = await h.call('PUT', '/v1/approval-settings', { expected_version: current.version, settings: next, reason: what });
        expect([res.status, res.body.code], what).toEqual([422, 'invalid_approval_settings']);
      }
      // Separation of duties has no setting to switch off: unknown members are refused.
      for (const extra of [{ allow_self_approval: true }, { separation_of_duties: false }, { admins_bypass: true }]) {
        const res = await h.call('PUT', '/v1/approval-settings', { expected_version: current.version, settings: { ...current.settings, ...extra }, reason: 'x' });
        expect([res.status, res.body.code]).toEqual([400, 'validation_failed']);
      }
      const sixSlots = structuredClone(current.settings);
      sixSlots.rules.critical.slots = ['security', 'anyone', 'anyone', 'anyone', 'anyone', 'anyone'];
      expect((await h.call('PUT', '/v1/approval-settings', { expected_version: current.version, settings: sixSlots, reason: 'x' })).status).toBe(400);
      // Only admins change them, with the version they read.
      for (const token of [t.sam, t.alice, t.ann]) {
        expect((await h.call('PUT', '/v1/approval-settings', { expected_version: current.version, settings: current.settings, reason: 'x' }, token)).status).toBe(403);
      }
      expect((await h.call('PUT', '/v1/approval-settings', { expected_version: current.version + 5, settings: current.settings, reason: 'x' })).body.code).toBe('version_mismatch');
      expect(await snapshot()).toEqual(before);
      expect((await settings()).version).toBe(current.version);
    });

    // ---- Revoking grants ------------------------------------------------------------------------------------------

    it.runIf(enabled)('attack: revoke an approved grant as the requester, the subject\'s owner, an approver whose approval stopped counting, an auditor or an agent', async () => {
      const bot = await agent('alice');
      const helper = await createAgent(h, uniq('ron-agent'), { owner: 'ron', scopes: SELF_SERVICE });
      const agentToken = (await tokenFor(h, helper, { scope: SELF_SERVICE.join(' ') })).body.access_token as string;
      const r = await file({ subject: bot, resources: ['vault'], actions: ['read'], purpose: 'support', duration_seconds: 3600 });
      await approve(r.body.id, r.body.request_hash, t.ron); // revision 1: ron's approval stops counting at the edit
      const edited = await must('PATCH', `/v1/access-requests/${r.body.id}`, { justification: 'triage of the support queue, for INC-12' }, t.alice);
      await approve(r.body.id, edited.request_hash, t.sam);
      const done = await approve(r.body.id, edited.request_hash, t.rita);
      expect(done.body.status).toBe('approved');
      const grant = done.body.grant_ids[0] as string;
      const before = await snapshot();
      for (const token of [t.alice, t.ron, t.ann, t.bob, agentToken]) {
        const res = await h.call('POST', `/v1/grants/${grant}/revoke`, { reason: 'not mine to revoke' }, token);
        expect(res.status, res.text).toBe(403);
      }
      expect(await snapshot()).toEqual(before);
      expect(await decide(bot, 'read', 'vault')).toBe('allow');
      // A counted approver may.
      expect((await h.call('POST', `/v1/grants/${grant}/revoke`, { reason: 'done early' }, t.rita)).status).toBe(200);
      expect(await decide(bot, 'read', 'vault')).toBe('deny');
    });

    // ---- Break-glass ----------------------------------------------------------------------------------------------

    it.runIf(enabled)('attack: break the glass as a non-member admin, a removed member, or through a delegated token; close your own review with another role\'s token', async () => {
      const body = { resource: 'vault', actions: ['read'], justification: 'INC-77: the fraud model is down for every customer', duration_seconds: 300 };
      const before = await count('access_requests');
      const seq = await lastSeq(h);
      for (const token of [t.al, h.adminToken, t.sam]) {
        const res = await h.call('POST', '/v1/break-glass', body, token);
        expect([res.status, res.body.code]).toEqual([403, 'break_glass_not_allowed']);
      }
      const refused = (await eventsSince(h, seq)).filter((e) => e.type === 'break_glass.refused');
      expect(refused.map((e) => e.actor.principal_name)).toEqual(['al', 'bootstrap-admin', 'sam']);
      expect(refused.every((e) => e.outcome === 'failure')).toBe(true);

      // A member's session delegated to their agent: refused.
      const pager = await createAgent(h, uniq('olga-pager'), { owner: 'olga', scopes: SELF_SERVICE });
      const olgaSession = await signedIn(t.olga);
      await must('PATCH', '/v1/principals/olga', { may_delegate_to: [pager.name] });
      expect((await h.call('POST', '/v1/break-glass', body, await exchange(pager, olgaSession))).status).toBe(403);
      expect(await count('access_requests')).toBe(before);

      // A member: allowed; the body names no one else, and management actions are never granted.
      expect((await h.call('POST', '/v1/break-glass', { ...body, principal: 'alice' }, t.olga)).status).toBe(400);
      expect((await h.call('POST', '/v1/break-glass', { ...body, actions: ['approve'] }, t.olga)).status).toBe(400);
      const opened = await h.call('POST', '/v1/break-glass', body, t.olga);
      expect(opened.status, opened.text).toBe(201);
      expect(opened.body.user.name).toBe('olga');

      // Olga, promoted to security with a second token, still does not close her own review; nor does her session.
      const olgaSec = await person('olga', 'security');
      for (const token of [olgaSec, await signedIn(olgaSec)]) {
        const res = await h.call('POST', `/v1/break-glass/${opened.body.id}/close`, { finding: 'it was fine, trust me' }, token);
        expect([res.status, res.body.code]).toEqual([403, 'self_review']);
      }
      expect((await must('GET', `/v1/break-glass/${opened.body.id}`)).review.status).toBe('open');

      // Removed from the team: refused at the next attempt.
      await must('DELETE', '/v1/teams/break-glass/members/olga');
      expect((await h.call('POST', '/v1/break-glass', body, t.olga)).body.code).toBe('break_glass_not_allowed');
      await must('PUT', '/v1/teams/break-glass/members/olga', {});
      const closed = await h.call('POST', `/v1/break-glass/${opened.body.id}/close`, { finding: 'needed for INC-77, used as justified' }, t.sue);
      expect(closed.body.review).toMatchObject({ status: 'closed', closed_by: { name: 'sue' } });
    });

    // ---- Webhooks -------------------------------------------------------------------------------------------------

    it.runIf(enabled)('attack: point a webhook at an internal host over plain http (SSRF variants); https goes anywhere, http only to loopback', async () => {
      const refused = [
        'http://127.0.0.1.nip.io/h', 'http://[::ffff:127.0.0.1]/h', 'http://[::ffff:7f00:1]/h', 'http://localhost.evil.com/h', 'http://evil.com#@127.0.0.1/h',
        'http://0.0.0.0/h', 'http://0/h', 'http://[::]/h', 'http://user@127.0.0.1/h', 'http://user:pw@localhost/h', 'https://user@example.com/h',
        'http://10.0.0.1/h', 'http://169.254.169.254/latest/meta-data/', 'http://192.168.1.1/h', 'HTTP://EXAMPLE.COM/h', 'hTtP://metadata.google.internal/h',
        'http://foo.localhost/h', 'http://localhost./h', 'http://127.0.0.1/h#frag', 'ftp://127.0.0.1/h', 'file:///etc/passwd', 'gopher://127.0.0.1:25/x',
        'javascript:alert(1)', 'data:text/plain,hi', 'ws://127.0.0.1/h', '//127.0.0.1/h', 'https://', 'http://[::1', 'http://127.0.0.1\u0000.evil.com/h', 'http://evil.com\\@127.0.0.1/h', 'http://127.0.0.1:80@evil.com/h', 'http://127.0.0.1:99999/h',
      ];
      const accepted = [
        'https://10.0.0.1/h', 'https://169.254.169.254/h', 'https://127.0.0.1:8443/h', 'https://hooks.example.com/custos', 'HTTPS://Hooks.Example.com/x',
        'http://127.0.0.1:9/h', 'http://127.1/h', 'HTTP://127.0.0.1/h', 'http://[::1]:9/h', 'http://[0:0:0:0:0:0:0:1]/h', 'http:/127.0.0.1/h', 'http://0x7f.0.0.1/h', 'http://localhost:9/h', 'http://LOCALHOST/h',
      ];
      const before = await snapshot();
      for (const url of refused) {
        const res = await h.call('POST', '/v1/webhooks', { name: uniq('ssrf'), url });
        expect([400, 422], `${url}: ${res.text}`).toContain(res.status);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        if (res.status === 422) expect(res.body.code).toBe('invalid_webhook_url');
      }
      expect(await snapshot()).toEqual(before);
      const names: string[] = [];
      for (const url of accepted) {
        const name = uniq('hook');
        const res = await h.call('POST', '/v1/webhooks', { name, url, enabled: false });
        expect(res.status, `${url}: ${res.text}`).toBe(201);
        names.push(name);
      }
      // Changing the URL later goes through the same rule.
      for (const url of ['http://169.254.169.254/h', 'http://127.0.0.1.nip.io/h', 'http://[::ffff:127.0.0.1]/h']) {
        const res = await h.call('PATCH', `/v1/webhooks/${names[0]}`, { url });
        expect([res.status, res.body.code]).toEqual([422, 'invalid_webhook_url']);
      }
      expect((await must('GET', `/v1/webhooks/${names[0]}`)).url).toBe(accepted[0]);
      for (const name of names) await must('DELETE', `/v1/webhooks/${name}`);
    });

    it.runIf(enabled)('attack: read a webhook secret or a Slack URL\'s path back from responses, lists, the audit log, delivery logs or payloads', async () => {
      const port = await closedPort();
      const slackPath = 'services/T0SECRET/B0SECRET/XyZslackPathCredential';
      const slackUrl = `https://127.0.0.1:${port}/${slackPath}`;
      const secret = 'given-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
      const seq = await lastSeq(h);
      const slack = await h.call('POST', '/v1/webhooks', { name: uniq('slack'), url: slackUrl, format: 'slack' });
      expect(slack.status, slack.text).toBe(201);
      expect(typeof slack.body.secret).toBe('string');
      const generated = slack.body.secret as string;
      const json = await h.call('POST', '/v1/webhooks', { name: uniq('siem'), url: `http://127.0.0.1:${port}/siem`, secret });
      expect(json.status, json.text).toBe(201);
      const rotated = await must('PATCH', `/v1/webhooks/${json.body.name}`, { rotate_secret: true, reason: 'rotation' });
      const secrets = [secret, generated, rotated.secret as string];

      // Events that go to both: a request filed and approved, a test delivery; all fail (nothing listens) and are logged.
      const r = await file({ subject: await agent('alice'), resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600 });
      await approve(r.body.id, r.body.request_hash, t.bob);
      await h.call('POST', `/v1/webhooks/${slack.body.name}/test`);
      await h.cp.approvals.deliverDue();

      const reads = [
        await h.call('GET', '/v1/webhooks'), await h.call('GET', `/v1/webhooks/${slack.body.name}`), await h.call('GET', `/v1/webhooks/${json.body.name}`),
        await h.call('GET', `/v1/webhooks/${slack.body.name}/deliveries`), await h.call('GET', `/v1/webhooks/${json.body.name}/deliveries`),
        await h.call('GET', '/v1/webhooks', undefined, t.sam),
      ];
      for (const res of reads) {
        expect(res.status).toBe(200);
        for (const s of secrets) expect(res.text).not.toContain(s);
      }
      const deliveries = reads[3]!.body.items as any[];
      expect(deliveries.length).toBeGreaterThan(0);
      for (const d of [...deliveries, ...(reads[4]!.body.items as any[])]) {
        expect(d.last_error ?? '').not.toContain(slackPath);
        expect(JSON.stringify(d.payload)).not.toContain(slackPath);
        for (const token of Object.values(t)) expect(JSON.stringify(d.payload)).not.toContain(token);
      }
      expect(deliveries.some((d) => d.attempts > 0 && d.last_error)).toBe(true);
      // The audit log names the URL by origin and keyed hash only, and never holds a secret or an operator token.
      const events = await eventsSince(h, seq);
      const webhookEvents = events.filter((e) => e.type.startsWith('webhook.'));
      expect(webhookEvents.map((e) => e.type)).toEqual(['webhook.created', 'webhook.created', 'webhook.updated', 'webhook.tested']);
      expect(webhookEvents[0]!.details).toMatchObject({ url_origin: `https://127.0.0.1:${port}`, secret: 'generated' });
      expect(webhookEvents[1]!.details.secret).toBe('given');
      expect(webhookEvents[2]!.details).toMatchObject({ changed: ['secret'], secret: 'generated' });
      const everything = JSON.stringify(events);
      expect(everything).not.toContain(slackPath);
      for (const s of secrets) expect(everything).not.toContain(s);
      for (const token of Object.values(t)) expect(everything).not.toContain(token);
      // Nor is either stored in the clear.
      const rows = await h.cp.db.kysely.selectFrom('webhooks').selectAll().execute();
      for (const s of secrets) expect(JSON.stringify(rows)).not.toContain(s);
      // Auditors and owners read the audit log but not webhooks.
      for (const token of [t.ann, t.alice]) expect((await h.call('GET', `/v1/webhooks/${slack.body.name}`, undefined, token)).status).toBe(403);
      for (const name of [slack.body.name, json.body.name]) await must('DELETE', `/v1/webhooks/${name}`);
    });

    // ---- Bad input on every route the module added -----------------------------------------------------------------

    it.runIf(enabled)('attack: bad input on every approvals route — unknown fields, wrong types, lone surrogates, huge strings, bad ids and JSON', async () => {
      const bot = await agent('alice');
      const r = await must('POST', '/v1/access-requests', { subject: bot, resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600, justification: 'valid one' }, t.alice);
      const bg = await must('POST', '/v1/break-glass', { resource: 'notes', actions: ['read'], justification: 'INC-88: valid break-glass for the input test', duration_seconds: 60 }, t.olga);
      const hook = await must('POST', '/v1/webhooks', { name: uniq('input-hook'), url: 'http://127.0.0.1:9/h', enabled: false });
      const current = await settings();
      const lone = 'ab\ud800cd';
      const huge = 'x'.repeat(200_000);
      const id = r.id as string;
      const hash = r.request_hash as string;
      const valid = { subject: bot, resources: ['corpus'], actions: ['read'], purpose: 'support', duration_seconds: 600, justification: 'ok' };
      const cases: Array<[string, string, unknown, string?]> = [
        ['POST', '/v1/access-requests', { ...valid, approver: 'bob' }],
        ['POST', '/v1/access-requests', { ...valid, status: 'approved' }],
        ['POST', '/v1/access-requests', { ...valid, requirement: { slots: [] } }],
        ['POST', '/v1/access-requests', { ...valid, duration_seconds: '600' }],
        ['POST', '/v1/access-requests', { ...valid, duration_seconds: 600.5 }],
        ['POST', '/v1/access-requests', { ...valid, duration_seconds: 1e308 }],
        ['POST', '/v1/access-requests', { ...valid, resources: 'corpus' }],
        ['POST', '/v1/access-requests', { ...valid, resources: Array.from({ length: 21 }, (_, i) => `r${i}`) }],
        ['POST', '/v1/access-requests', { ...valid, actions: ['approve'] }],
        ['POST', '/v1/access-requests', { ...valid, actions: [] }],
        ['POST', '/v1/access-requests', { ...valid, kind: 'break_glass' }],
        ['POST', '/v1/access-requests', { ...valid, justification: lone }],
        ['POST', '/v1/access-requests', { ...valid, justification: huge }],
        ['POST', '/v1/access-requests', { ...valid, justification: '' }],
        ['POST', '/v1/access-requests', { ...valid, purpose: 'sup port' }],
        ['POST', '/v1/access-requests', { ...valid, purpose: 'support\u202e' }],
        ['POST', '/v1/access-requests', { ...valid, subject: lone }],
        ['POST', '/v1/access-requests', { ...valid, ticket: huge }],
        ['POST', '/v1/access-requests', '{"subject": '],
        ['POST', '/v1/access-requests', '[]'],
        ['POST', '/v1/access-requests', 'null'],
        ['PATCH', `/v1/access-requests/${id}`, { justification: lone }],
        ['PATCH', `/v1/access-requests/${id}`, { subject: 'bob' }],
        ['PATCH', `/v1/access-requests/${id}`, { request_hash: hash }],
        ['PATCH', `/v1/access-requests/${id}`, { duration_seconds: -1 }],
        ['PATCH', '/v1/access-requests/not-a-uuid', { justification: 'x' }],
        ['PATCH', `/v1/access-requests/${id}%00`, { justification: 'x' }],
        ['POST', `/v1/access-requests/${id}/approve`, {}],
        ['POST', `/v1/access-requests/${id}/approve`, { request_hash: hash.toUpperCase() }],
        ['POST', `/v1/access-requests/${id}/approve`, { request_hash: hash, comment: lone }],
        ['POST', `/v1/access-requests/${id}/approve`, { request_hash: hash, comment: huge }],
        ['POST', `/v1/access-requests/${id}/approve`, { request_hash: [hash] }],
        ['POST', `/v1/access-requests/${id}/approve`, { request_hash: hash, decision: 'approve', approver_id: 'x' }],
        ['POST', `/v1/access-requests/${id}/deny`, { request_hash: hash }],
        ['POST', `/v1/access-requests/${id}/deny`, { request_hash: hash, reason: lone }],
        ['POST', `/v1/access-requests/${id}/cancel`, { reason: lone }],
        ['POST', `/v1/access-requests/${id}/cancel`, { reason: 'x', force: true }],
        ['POST', '/v1/access-requests/00000000-0000-0000-0000-000000000000/approve', { request_hash: hash }],
        ['GET', '/v1/access-requests?cursor=not-ours', undefined],
        ['GET', '/v1/access-requests?limit=100000', undefined],
        ['GET', '/v1/access-requests?status=granted', undefined],
        ['GET', '/v1/access-requests?unknown=1', undefined],
        ['PUT', '/v1/approval-settings', { expected_version: current.version, settings: { ...current.settings, security_team: 7 }, reason: 'x' }],
        ['PUT', '/v1/approval-settings', { expected_version: current.version, settings: { ...current.settings, security_team: lone }, reason: 'x' }],
        ['PUT', '/v1/approval-settings', { expected_version: current.version, settings: current.settings, reason: lone }],
        ['PUT', '/v1/approval-settings', { expected_version: 'latest', settings: current.settings, reason: 'x' }],
        ['PUT', '/v1/approval-settings', { expected_version: current.version, settings: current.settings }],
        ['POST', '/v1/break-glass', { resource: 'notes', actions: ['read'], justification: `INC: ${lone} valid length here`, duration_seconds: 60 }, t.olga],
        ['POST', '/v1/break-glass', { resource: 'notes', actions: ['read'], justification: huge, duration_seconds: 60 }, t.olga],
        ['POST', '/v1/break-glass', { resource: 'notes', actions: ['read'], justification: '                         x', duration_seconds: 60 }, t.olga],
        ['POST', '/v1/break-glass', { resource: 'notes', actions: ['read'], justification: 'INC-88: a long enough justification', duration_seconds: 59 }, t.olga],
        ['POST', '/v1/break-glass', { resource: 'notes', actions: ['read'], justification: 'INC-88: a long enough justification', user: 'alice' }, t.olga],
        ['POST', `/v1/break-glass/${bg.id}/close`, { finding: lone.repeat(5) }],
        ['POST', `/v1/break-glass/${bg.id}/close`, { finding: 'a long enough finding', closed_by: 'sue' }],
        ['POST', `/v1/break-glass/${bg.id}/end`, {}],
        ['POST', '/v1/break-glass/not-a-uuid/end', { reason: 'x' }],
        ['GET', '/v1/break-glass?review=maybe', undefined],
        ['POST', '/v1/webhooks', { name: uniq('h'), url: 'https://example.com/h', secret: 'short' }],
        ['POST', '/v1/webhooks', { name: uniq('h'), url: 'https://example.com/h', secret: `${'s'.repeat(40)} spaced` }],
        ['POST', '/v1/webhooks', { name: `bad${lone}`, url: 'https://example.com/h' }],
        ['POST', '/v1/webhooks', { name: uniq('h'), url: `https://example.com/${lone}` }],
        ['POST', '/v1/webhooks', { name: uniq('h'), url: `https://example.com/${huge}` }],
        ['POST', '/v1/webhooks', { name: uniq('h'), url: 'https://example.com/h', events: ['everything'] }],
        ['POST', '/v1/webhooks', { name: uniq('h'), url: 'https://example.com/h', format: 'xml' }],
        ['POST', '/v1/webhooks', { name: uniq('h'), url: 'https://example.com/h', secret_sealed: 'x' }],
        ['PATCH', `/v1/webhooks/${hook.name}`, {}],
        ['PATCH', `/v1/webhooks/${hook.name}`, { secret: 'x'.repeat(40), rotate_secret: true }],
        ['PATCH', `/v1/webhooks/${hook.name}`, { rotate_secret: false }],
        ['PATCH', `/v1/webhooks/${hook.name}`, { name: 'renamed' }],
        ['POST', `/v1/webhooks/${hook.name}/deliveries/not-a-uuid/retry`, {}],
        ['POST', `/v1/webhooks/${hook.name}/deliveries/00000000-0000-0000-0000-000000000000/retry`, {}],
        ['GET', `/v1/webhooks/${hook.name}/deliveries?status=lost`, undefined],
        ['DELETE', `/v1/webhooks/${hook.name}?reason=x&force=true`, undefined],
        ['DELETE', `/v1/webhooks/${hook.name}?reason=${'r'.repeat(1001)}`, undefined],
        ['POST', '/v1/review-campaigns', { name: 'q', tiers: ['extreme'] }],
        ['POST', '/v1/review-campaigns', { name: lone }],
        ['POST', '/v1/review-campaigns', { name: 'q', principals: [] }],
        ['POST', '/v1/review-items/not-a-uuid/decision', { decision: 'keep', reason: 'x' }],
        ['POST', '/v1/review-items/00000000-0000-0000-0000-000000000000/decision', { decision: 'approve', reason: 'x' }],
        ['GET', '/v1/review-items?principal=bob', undefined],
      ];
      // Let sign-ins and the deliveries queued above settle, then measure.
      await h.cp.approvals.deliverDue();
      const before = await snapshot();
      for (const [method, url, body, token] of cases) {
        const res = await h.call(method, url, body, token);
        const label = `${method} ${url} ${typeof body === 'string' ? body : JSON.stringify(body)?.slice(0, 120)}`;
        expect(res.status, `${label}: ${res.text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
        expect(res.status, label).toBeLessThan(500);
        expect(res.headers['content-type'], label).toMatch(/^application\/problem\+json/);
        expect(typeof res.body.code, label).toBe('string');
      }
      expect(await snapshot()).toEqual(before);
      // The writer is unharmed: a valid change still commits and is audited.
      const ok = await approve(id, hash, t.bob);
      expect(ok.status, ok.text).toBe(200);
      expect((await eventsSince(h)).at(-1)!.type).toBe('access_request.approved');
    });

  });
}
