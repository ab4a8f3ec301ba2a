import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activate } from '../support/authz.js';
import { BACKENDS } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { createAgent, tokenFor, type TestAgent } from '../support/oauth.js';

// The AuthZEN Authorization API 1.0 over HTTP on a real control plane: the PDP metadata, evaluation and
// evaluations (defaults, semantics, per-item errors, the batch cap), the searches with paging, who may ask about
// whom, what counts as asserted, a subject's own token passed by the PEP, X-Request-ID, and the 400s of §10.1.

const POLICIES = [
  '@id("alice-invokes-models")\npermit (principal == Custos::Human::"alice", action == Custos::Action::"invoke", resource is Custos::Model);',
  '@id("read-for-support")\npermit (principal, action == Custos::Action::"read", resource is Custos::AppResource) when { context.purpose == "support" };',
  '@id("owner-writes")\npermit (principal, action == Custos::Action::"write", resource is Custos::AppResource) when { resource.asserted.hasTag("owner") && resource.asserted.getTag("owner") == principal.name };',
  '@id("ticket-exports")\npermit (principal, action == Custos::Action::"export", resource is Custos::AppResource) when { context.request.hasTag("ticket") };',
  '@id("token-is-never-asserted")\npermit (principal, action == Custos::Action::"deploy", resource is Custos::AppResource) when { principal.asserted.hasTag("token") };',
].join('\n');

const doc = (id: string) => ({ type: 'document', id });

