import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVALID_POLICY, POLICY_TESTS_FAILED } from '../../src/authz/policies/errors.js';
import { MAX_POLICY_TEXT } from '../../src/authz/policies/validation.js';
import { ERROR_CODES } from '../../src/platform/http/errors.js';
import { systemActor } from '../../src/platform/actor.js';
import { registry, request, seedRegistry } from '../support/authz.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';

// The policy lifecycle through the real app on both stores: candidates validated against the shipped schema
// (problems with line and column), test cases run at activation, activation atomic and audited, refusals that keep
// the previous version active, rollback, and impact replays of recorded decisions.

const READ_SUPPORT = `@id("support-read")
permit (principal, action == Custos::Action::"read", resource is Custos::Dataset)
when { context.purpose == "support" && resource.purposes.contains("support") };
`;

const READ_SUPPORT_AND_INVOKE = `${READ_SUPPORT}
@id("agents-invoke")
permit (principal is Custos::Agent, action == Custos::Action::"invoke", resource);
`;

const TESTS = `
- name: ben reads the internal dataset for support
  principal: ben
  action: read
  resource: ds-int
  purpose: support
  context: { posture: compliant }
  expect: allow
- name: no purpose, no read
  principal: ben
  action: read
  resource: ds-int
  expect: deny
`;

const statusOf = (code: string) => (ERROR_CODES as Record<string, { status: number }>)[code]!.status;

