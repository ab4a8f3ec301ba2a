import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevicesPart } from '../../src/authz/devices/index.js';
import { createCheckService } from '../../src/authz/grants/check.service.js';
import { createIdentityDirectory } from '../../src/identity/index.js';
import { NO_PROVENANCE, operatorActor } from '../../src/platform/actor.js';
import { newId } from '../../src/platform/ids.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { approvedGrant } from '../support/authz.js';
import { eventsSince, lastSeq } from '../identity/store-probe.js';

// POST /v1/authz/check: one real decision (recorded as authz.decision), explained — which policies permitted,
// forbade or errored, per principal of the delegation chain, and the context used — on facts the operator states,
// which the response and a second event (authz.checked) mark as simulated.

for (const backend of BACKENDS) {
  describe(`authz check on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let security: string;
    let grantId: string;
    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      security = await h.operator('sec-sid', 'security');
      const ok = async (method: string, url: string, body: unknown) => {
        const r = await h.call(method, url, body);
        if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
        return r.body;
      };
      await ok('POST', '/v1/principals', { name: 'agent-keeper', kind: 'human' }); // owns the agents: nobody grants to what they own
      await ok('POST', '/v1/principals', { name: 'lead-bot', kind: 'agent', owner: 'agent-keeper', status: 'active', purposes: ['support'] });
      await ok('POST', '/v1/principals', { name: 'sub-bot', kind: 'agent', owner: 'agent-keeper', status: 'active', purposes: ['support'] });
      await ok('POST', '/v1/resources', { name: 'tickets', kind: 'dataset', owner: 'bootstrap-admin', purposes: ['support'] });
      await ok('POST', '/v1/resources', { name: 'secrets', kind: 'dataset', owner: 'bootstrap-admin', classification: 'restricted', purposes: ['support'] });
      grantId = (await ok('POST', '/v1/grants', { principal: 'lead-bot', resource: 'tickets', actions: ['read'], purpose: 'support', duration_seconds: 3600, reason: 'x' })).id;
      // Restricted: granted only through an approved request.
      await approvedGrant(h, { principal: 'lead-bot', resource: 'secrets', actions: ['read'], purpose: 'support', durationSeconds: 3600 });
    });
    afterAll(async () => { await h?.close(); });

    const check = (body: unknown, token?: string) => h.call('POST', '/v1/authz/check', body, token);

    it.runIf(enabled)('an allow names the grant that permitted it, the context used and the simulated facts; both events recorded', async () => {
      const seq = await lastSeq(h);
      const r = await check({ principal: 'lead-bot', action: 'read', resource: 'tickets', purpose: 'support', source_ip: '10.1.2.3' });
      expect(r.status, r.text).toBe(200);
      expect(r.body).toMatchObject({
        decision: 'allow', permitted_by: [`grant:${grantId}`], forbidden_by: [], errored: [],
        verdicts: [{ principal: 'lead-bot', decision: 'allow', permits: [`grant:${grantId}`] }],
        simulated_facts: { purpose: 'support', source_ip: '10.1.2.3' }, stated_by: { name: 'bootstrap-admin' },
      });
      expect(r.body.context).toMatchObject({ purpose: 'support', auth: { dpop_bound: false }, provenance: { source_ip: '10.1.2.3' } });
      const events = (await eventsSince(h, seq)).filter((e) => e.type.startsWith('authz.'));
      expect(events.map((e) => e.type)).toEqual(['authz.decision', 'authz.checked']);
      const [decision, checked] = events as [any, any];
      expect(decision.id).toBe(r.body.decision_event_id);
      expect(checked).toMatchObject({ id: r.body.check_event_id, decision: 'allow', details: { decision_event_id: decision.id, simulated_facts: { purpose: 'support', source_ip: '10.1.2.3' } } });
    });

    it.runIf(enabled)('a deny names the guardrail that forbade it; a grant does not undo a forbid', async () => {
      const r = await check({ principal: 'lead-bot', action: 'read', resource: 'secrets', purpose: 'support' }, security);
      expect(r.status, r.text).toBe(200);
      expect(r.body.decision).toBe('deny');
      expect(r.body.permitted_by).toEqual([]);
      expect(r.body.forbidden_by).toEqual(['guardrail:restricted-needs-bound-token']);
      const bound = await check({ principal: 'lead-bot', action: 'read', resource: 'secrets', purpose: 'support', dpop_bound: true }, security);
      expect(bound.body.decision).toBe('allow');
      expect(bound.body.simulated_facts).toEqual({ purpose: 'support', dpop_bound: true });
    });

    it.runIf(enabled)('delegation: one verdict per principal of the chain; the sub-agent lacking the grant denies the whole request', async () => {
      const r = await check({ principal: 'lead-bot', action: 'read', resource: 'tickets', purpose: 'support', delegation_chain: ['sub-bot'] });
      expect(r.body.decision).toBe('deny');
      expect(r.body.verdicts.map((v: any) => [v.principal, v.decision])).toEqual([['lead-bot', 'allow'], ['sub-bot', 'deny']]);
      expect(r.body.reasons).toContainEqual({ kind: 'no_permit', principal: 'sub-bot' });
      expect(r.body.context.delegation).toMatchObject({ depth: 1 });
    });

    it.runIf(enabled)('requests that cannot be evaluated are explained denials; bad input is refused before any decision', async () => {
      const unknown = await check({ principal: 'nobody', action: 'read', resource: 'tickets' });
      expect(unknown.status).toBe(200);
      expect(unknown.body).toMatchObject({ decision: 'deny', reasons: [{ kind: 'refused', code: 'unknown_principal' }] });
      expect((await check({ principal: 'lead-bot', action: 'read', resource: 'nothing' })).body.reasons[0]).toMatchObject({ code: 'unknown_resource' });
      const api = await check({ principal: 'lead-bot', action: 'grant.write' });
      expect(api.body).toMatchObject({ decision: 'deny', forbidden_by: ['guardrail:management-is-for-people'] });
      const seq = await lastSeq(h);
      expect((await check({ principal: 'lead-bot', action: 'read' })).status).toBe(400);
      expect((await check({ principal: 'lead-bot', action: 'grant.write', resource: 'tickets' })).status).toBe(400);
      expect((await check({ principal: 'lead-bot', action: 'fly', resource: 'tickets' })).status).toBe(400);
      expect((await check({ principal: 'lead-bot', action: 'read', resource: 'tickets', delegation_chain: ['ghost'] })).body.code).toBe('principal_not_found');
      expect((await check({ principal: 'lead-bot', action: 'read', resource: 'tickets', risk: 101 })).status).toBe(400);
      expect((await eventsSince(h, seq)).filter((e) => e.type.startsWith('authz.'))).toEqual([]);
    });

    it.runIf(enabled)('only admin and security operators ask', async () => {
      const body = { principal: 'lead-bot', action: 'read', resource: 'tickets' };
      expect((await check(body, await h.operator('aud-al', 'auditor'))).status).toBe(403);
      expect((await check(body, await h.operator('own-ol', 'owner'))).status).toBe(403);
    });

    it.runIf(enabled)('auth_method implies the credential as policy test cases do (operator, alias operator_token; api_key; others an access token)', async () => {
      const ctxOf = async (body: Record<string, unknown>) => (await check({ principal: 'lead-bot', action: 'read', resource: 'tickets', ...body })).body.context.auth;
      expect(await ctxOf({ auth_method: 'operator' })).toMatchObject({ method: 'operator', credential: 'operator_token' });
      expect(await ctxOf({ auth_method: 'operator_token' })).toMatchObject({ method: 'operator', credential: 'operator_token' });
      expect(await ctxOf({ auth_method: 'api_key' })).toMatchObject({ method: 'api_key', credential: 'api_key' });
      expect(await ctxOf({ auth_method: 'private_key_jwt' })).toMatchObject({ method: 'private_key_jwt', credential: 'access_token' });
      expect(await ctxOf({ auth_method: 'federated', credential: 'api_key' })).toMatchObject({ method: 'federated', credential: 'api_key' });
      expect(await ctxOf({})).toMatchObject({ method: 'none', credential: 'none' });
    });

    it.runIf(enabled)('explains the device posture it saw: device.detail (none presented, no record, another principal\'s, expired), never in the context', async () => {
      const none = await check({ principal: 'lead-bot', action: 'read', resource: 'tickets' });
      expect(none.body.device).toEqual({ posture: 'unknown', id: '', source: 'none', detail: expect.stringMatching(/no device was presented/) });
      expect(none.body.context.device).not.toHaveProperty('detail');
      // With the devices part's postureOf (the module passes it: createGrantsPart(ctx, { postureOf })).
      const identity = createIdentityDirectory({ db: h.cp.db });
      const devices = createDevicesPart({ db: h.cp.db, audit: h.cp.audit, clock: h.clock, newId, principals: { principal: (ref) => identity.principalByRef(ref) } });
      const service = createCheckService({ db: h.cp.db, audit: h.cp.audit, clock: h.clock, pdp: h.cp.authz.pdp, postureOf: devices.postureOf });
      const admin = await identity.principalByRef('bootstrap-admin');
      const actor = operatorActor({ principal: { id: admin!.id, name: admin!.name, kind: 'human', status: 'active', ownerId: null }, credentialId: 'c', role: 'admin', teamIds: [], provenance: NO_PROVENANCE });
      const explain = async (principal: string, device_id: string) => (await service.check(actor, { principal, action: 'read', resource: 'tickets', device_id })).device;
      expect(await explain('lead-bot', 'lab-1')).toMatchObject({ posture: 'unknown', source: 'none', detail: expect.stringMatching(/no record/) });
      expect((await h.call('PUT', '/v1/devices/lab-1', { principal: 'sub-bot', posture: 'compliant', valid_for_seconds: 60 })).status).toBe(201);
      expect(await explain('lead-bot', 'lab-1')).toMatchObject({ posture: 'unknown', detail: expect.stringMatching(/not recorded for this principal/) });
      expect(await explain('sub-bot', 'lab-1')).toEqual({ posture: 'compliant', id: 'lab-1', source: 'record' });
      h.clock.advance(61_000);
      expect(await explain('sub-bot', 'lab-1')).toMatchObject({ posture: 'unknown', detail: expect.stringMatching(/expired/) });
    });

    it.runIf(enabled)('an erroring policy is named, and makes the decision deny although a grant permits', async () => {
      // An active user policy that validates but whose forbid errors at evaluation (Long overflow).
      const text = '@id("overflowing-forbid")\nforbid (principal, action, resource) when { context.time.epoch_seconds + 9223372036854775807 > 0 };';
      const created = await h.call('POST', '/v1/policies', { policies: text, description: 'erroring', reason: 'test' });
      expect(created.status, created.text).toBe(201);
      const activated = await h.call('POST', `/v1/policies/${created.body.version}/activate`, { reason: 'test' });
      expect(activated.status, activated.text).toBe(200);
      const seq = await lastSeq(h);
      const r = await check({ principal: 'lead-bot', action: 'read', resource: 'tickets', purpose: 'support' });
      expect(r.body.decision).toBe('deny');
      expect(r.body.errored).toEqual([expect.objectContaining({ policy: 'overflowing-forbid', principal: 'lead-bot' })]);
      expect(r.body.verdicts[0]).toMatchObject({ decision: 'deny', errors: [expect.objectContaining({ policy: 'overflowing-forbid' })] });
      expect((await eventsSince(h, seq)).map((e) => e.type).filter((t) => t.startsWith('authz.'))).toEqual(['authz.decision', 'authz.policy_error', 'authz.checked']);
    });
  });
}
