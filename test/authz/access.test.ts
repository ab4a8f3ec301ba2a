import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { approvedGrant } from '../support/authz.js';
import { eventsSince, lastSeq } from '../identity/store-probe.js';

// GET /v1/principals/{ref}/access: what a principal can do now, every answer from the decision point (grants,
// guardrails, policies), on the facts the query states (none by default); one audit event per page walked.

for (const backend of BACKENDS) {
  describe(`principal access on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let owner: string;
    let auditor: string;
    let grantId: string;
    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      owner = await h.operator('own-oz', 'owner');
      auditor = await h.operator('aud-ada', 'auditor');
      const ok = async (method: string, url: string, body: unknown) => {
        const r = await h.call(method, url, body);
        if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
        return r.body;
      };
      await ok('POST', '/v1/principals', { name: 'agent-keeper', kind: 'human' }); // owns the agents: nobody grants to what they own
      await ok('POST', '/v1/principals', { name: 'rag-bot', kind: 'agent', owner: 'agent-keeper', status: 'active', purposes: ['support'] });
      await ok('POST', '/v1/principals', { name: 'oz-bot', kind: 'agent', owner: 'own-oz', status: 'active', purposes: ['support'] });
      await ok('POST', '/v1/resources', { name: 'kb', kind: 'dataset', owner: 'bootstrap-admin', purposes: ['support'] });
      await ok('POST', '/v1/resources', { name: 'kb-faq', kind: 'dataset', owner: 'bootstrap-admin', parent: 'kb', purposes: ['support'] });
      await ok('POST', '/v1/resources', { name: 'vault', kind: 'dataset', owner: 'bootstrap-admin', classification: 'restricted', purposes: ['support'] });
      for (let i = 0; i < 3; i++) await ok('POST', '/v1/resources', { name: `m-${i}`, kind: 'model', owner: 'bootstrap-admin' });
      grantId = (await ok('POST', '/v1/grants', { principal: 'rag-bot', resource: 'kb', actions: ['read', 'call_tool'], purpose: 'support', duration_seconds: 86_400, reason: 'rag' })).id;
      // Restricted: granted only through an approved request.
      await approvedGrant(h, { principal: 'rag-bot', resource: 'vault', actions: ['read'], purpose: 'support', durationSeconds: 86_400 });
      await ok('POST', '/v1/grants', { principal: 'rag-bot', resource: 'm-1', actions: ['invoke'], duration_seconds: 86_400, reason: 'rag' });
    });
    afterAll(async () => { await h?.close(); });

    const access = async (ref: string, query = '', token?: string) => h.call('GET', `/v1/principals/${ref}/access${query}`, undefined, token);
    const summary = (body: any) => Object.fromEntries(body.items.map((i: any) => [i.resource.name, i.allowed.map((a: any) => a.action)]));

    it.runIf(enabled)('enumerated through the PDP: without facts only the purpose-free grant; with the purpose the parent, its child; restricted data only over a bound token', async () => {
      const bare = await access('rag-bot');
      expect(bare.status, bare.text).toBe(200);
      expect(summary(bare.body)).toEqual({ 'm-1': ['invoke'] });
      expect(bare.body).toMatchObject({ principal: { name: 'rag-bot', kind: 'agent', status: 'active' }, simulated_facts: {}, resources_walked: 6, next_cursor: null });
      const purposed = await access('rag-bot', '?purpose=support');
      expect(summary(purposed.body)).toEqual({ kb: ['read', 'call_tool'], 'kb-faq': ['read', 'call_tool'], 'm-1': ['invoke'] });
      expect(purposed.body.items[0].allowed[0].policies).toEqual([`grant:${grantId}`]);
      expect(purposed.body.simulated_facts).toEqual({ purpose: 'support' });
      const bound = await access('rag-bot', '?purpose=support&dpop_bound=true');
      expect(summary(bound.body)).toEqual({ kb: ['read', 'call_tool'], 'kb-faq': ['read', 'call_tool'], vault: ['read'], 'm-1': ['invoke'] });
      expect((await access('rag-bot', '?resource_kind=model')).body.resources_walked).toBe(3);
    });

    it.runIf(enabled)('one audit event per page, naming the simulated facts and the counts; pages walk the resources', async () => {
      const seq = await lastSeq(h);
      const p1 = await access('rag-bot', '?purpose=support&limit=4', auditor);
      expect(p1.status).toBe(200);
      expect(p1.body.resources_walked).toBe(4);
      expect(p1.body.next_cursor).not.toBeNull();
      const p2 = await access('rag-bot', `?purpose=support&limit=4&cursor=${encodeURIComponent(p1.body.next_cursor)}`, auditor);
      expect(p2.body.resources_walked).toBe(2);
      expect(p2.body.next_cursor).toBeNull();
      expect({ ...summary(p1.body), ...summary(p2.body) }).toEqual(summary((await access('rag-bot', '?purpose=support')).body));
      const events = (await eventsSince(h, seq)).filter((e) => e.type.startsWith('authz.'));
      expect(events.map((e) => e.type)).toEqual(['authz.access_listed', 'authz.access_listed', 'authz.access_listed']);
      expect(events[0]).toMatchObject({
        actor: { principal_name: 'aud-ada' }, target: { type: 'principal', name: 'rag-bot' },
        details: { simulated_facts: { purpose: 'support' }, resources_walked: 4, evaluations: 40, continued: false },
      });
      expect(events[1]!.details.continued).toBe(true);
      // Evaluations are not decisions: none was recorded.
      expect(events.some((e) => e.type === 'authz.decision')).toBe(false);
    });

    it.runIf(enabled)('a revoked grant is gone from the next enumeration; a suspended principal can do nothing', async () => {
      await h.call('POST', `/v1/grants/${grantId}/revoke`, { reason: 'rag retired' });
      expect(summary((await access('rag-bot', '?purpose=support')).body)).toEqual({ 'm-1': ['invoke'] });
      await h.call('POST', '/v1/principals/rag-bot/suspend', { reason: 'incident' });
      expect((await access('rag-bot', '?purpose=support&dpop_bound=true')).body.items).toEqual([]);
    });

    it.runIf(enabled)('who may ask: readers; an owner-role operator about what it owns only (404 otherwise); bad input refused', async () => {
      expect((await access('oz-bot', '', owner)).status).toBe(200);
      expect((await access('rag-bot', '', owner)).status).toBe(404);
      expect((await access('nobody')).status).toBe(404);
      expect((await access('rag-bot', '?limit=101')).status).toBe(400);
      expect((await access('rag-bot', '?dpop_bound=yes')).status).toBe(400);
      expect((await access('rag-bot', '?source_ip=not-an-ip')).status).toBe(400);
      expect((await access('rag-bot', '?cursor=forged')).body.code).toBe('invalid_cursor');
      expect((await access('rag-bot', '?surprise=1')).status).toBe(400);
    });
  });
}