for (const backend of BACKENDS) {
  describe(`policy lifecycle (${backend})`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;

    const create = async (policies: string, tests?: string) => {
      const r = await h.call('POST', '/v1/policies', { policies, ...(tests !== undefined ? { tests } : {}), description: 'test' });
      expect(r.status, r.text).toBe(201);
      return r.body.version as number;
    };
    const activeVersion = async () => {
      const r = await h.call('GET', '/v1/policies/active');
      return r.status === 200 ? r.body.version as number : null;
    };
    const events = async (type: string) => (await h.call('GET', `/v1/audit/events?type=${type}&limit=50`)).body.items as Array<Record<string, any>>;
    const decide = (principal: string, action: string, resource: string, purpose: string | null = null) =>
      h.cp.authz.pdp.decide(request(principal, action, registry(resource), { purpose }), systemActor());

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      await seedRegistry(h);
    }, 60_000);
    afterAll(async () => { await h?.close(); });

    describe.runIf(enabled)('candidates', () => {
      it('creates a candidate with its ids, tests and SHA-256, runs the tests for information, and audits it', async () => {
        const r = await h.call('POST', '/v1/policies', { policies: READ_SUPPORT, tests: TESTS, description: 'support reads', reason: 'ticket 1' });
        expect(r.status, r.text).toBe(201);
        expect(r.body).toMatchObject({ status: 'candidate', policy_ids: ['support-read'], test_count: 2, description: 'support reads', activated_at: null });
        expect(r.body.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(r.body.test_report).toMatchObject({ passed: 2, failed: 0 });
        const created = (await events('policy.created')).find((e) => e.details.version === r.body.version);
        expect(created?.details).toMatchObject({ policy_ids: ['support-read'], test_count: 2, reason: 'ticket 1' });
        expect(await activeVersion()).toBeNull();
      });

      it('refuses Cedar that does not parse, with the line and column in the submitted text', async () => {
        const text = '@id("ok")\npermit (principal, action, resource);\n\n@id("broken")\npermit (principal, action, resource)\n  when { principal.name == };\n';
        const r = await h.call('POST', '/v1/policies', { policies: text });
        expect(r.status, r.text).toBe(statusOf(INVALID_POLICY));
        expect(r.body.code).toBe(INVALID_POLICY);
        expect(r.body.errors).toHaveLength(1);
        expect(r.body.errors[0]).toMatchObject({ line: 6, column: 28 });
      });

      it('refuses policies that do not validate against the schema, naming the policy by its @id (once per place)', async () => {
        const text = '// comment\n@id("typo")\npermit (principal, action == Custos::Action::"read", resource)\nwhen { resource.classificaton == "public" };\n';
        const r = await h.call('POST', '/v1/policies', { policies: text });
        expect(r.status).toBe(statusOf(INVALID_POLICY));
        expect(r.body.errors).toHaveLength(1);
        expect(r.body.errors[0]).toMatchObject({ policy: 'typo', line: 4, column: 8 });
        expect(r.body.errors[0].message).toMatch(/classificaton/);
        expect(r.body.detail).toMatch(/^the Cedar policies are not valid: 4:8: policy 'typo'/);
      });

      it('counts columns in characters, not bytes, after non-ASCII text', async () => {
        const text = '// café — ünïcode\n@id("x") permit (principal, action, resource) when { principal.nope };\n';
        const r = await h.call('POST', '/v1/policies', { policies: text });
        expect(r.status).toBe(statusOf(INVALID_POLICY));
        expect(r.body.errors[0]).toMatchObject({ policy: 'x', line: 2, column: 54 });
      });

      it('refuses reserved and repeated ids, templates and an empty text', async () => {
        for (const text of [
          '@id("guardrail:mine") forbid (principal, action, resource);',
          '@id("grant:x") permit (principal, action, resource);',
          '@id("a") permit (principal, action, resource);\n@id("a") forbid (principal, action, resource);',
          'permit (principal == ?principal, action, resource);',
          '// only a comment\n',
        ]) {
          const r = await h.call('POST', '/v1/policies', { policies: text });
          expect(r.status, text).toBe(statusOf(INVALID_POLICY));
          expect(r.body.errors.length, text).toBeGreaterThan(0);
        }
      });

      it('refuses test cases that are not valid YAML or not of the documented shape, with lines', async () => {
        const bad = await h.call('POST', '/v1/policies', { policies: READ_SUPPORT, tests: '- name: x\n  name: y\n' });
        expect(bad.status).toBe(statusOf(INVALID_POLICY));
        expect(bad.body.errors[0]).toMatchObject({ line: 2 });
        const shape = await h.call('POST', '/v1/policies', { policies: READ_SUPPORT, tests: '- name: a\n  principal: ben\n  action: read\n  resource: ds-int\n  expect: maybe\n' });
        expect(shape.status).toBe(statusOf(INVALID_POLICY));
        expect(shape.body.errors[0]).toMatchObject({ line: 5, case: 'a' });
        expect(shape.body.errors[0].message).toMatch(/^0\.expect/);
        const field = await h.call('POST', '/v1/policies', { policies: READ_SUPPORT, tests: '- name: a\n  principal: ben\n  action: read\n  resource: ds-int\n  expect: allow\n  purpse: support\n' });
        expect(field.status).toBe(statusOf(INVALID_POLICY));
        expect(field.body.errors[0].message).toMatch(/purpse/);
      });

      it('accepts an application schema: its actions in policies and tests, only on application objects', async () => {
        const appSchema = 'namespace App {\n  action can_read_todo appliesTo { principal: [Custos::Human, Custos::Agent], resource: [Custos::AppResource], context: Custos::RequestContext };\n}\n';
        const policies = '@id("todo-read")\npermit (principal is Custos::Human, action == App::Action::"can_read_todo", resource is Custos::AppResource);\n';
        const tests = '- {name: ben reads a todo, principal: ben, action: can_read_todo, resource: {type: todo, id: "1"}, expect: allow}\n';
        const r = await h.call('POST', '/v1/policies', { policies, tests, app_schema: appSchema });
        expect(r.status, r.text).toBe(201);
        expect(r.body).toMatchObject({ app_schema: appSchema, test_report: { passed: 1, failed: 0 } });
        // Without the schema the policy does not validate; an app action on a registry resource is refused.
        expect((await h.call('POST', '/v1/policies', { policies })).status).toBe(statusOf(INVALID_POLICY));
        const onModel = await h.call('POST', '/v1/policies', { policies, app_schema: appSchema, tests: '- {name: x, principal: ben, action: can_read_todo, resource: m-prod, expect: deny}\n' });
        expect(onModel.status).toBe(statusOf(INVALID_POLICY));
        expect(onModel.body.errors[0]).toMatchObject({ case: 'x' });
        const unknown = await h.call('POST', '/v1/policies', { policies: READ_SUPPORT, tests: '- {name: y, principal: ben, action: fly, resource: m-prod, expect: deny}\n' });
        expect(unknown.body.errors[0].message).toMatch(/'fly' is neither a Custos action nor declared/);
      });

      it('refuses unknown body fields (400) and a missing text', async () => {
        expect((await h.call('POST', '/v1/policies', { policies: READ_SUPPORT, activate: true })).status).toBe(400);
        expect((await h.call('POST', '/v1/policies', {})).status).toBe(400);
        expect((await h.call('POST', '/v1/policies/1/activate', { reason: 'x', force: true })).status).toBe(400);
        expect((await h.call('POST', '/v1/policies/1/activate', {})).status).toBe(400);
        expect((await h.call('GET', '/v1/policies/abc')).status).toBe(400);
      });

      it('refuses text nested deeply enough to break the Cedar engine (422) before the engine sees it; decisions go on working', async () => {
        const deepParens = `@id("deep") permit (principal, action, resource) when { ${'('.repeat(300)}true${')'.repeat(300)} };`;
        const longChain = `@id("chain") permit (principal, action, resource) when { ${Array.from({ length: 1000 }, (_, i) => `context.risk.score == ${i}`).join(' || ')} };`;
        const deepSchema = `namespace App { type T = ${'{ a: '.repeat(300)}Long${' }'.repeat(300)}; action go appliesTo { principal: [Custos::Human], resource: [Custos::AppResource], context: Custos::RequestContext }; }`;
        const before = (await h.call('GET', '/v1/policies?limit=100')).body.items.length;
        for (const [url, body] of [
          ['/v1/policies', { policies: deepParens }], ['/v1/policies', { policies: longChain }],
          ['/v1/policies', { policies: READ_SUPPORT, app_schema: deepSchema }],
          ['/v1/policies/impact', { policies: deepParens }], ['/v1/policies/impact', { policies: longChain }],
          ['/v1/policies/impact', { policies: READ_SUPPORT, app_schema: deepSchema }],
        ] as const) {
          const r = await h.call('POST', url, body);
          expect(r.status, `${url}: ${r.text}`).toBe(statusOf(INVALID_POLICY));
          expect(r.body.code).toBe(INVALID_POLICY);
          expect(r.body.errors[0].message).toMatch(/nested too deeply|too deeply nested/);
        }
        expect((await h.call('GET', '/v1/policies?limit=100')).body.items).toHaveLength(before);
        // The engine of the decision point never saw them: a policy text still validates, and a decision is made.
        expect((await h.call('POST', '/v1/policies/impact', { policies: READ_SUPPORT, limit: 1 })).status).toBe(200);
        expect((await decide('ben', 'read', 'm-prod')).decision).toBe('deny');
      });

      it(`refuses a policy text over ${MAX_POLICY_TEXT} characters as a validation error (400)`, async () => {
        const long = `${READ_SUPPORT}${'/'.repeat(MAX_POLICY_TEXT)}`;
        for (const url of ['/v1/policies', '/v1/policies/impact']) {
          const r = await h.call('POST', url, { policies: long });
          expect(r.status, url).toBe(400);
          expect(r.body.code).toBe('validation_failed');
        }
      });

      it('warns when a deny case passed only because the request was refused as unknown, and names who created a version', async () => {
        const tests = `${TESTS}- {name: a typo passes, principal: bne, action: read, resource: ds-int, expect: deny}\n`;
        const r = await h.call('POST', '/v1/policies', { policies: READ_SUPPORT, tests });
        expect(r.status, r.text).toBe(201);
        expect(r.body.test_report).toMatchObject({ passed: 3, failed: 0 });
        expect(r.body.test_report.warnings).toEqual([expect.stringMatching(/^case 'a typo passes' passed only because the request was refused \(refused:unknown_principal\)/)]);
        const one = await h.call('GET', `/v1/policies/${r.body.version}`);
        expect(one.body).toMatchObject({ created_by: r.body.created_by, created_by_name: 'bootstrap-admin', activated_by_name: null });
      });

      it('refuses Trojan Source: bidirectional overrides in policy text', async () => {
        const r = await h.call('POST', '/v1/policies', { policies: '@id("x") permit (principal, action, resource) when { principal.name == "ad\u202Emin" };' });
        expect(r.status).toBe(400);
      });
    });

    describe.runIf(enabled)('activation, refusal and rollback', () => {
      let v1: number;
      let v2: number;

      it('activates a version whose tests pass, and decisions use it at once', async () => {
        expect((await decide('ben', 'read', 'ds-int', 'support')).decision).toBe('deny');
        v1 = await create(READ_SUPPORT, TESTS);
        const r = await h.call('POST', `/v1/policies/${v1}/activate`, { reason: 'go live' });
        expect(r.status, r.text).toBe(200);
        expect(r.body).toMatchObject({ active: { version: v1, status: 'active', status_reason: 'go live' }, previous: null, test_report: { passed: 2, failed: 0 } });
        expect(await activeVersion()).toBe(v1);
        const d = await decide('ben', 'read', 'ds-int', 'support');
        expect(d.decision).toBe('allow');
        expect(d.policyVersion.startsWith(`${v1}.`)).toBe(true);
        const e = (await events('policy.activated')).find((x) => x.details.to === v1);
        expect(e).toMatchObject({ outcome: 'success', details: { from: null, to: v1, reason: 'go live' } });
        expect(e!.actor.principal_name).toBeTruthy();
      });

      it('refuses to activate a version whose tests fail: the previous version stays active and the refusal is audited', async () => {
        const failing = `
- name: agents may not invoke the prod model
  principal: bot-a
  action: invoke
  resource: m-prod
  expect: deny
`;
        const bad = await create(READ_SUPPORT_AND_INVOKE, failing);
        const r = await h.call('POST', `/v1/policies/${bad}/activate`, { reason: 'try' });
        expect(r.status).toBe(statusOf(POLICY_TESTS_FAILED));
        expect(r.body.code).toBe(POLICY_TESTS_FAILED);
        expect(r.body.failures).toEqual([expect.objectContaining({ name: 'agents may not invoke the prod model', expect: 'deny', got: 'allow', passed: false })]);
        expect(r.body.failures[0].reasons).toContain('permit:agents-invoke@bot-a');
        expect(await activeVersion()).toBe(v1);
        // The rejected version says why it was refused (not only the reason given for trying).
        expect((await h.call('GET', `/v1/policies/${bad}`)).body).toMatchObject({
          status: 'rejected', status_reason: "activation refused: test 'agents may not invoke the prod model' expected deny but got allow; activation reason: try",
        });
        expect((await decide('bot-a', 'invoke', 'm-prod')).decision).toBe('deny');
        const e = (await events('policy.activation_refused')).find((x) => x.details.version === bad);
        expect(e).toMatchObject({ outcome: 'failure', details: { active: v1, reason: 'try', failures: [{ name: 'agents may not invoke the prod model', expect: 'deny', got: 'allow' }] } });
      });

      it('refuses a test naming an unknown principal when it expects allow (refused: unknown_principal)', async () => {
        const v = await create(READ_SUPPORT, '- {name: ghost, principal: nobody, action: read, resource: ds-int, purpose: support, expect: allow}\n');
        const r = await h.call('POST', `/v1/policies/${v}/activate`, { reason: 'try' });
        expect(r.status).toBe(statusOf(POLICY_TESTS_FAILED));
        expect(r.body.failures[0].reasons).toEqual(['refused:unknown_principal']);
        expect(await activeVersion()).toBe(v1);
      });

      it('activates a second version atomically: exactly one active, the old one superseded, in one audited change', async () => {
        v2 = await create(READ_SUPPORT_AND_INVOKE, `${TESTS}
- name: agents invoke
  principal: bot-a
  action: invoke
  resource: m-prod
  expect: allow
`);
        const r = await h.call('POST', `/v1/policies/${v2}/activate`, { reason: 'agents need models' });
        expect(r.status, r.text).toBe(200);
        expect(r.body.previous).toBe(v1);
        const rows = await h.cp.db.kysely.selectFrom('policy_versions').select(['version', 'status']).where('status', '=', 'active').execute();
        expect(rows).toEqual([{ version: v2, status: 'active' }]);
        expect((await h.call('GET', `/v1/policies/${v1}`)).body.status).toBe('superseded');
        expect((await decide('bot-a', 'invoke', 'm-prod')).decision).toBe('allow');
        expect((await events('policy.activated')).find((x) => x.details.to === v2)?.details).toMatchObject({ from: v1, to: v2 });
        const again = await h.call('POST', `/v1/policies/${v2}/activate`, { reason: 'again' });
        expect(again.status).toBe(409);
        expect(again.body.code).toBe('invalid_transition');
      });

      it('concurrent activations leave exactly one active version', async () => {
        const a = await create(READ_SUPPORT, TESTS);
        const b = await create(READ_SUPPORT_AND_INVOKE, TESTS);
        const answers = await Promise.all([
          h.call('POST', `/v1/policies/${a}/activate`, { reason: 'race a' }),
          h.call('POST', `/v1/policies/${b}/activate`, { reason: 'race b' }),
        ]);
        expect(answers.map((x) => x.status)).toEqual([200, 200]);
        const rows = await h.cp.db.kysely.selectFrom('policy_versions').select(['version']).where('status', '=', 'active').execute();
        expect(rows).toHaveLength(1);
        const previous = answers.map((x) => x.body.previous).sort();
        expect(previous).toContain(v2);
        // Re-activate v2 for what follows.
        const back = await h.call('POST', '/v1/policies/rollback', { reason: 'back to v2', to: v2 });
        expect(back.status, back.text).toBe(200);
      });

      it('rolls back to the previously active version, audited with who and why', async () => {
        expect(await activeVersion()).toBe(v2);
        const named = await h.call('POST', '/v1/policies/rollback', { reason: 'to v1', to: v1 });
        expect(named.status, named.text).toBe(200);
        expect(named.body).toMatchObject({ active: { version: v1, status: 'active' }, previous: v2 });
        expect((await decide('bot-a', 'invoke', 'm-prod')).decision).toBe('deny');
        const prev = await h.call('POST', '/v1/policies/rollback', { reason: 'undo' });
        expect(prev.status, prev.text).toBe(200);
        expect(prev.body.active.version).toBe(v2);
        const e = (await events('policy.rolled_back')).find((x) => x.details.reason === 'to v1');
        expect(e).toMatchObject({ outcome: 'success', details: { from: v2, to: v1 } });
      });

      it('refuses to roll back to a version that was never active, or to the active one', async () => {
        const c = await create(READ_SUPPORT);
        const never = await h.call('POST', '/v1/policies/rollback', { reason: 'x', to: c });
        expect(never.status).toBe(409);
        expect(never.body.allowed).toEqual(['activate']);
        expect((await h.call('POST', '/v1/policies/rollback', { reason: 'x', to: v2 })).status).toBe(409);
        expect((await h.call('POST', '/v1/policies/rollback', { reason: 'x', to: 99999 })).status).toBe(404);
      });

      it('lists the history newest first with pagination, filters by status, and shows one version', async () => {
        const page = await h.call('GET', '/v1/policies?limit=2');
        expect(page.status).toBe(200);
        expect(page.body.items).toHaveLength(2);
        expect(page.body.items[0].version).toBeGreaterThan(page.body.items[1].version);
        expect(page.body.items[0]).not.toHaveProperty('policies');
        const next = await h.call('GET', `/v1/policies?limit=2&cursor=${encodeURIComponent(page.body.next_cursor)}`);
        expect(next.body.items[0].version).toBeLessThan(page.body.items[1].version);
        const active = await h.call('GET', '/v1/policies?status=active');
        expect(active.body.items.map((i: { version: number }) => i.version)).toEqual([v2]);
        const one = await h.call('GET', `/v1/policies/${v1}`);
        expect(one.body).toMatchObject({ version: v1, policies: READ_SUPPORT, tests: TESTS, policy_ids: ['support-read'], test_count: 2 });
        expect((await h.call('GET', '/v1/policies/424242')).status).toBe(404);
      });
    });

    describe.runIf(enabled)('impact', () => {
      it('replays recorded decisions and lists every decision a candidate would flip, with reasons', async () => {
        // Active is v2 (support reads, agents invoke). Record a few decisions.
        await decide('bot-a', 'invoke', 'm-prod'); // allow (agents-invoke)
        await decide('ben', 'read', 'ds-int', 'support'); // allow (support-read)
        await decide('ben', 'read', 'ds-int'); // deny
        const r = await h.call('POST', '/v1/policies/impact', { policies: READ_SUPPORT, limit: 3 });
        expect(r.status, r.text).toBe(200);
        expect(r.body).toMatchObject({ replayed: 3, skipped: 0 });
        expect(r.body.flips).toEqual([expect.objectContaining({
          principal: 'bot-a', principal_name: 'bot-a', action: 'invoke', resource: 'm-prod', recorded: 'allow', before: 'allow', after: 'deny',
          reasons_before: ['permit:agents-invoke@bot-a'], reasons_after: ['no_permit@bot-a'],
        })]);
        const v = await create(READ_SUPPORT);
        const byVersion = await h.call('POST', `/v1/policies/${v}/impact`, { limit: 3 });
        expect(byVersion.status).toBe(200);
        expect(byVersion.body.candidate).toBe(`candidate:${v}`);
        expect(byVersion.body.flips).toHaveLength(1);
        const none = await h.call('POST', '/v1/policies/impact', { policies: READ_SUPPORT_AND_INVOKE, limit: 3 });
        expect(none.body.flips).toEqual([]);
      });

      it('refuses an invalid candidate and replays nothing', async () => {
        const r = await h.call('POST', '/v1/policies/impact', { policies: 'permit (' });
        expect(r.status).toBe(statusOf(INVALID_POLICY));
        expect(r.body.errors[0].line).toBe(1);
      });
    });
  });
}