for (const backend of BACKENDS) {
  describe(`AuthZEN API (${backend})`, () => {
    let h: Harness;
    let pep: TestAgent;
    let pepToken: string;
    let helper: TestAgent;
    let helperToken: string;
    let auditorToken: string;
    let securityToken: string;

    const post = (url: string, body: unknown, token: string | null = h.adminToken, headers: Record<string, string> = {}) => h.cp.http.inject({
      method: 'POST', url, payload: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    }).then((r) => ({ status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined, headers: r.headers }));
    const evaluation = (body: unknown, token?: string | null) => post('/access/v1/evaluation', body, token);
    const evaluations = (body: unknown, token?: string | null) => post('/access/v1/evaluations', body, token);
    const lastEvents = async (type: string, n = 1) => (await h.call('GET', `/v1/audit/events?type=${type}&order=desc&limit=${n}`)).body.items as Array<Record<string, any>>;

    beforeAll(async () => {
      h = await startHarness(backend);
      for (const name of ['alice', 'bob']) expect((await h.call('POST', '/v1/principals', { name, kind: 'human' })).status).toBe(201);
      expect((await h.call('POST', '/v1/principals', { name: 'carol', kind: 'human', labels: { authzen_id: 'carol@example.com' } })).status).toBe(201);
      for (const name of ['gpt-small', 'gpt-large']) {
        expect((await h.call('POST', '/v1/resources', { name, kind: 'model', owner: 'alice', classification: 'internal' })).status).toBe(201);
      }
      pep = await createAgent(h, 'todo-pep', { kind: 'service_account', scopes: ['authz:evaluate'], purposes: [] });
      const t = await tokenFor(h, pep, { scope: 'authz:evaluate' });
      expect(t.status, t.text).toBe(200);
      pepToken = t.body.access_token;
      helper = await createAgent(h, 'helper', { scopes: ['models:invoke'], purposes: ['support'] });
      const ht = await tokenFor(h, helper, { purpose: 'support' });
      expect(ht.status, ht.text).toBe(200);
      helperToken = ht.body.access_token;
      auditorToken = await h.operator('op-auditor', 'auditor');
      securityToken = await h.operator('op-security', 'security');
      await activate(h, POLICIES);
    }, 60_000);
    afterAll(async () => { await h?.close(); });

    it('publishes its metadata at /.well-known/authzen-configuration without a token', async () => {
      const r = await h.call('GET', '/.well-known/authzen-configuration', undefined, null);
      expect(r.status).toBe(200);
      const base = h.cp.issuer();
      expect(r.body).toEqual({
        policy_decision_point: base,
        access_evaluation_endpoint: `${base}/access/v1/evaluation`,
        access_evaluations_endpoint: `${base}/access/v1/evaluations`,
        search_subject_endpoint: `${base}/access/v1/search/subject`,
        search_resource_endpoint: `${base}/access/v1/search/resource`,
        search_action_endpoint: `${base}/access/v1/search/action`,
      });
    });

    it('answers an allow as {decision: true} and a deny as 200 {decision: false} with reasons, each recorded first', async () => {
      const allow = await evaluation({ subject: { type: 'user', id: 'alice' }, action: { name: 'invoke' }, resource: { type: 'model', id: 'gpt-small' } });
      expect(allow).toMatchObject({ status: 200, body: { decision: true } });
      const [allowed] = await lastEvents('authz.decision');
      expect(allowed).toMatchObject({ decision: 'allow', action: 'invoke', actor: { principal_name: 'bootstrap-admin' } });

      const deny = await evaluation({ subject: { type: 'human', id: 'bob' }, action: { name: 'invoke' }, resource: { type: 'model', id: 'gpt-small' } });
      expect(deny.status).toBe(200);
      expect(deny.body.decision).toBe(false);
      const [denied] = await lastEvents('authz.decision');
      expect(deny.body.context).toEqual({ id: denied!.id, reason_admin: { 403: 'no policy permits bob' }, reason_user: { 403: 'Access denied.' } });
    });

    it('resolves a subject by its authzen_id label, and refuses a subject of another type', async () => {
      await activate(h, `${POLICIES}\n@id("carol-invokes")\npermit (principal == Custos::Human::"carol", action == Custos::Action::"invoke", resource);`);
      expect((await evaluation({ subject: { type: 'user', id: 'carol@example.com' }, action: { name: 'invoke' }, resource: { type: 'model', id: 'gpt-small' } })).body.decision).toBe(true);
      const wrong = await evaluation({ subject: { type: 'agent', id: 'carol' }, action: { name: 'invoke' }, resource: { type: 'model', id: 'gpt-small' } });
      expect(wrong.body).toMatchObject({ decision: false, context: { error: { status: 404 } } });
      const [recorded] = await lastEvents('authz.decision');
      expect(recorded).toMatchObject({ decision: 'deny', reasons: ['refused:unknown_principal'] });
      const unknown = await evaluation({ subject: { type: 'user', id: 'nobody' }, action: { name: 'invoke' }, resource: { type: 'model', id: 'gpt-small' } });
      expect(unknown.body).toMatchObject({ decision: false, context: { error: { status: 404 } } });
      await activate(h, POLICIES);
    });

    it('an alias counts only on an active principal of the asked kind: nobody squats a person\'s authzen_id', async () => {
      await activate(h, `${POLICIES}\n@id("dora-invokes")\npermit (principal == Custos::Human::"dora", action == Custos::Action::"invoke", resource);`);
      expect((await h.call('POST', '/v1/principals', { name: 'dora', kind: 'human', labels: { authzen_id: 'dora@example.com' } })).status).toBe(201);
      const owner = await h.operator('own-squatter', 'owner');
      const ask = (id: string, type = 'user') => evaluation({ subject: { type, id }, action: { name: 'invoke' }, resource: { type: 'model', id: 'gpt-small' } });
      // An owner's agent, or a merely proposed person, carrying the same alias does not make dora unknown.
      expect((await h.call('POST', '/v1/principals', { name: 'squat-agent', kind: 'agent', owner: 'own-squatter', labels: { authzen_id: 'dora@example.com' } }, owner)).status).toBe(201);
      expect((await h.call('POST', '/v1/principals', { name: 'squat-human', kind: 'human', status: 'proposed', labels: { authzen_id: 'dora@example.com' } })).status).toBe(201);
      expect((await ask('dora@example.com')).body).toEqual({ decision: true });
      // The agent's registry name of another kind does not hide an alias either.
      expect((await h.call('POST', '/v1/principals', { name: 'dora-app-id', kind: 'agent', owner: 'own-squatter' }, owner)).status).toBe(201);
      expect((await h.call('PATCH', '/v1/principals/dora', { labels: { authzen_id: 'dora-app-id' } })).status, 'relabel').toBe(200);
      expect((await ask('dora-app-id')).body).toEqual({ decision: true });
      // Two ACTIVE people with one alias are ambiguous: nobody (a deny naming what was asked), never a guess.
      expect((await h.call('POST', '/v1/principals', { name: 'dora-twin', kind: 'human', labels: { authzen_id: 'dora-app-id' } })).status).toBe(201);
      const ambiguous = await ask('dora-app-id');
      expect(ambiguous.body.decision).toBe(false);
      expect(ambiguous.body.context.error).toEqual({ status: 404, message: "no principal of type 'user' is named 'dora-app-id'" });
      await activate(h, POLICIES);
    });

    it('an unknown subject or resource is a 404 refusal whose reasons are keyed 404 and name what was asked', async () => {
      const unknown = await evaluation({ subject: { type: 'user', id: 'nobody-here' }, action: { name: 'invoke' }, resource: { type: 'model', id: 'gpt-small' } });
      expect(unknown.body.context).toMatchObject({
        reason_admin: { 404: "unknown_principal: no principal of type 'user' is named 'nobody-here'" }, reason_user: { 404: 'Not found.' },
        error: { status: 404, message: "no principal of type 'user' is named 'nobody-here'" },
      });
      expect(unknown.body.context.reason_admin[403]).toBeUndefined();
      const missing = await evaluation({ subject: { type: 'user', id: 'alice' }, action: { name: 'invoke' }, resource: { type: 'model', id: 'no-such-model' } });
      expect(missing.body.context.error).toEqual({ status: 404, message: "no resource of type 'model' is named 'no-such-model'" });
    });

    it('a principal asking about itself gets a missing registry resource as a plain deny (existence is not revealed)', async () => {
      const ask = (id: string) => evaluation({ action: { name: 'read' }, resource: { type: 'dataset', id } }, helperToken);
      expect((await h.call('POST', '/v1/resources', { name: 'helper-secret', kind: 'dataset', owner: 'alice' })).status).toBe(201);
      const [existing, missing] = [await ask('helper-secret'), await ask('helper-nothing')];
      expect(existing.body).toMatchObject({ decision: false, context: { reason_user: { 403: 'Access denied.' } } });
      expect(Object.keys(missing.body.context).sort()).toEqual(Object.keys(existing.body.context).sort());
      expect(missing.body.context.reason_user).toEqual(existing.body.context.reason_user);
      expect(missing.body.context.error).toBeUndefined();
    });

    it('echoes X-Request-ID verbatim and records it with the decision', async () => {
      const id = 'pep request #42 (retry)';
      const r = await post('/access/v1/evaluation', { subject: { type: 'user', id: 'alice' }, action: { name: 'invoke' }, resource: { type: 'model', id: 'gpt-small' } }, h.adminToken, { 'x-request-id': id });
      expect(r.headers['x-request-id']).toBe(id);
      expect((await lastEvents('authz.decision'))[0]!.details.request_id).toBe(id);
      const refused = await post('/access/v1/evaluation', {}, null, { 'x-request-id': id });
      expect(refused.status).toBe(401);
      expect(refused.headers['x-request-id']).toBe(id);
      expect((await post('/access/v1/evaluation', { subject: { type: 'user', id: 'alice' }, action: { name: 'invoke' }, resource: { type: 'model', id: 'gpt-small' } })).headers['x-request-id']).toBeTruthy();
    });

    it('caller properties and context are asserted; subject.properties.token never is', async () => {
      const write = (owner: string) => evaluation({ subject: { type: 'user', id: 'alice' }, action: { name: 'write' }, resource: { ...doc('d1'), properties: { owner } } });
      expect((await write('alice')).body.decision).toBe(true);
      expect((await write('bob')).body.decision).toBe(false);
      expect((await evaluation({ subject: { type: 'user', id: 'alice' }, action: { name: 'export' }, resource: doc('d1'), context: { ticket: 'T-1' } })).body.decision).toBe(true);
      expect((await evaluation({ subject: { type: 'user', id: 'alice' }, action: { name: 'export' }, resource: doc('d1') })).body.decision).toBe(false);
      const withToken = await evaluation({ subject: { type: 'agent', id: 'helper', properties: { token: helperToken } }, action: { name: 'deploy' }, resource: doc('d1') }, pepToken);
      expect(withToken.body.decision).toBe(false);
      const [recorded] = await lastEvents('authz.decision');
      expect(JSON.stringify(recorded)).not.toContain(helperToken);
    });

    it('a subject token passed by the PEP is verified and supplies purpose, chain and binding', async () => {
      const read = (subject: Record<string, unknown>) => evaluation({ subject, action: { name: 'read' }, resource: doc('d2') }, pepToken);
      expect((await read({ type: 'agent', id: 'helper' })).body.decision).toBe(false);
      expect((await read({ type: 'agent', id: 'helper', properties: { token: helperToken } })).body.decision).toBe(true);
      const [recorded] = await lastEvents('authz.decision');
      expect(recorded!.details.request.facts).toMatchObject({ purpose: 'support', credential_kind: 'access_token', dpop_bound: false });
      const mismatch = await read({ type: 'agent', id: 'todo-pep', properties: { token: helperToken } });
      expect(mismatch.body).toMatchObject({ decision: false, context: { error: { status: 400 } } });
      const forged = await read({ type: 'agent', id: 'helper', properties: { token: `${helperToken.slice(0, -4)}AAAA` } });
      expect(forged.body).toMatchObject({ decision: false, context: { error: { status: 400 } } });
      expect((await lastEvents('authz.decision'))[0]).toMatchObject({ decision: 'deny', reasons: ['refused:invalid_request'] });
    });

    it('who may ask: operators with authz.evaluate, evaluator service accounts, and a principal about itself', async () => {
      const q = { subject: { type: 'user', id: 'alice' }, action: { name: 'invoke' }, resource: { type: 'model', id: 'gpt-small' } };
      expect((await evaluation(q, securityToken)).body.decision).toBe(true);
      expect((await evaluation(q, pepToken)).body.decision).toBe(true);
      const auditor = await evaluation(q, auditorToken);
      expect(auditor).toMatchObject({ status: 403, body: { code: 'forbidden' } });
      expect((await lastEvents('authz.denied'))[0]).toMatchObject({ actor: { principal_name: 'op-auditor' }, target: { name: 'POST /access/v1/evaluation' } });
      expect((await evaluation(q, null)).status).toBe(401);

      const aboutOther = await evaluation(q, helperToken);
      expect(aboutOther).toMatchObject({ status: 403, body: { code: 'insufficient_scope' } });
      const self = await evaluation({ action: { name: 'read' }, resource: doc('d3') }, helperToken);
      expect(self.body).toEqual({ decision: true });
      expect((await lastEvents('authz.decision'))[0]!.details.request.facts).toMatchObject({ purpose: 'support', credential_kind: 'access_token' });
      expect((await evaluation({ subject: { type: 'agent', id: 'helper' }, action: { name: 'write' }, resource: doc('d3') }, helperToken)).body).toMatchObject({ decision: false, context: { reason_user: { 403: 'Access denied.' } } });
      const selfDeny = await evaluation({ subject: { type: 'agent', id: 'helper' }, action: { name: 'write' }, resource: doc('d3') }, helperToken);
      expect(selfDeny.body.context.reason_admin).toBeUndefined();
      // An operator has no "itself" to default to.
      expect((await evaluation({ action: { name: 'read' }, resource: doc('d3') })).status).toBe(400);
    });

    it('bad input is 400 (missing members, wrong types, non-JSON); unknown members are ignored', async () => {
      const ok = { subject: { type: 'user', id: 'alice' }, action: { name: 'invoke' }, resource: { type: 'model', id: 'gpt-small' } };
      for (const bad of [
        { action: ok.action, resource: ok.resource },
        { subject: ok.subject, resource: ok.resource },
        { subject: ok.subject, action: ok.action },
        { ...ok, subject: { id: 'alice' } },
        { ...ok, subject: { type: 'user' } },
        { ...ok, action: {} },
        { ...ok, resource: { id: 'gpt-small' } },
        { ...ok, resource: { type: 'model' } },
        { ...ok, subject: 'alice' },
        { ...ok, action: { name: 123 } },
        { ...ok, context: 'now' },
        { ...ok, resource: { ...ok.resource, properties: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])) } },
      ]) {
        const r = await evaluation(bad);
        expect(r.status, JSON.stringify(bad)).toBe(400);
        expect(r.body).toMatchObject({ status: 400, code: 'validation_failed' });
        expect(typeof r.body.detail).toBe('string');
      }
      expect((await evaluation({ ...ok, foo: 'bar', futureField: { nested: true }, subject: { ...ok.subject, extra: 1 } })).body).toEqual({ decision: true });
      expect((await evaluation('{"subject": ')).status).toBe(400);
      expect((await evaluation('')).status).toBe(400);
      const text = await h.cp.http.inject({ method: 'POST', url: '/access/v1/evaluation', payload: JSON.stringify(ok), headers: { 'content-type': 'text/plain', authorization: `Bearer ${h.adminToken}` } });
      expect(text.statusCode).toBe(400);
    });

    describe('evaluations', () => {
      const subject = { type: 'user', id: 'alice' };
      const item = (model: string) => ({ resource: { type: 'model', id: model } });

      it('applies top-level defaults (items win) and answers in order', async () => {
        await activate(h, `${POLICIES}\n@id("alice-reads-small")\npermit (principal == Custos::Human::"alice", action == Custos::Action::"read", resource == Custos::Model::"gpt-small");`);
        const r = await evaluations({
          subject, action: { name: 'invoke' },
          evaluations: [item('gpt-small'), { ...item('gpt-large'), action: { name: 'read' } }, { ...item('gpt-small'), action: { name: 'read' } }, { ...item('gpt-small'), subject: { type: 'user', id: 'bob' } }],
        });
        expect(r.status).toBe(200);
        expect(r.body.decision).toBeUndefined();
        expect(r.body.evaluations.map((e: { decision: boolean }) => e.decision)).toEqual([true, false, true, false]);
        await activate(h, POLICIES);
      });

      it('deny_on_first_deny and permit_on_first_permit stop early; execute_all runs every item', async () => {
        const items = [item('gpt-small'), { ...item('gpt-small'), subject: { type: 'user', id: 'bob' } }, item('gpt-large')];
        const run = async (semantic?: string) => (await evaluations({ subject, action: { name: 'invoke' }, evaluations: items, ...(semantic ? { options: { evaluations_semantic: semantic } } : {}) })).body.evaluations.map((e: { decision: boolean }) => e.decision);
        expect(await run()).toEqual([true, false, true]);
        expect(await run('execute_all')).toEqual([true, false, true]);
        expect(await run('deny_on_first_deny')).toEqual([true, false]);
        expect(await run('permit_on_first_permit')).toEqual([true]);
        expect((await evaluations({ subject, action: { name: 'invoke' }, evaluations: items, options: { evaluations_semantic: 'some_of_them' } })).status).toBe(400);
      });

      it('an item still incomplete after defaults is decision false with an error; the rest are decided', async () => {
        const r = await evaluations({ subject, action: { name: 'invoke' }, options: { evaluations_semantic: 'execute_all' }, evaluations: [item('gpt-small'), {}] });
        expect(r.status).toBe(200);
        expect(r.body.evaluations).toHaveLength(2);
        expect(r.body.evaluations[0]).toEqual({ decision: true });
        expect(r.body.evaluations[1]).toMatchObject({ decision: false, context: { error: { status: 400 } } });
      });

      it('without (or with an empty) evaluations array it is a single evaluation', async () => {
        const single = { subject, action: { name: 'invoke' }, resource: { type: 'model', id: 'gpt-small' } };
        expect((await evaluations(single)).body).toEqual({ decision: true });
        expect((await evaluations({ ...single, evaluations: [] })).body).toEqual({ decision: true });
        expect((await evaluations({ subject, action: { name: 'invoke' } })).status).toBe(400);
      });

      it('refuses a batch over 100 evaluations, and a self caller naming another subject anywhere in it', async () => {
        const big = await evaluations({ subject, action: { name: 'invoke' }, evaluations: Array.from({ length: 101 }, () => item('gpt-small')) });
        expect(big).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
        const before = (await lastEvents('authz.decision'))[0]!.id;
        const mixed = await evaluations({ action: { name: 'read' }, resource: doc('x'), evaluations: [{}, { subject: { type: 'user', id: 'alice' } }] }, helperToken);
        expect(mixed.status).toBe(403);
        expect((await lastEvents('authz.decision'))[0]!.id).toBe(before);
      });
    });

    describe('search', () => {
      it('subject search: the principals of the kind that may, paged with MAC\'d tokens, one audit event per page', async () => {
        await activate(h, `${POLICIES}\n@id("people-invoke-small")\npermit (principal is Custos::Human, action == Custos::Action::"invoke", resource == Custos::Model::"gpt-small") when { principal.name != "op-auditor" && !(principal.name like "*dora*") && principal.name != "squat-human" && principal.name != "own-squatter" };`);
        const body = { subject: { type: 'user', id: 'ignored' }, action: { name: 'invoke' }, resource: { type: 'model', id: 'gpt-small' } };
        const all = await post('/access/v1/search/subject', body);
        expect(all.status).toBe(200);
        const ids = all.body.results.map((r: { id: string }) => r.id);
        expect(ids).toEqual(['agent-owner', 'alice', 'bob', 'bootstrap-admin', 'carol@example.com', 'op-security']);
        expect(all.body.results[1]).toEqual({ type: 'user', id: 'alice' });
        expect(all.body.page).toEqual({ next_token: '', count: 6 });

        const seen: string[] = [];
        let page = await post('/access/v1/search/subject', { ...body, page: { limit: 2 } });
        for (;;) {
          seen.push(...page.body.results.map((r: { id: string }) => r.id));
          expect(page.body.page.count).toBe(page.body.results.length);
          if (page.body.page.next_token === '') break;
          // The follow-up may omit the limit (it is kept in the token).
          page = await post('/access/v1/search/subject', { ...body, page: { token: page.body.page.next_token } });
          expect(page.status).toBe(200);
        }
        expect(seen).toEqual(ids);

        const first = await post('/access/v1/search/subject', { ...body, page: { limit: 2 } });
        const changed = await post('/access/v1/search/subject', { ...body, action: { name: 'read' }, page: { token: first.body.page.next_token } });
        expect(changed).toMatchObject({ status: 400, body: { code: 'invalid_cursor' } });
        expect((await post('/access/v1/search/subject', { ...body, page: { token: first.body.page.next_token, limit: 3 } })).status).toBe(400);
        expect((await post('/access/v1/search/subject', { ...body, page: { token: 'made.up' } })).status).toBe(400);

        const [event] = await lastEvents('authz.search');
        expect(event).toMatchObject({ action: 'search.subject', actor: { principal_name: 'bootstrap-admin' }, details: { search: 'subject', results: ['agent-owner', 'alice'] } });
        expect((await post('/access/v1/search/subject', { ...body, subject: { type: 'spaceship' } })).body.results).toEqual([]);
        expect((await post('/access/v1/search/subject', body, helperToken)).status).toBe(403);
        expect((await post('/access/v1/search/subject', { action: body.action, resource: body.resource })).status).toBe(400);
        await activate(h, POLICIES);
      });

      it('resource search: the registry resources of a kind the subject may act on; none for application types', async () => {
        await activate(h, POLICIES);
        const r = await post('/access/v1/search/resource', { subject: { type: 'user', id: 'alice' }, action: { name: 'invoke' }, resource: { type: 'model' } });
        expect(r.body).toEqual({ page: { next_token: '', count: 2 }, results: [{ type: 'model', id: 'gpt-large' }, { type: 'model', id: 'gpt-small' }] });
        expect((await post('/access/v1/search/resource', { subject: { type: 'user', id: 'bob' }, action: { name: 'invoke' }, resource: { type: 'model' } })).body.results).toEqual([]);
        expect((await post('/access/v1/search/resource', { subject: { type: 'user', id: 'alice' }, action: { name: 'invoke' }, resource: { type: 'todo' } })).body.results).toEqual([]);
        expect((await post('/access/v1/search/resource', { subject: { type: 'user', id: 'nobody' }, action: { name: 'invoke' }, resource: { type: 'model' } })).body.results).toEqual([]);
        expect((await lastEvents('authz.search'))[0]).toMatchObject({ action: 'search.resource', reasons: ['refused:unknown_principal'] });
      });

      it('action search: the actions the subject may take on the resource', async () => {
        const r = await post('/access/v1/search/action', { subject: { type: 'user', id: 'alice' }, resource: { ...doc('d9'), properties: { owner: 'alice' } }, context: { ticket: 'T-9' } });
        expect(r.body.results).toEqual([{ name: 'write' }, { name: 'export' }]);
        const self = await post('/access/v1/search/action', { resource: doc('d9') }, helperToken);
        expect(self.body.results).toEqual([{ name: 'read' }]);
        expect((await post('/access/v1/search/action', { subject: { type: 'user', id: 'nobody' }, resource: doc('d9') })).body.results).toEqual([]);
      });
    });
  });
}
