import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';

// What lands in the log for management calls, and how it is found again.

for (const backend of BACKENDS) {
  describe(`audit events on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    beforeAll(async () => { if (enabled) h = await startHarness(backend); });
    afterAll(async () => { await h?.close(); });

    it.runIf(enabled)('records a refused call as a deny decision', async () => {
      const auditor = await h.operator('deny-watcher', 'auditor');
      expect((await h.call('POST', '/v1/teams', { name: 'nope' }, auditor)).status).toBe(403);
      const events = await h.call('GET', '/v1/audit/events?type=authz.denied');
      const e = events.body.items[0];
      expect(e).toMatchObject({ decision: 'deny', outcome: 'failure', action: 'team.write', actor: { principal_name: 'deny-watcher', role: 'auditor' } });
      expect(e.target.name).toBe('POST /v1/teams');
    });

    it.runIf(enabled)('accepts the bearer scheme in any case', async () => {
      const res = await h.cp.http.inject({ method: 'GET', url: '/v1/whoami', headers: { authorization: `bearer ${h.adminToken}` } });
      expect(res.statusCode).toBe(200);
    });

    it.runIf(enabled)('finds a refused token by its keyed hash, never by the token itself', async () => {
      const forged = h.adminToken.slice(0, -8) + 'AAAAAAAA';
      expect((await h.call('GET', '/v1/whoami', undefined, forged)).status).toBe(401);
      const { hmac } = (await h.call('POST', '/v1/audit/hash', { value: forged })).body;
      const failures = await h.call('GET', '/v1/audit/events?type=auth.failed');
      expect(failures.body.items.some((e: { details: { token_hmac?: string } }) => e.details.token_hmac === hmac)).toBe(true);
      expect(JSON.stringify(failures.body)).not.toContain(forged);
    });

    it.runIf(enabled)('filters by type prefix, target and acting principal, newest first', async () => {
      await h.call('POST', '/v1/principals', { name: 'filter-owner', kind: 'human' });
      const bot = await h.call('POST', '/v1/principals', { name: 'filter-bot', kind: 'agent', owner: 'filter-owner' });
      await h.call('PATCH', '/v1/principals/filter-bot', { description: 'changed', reason: 'ticket 7' });
      const byTarget = await h.call('GET', `/v1/audit/events?target=${bot.body.id}`);
      expect(byTarget.body.items.map((e: { type: string }) => e.type)).toEqual(['principal.updated', 'principal.created']);
      expect(byTarget.body.items[0].details.reason).toBe('ticket 7');
      const prefix = await h.call('GET', '/v1/audit/events?type=principal.*&limit=500');
      expect(prefix.body.items.every((e: { type: string }) => e.type.startsWith('principal.'))).toBe(true);
      const me = (await h.call('GET', '/v1/whoami')).body.principal_id;
      const mine = await h.call('GET', `/v1/audit/events?principal=${me}&order=asc&limit=500`);
      const seqs = mine.body.items.map((e: { seq: number }) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a: number, b: number) => a - b));
      expect(mine.body.items.every((e: { actor: { principal_id: string } }) => e.actor.principal_id === me)).toBe(true);
    });

    it.runIf(enabled)('exports JSON Lines and OCSF records for SIEMs, and records the export', async () => {
      const jsonl = await h.cp.http.inject({ method: 'GET', url: '/v1/audit/export?format=jsonl', headers: { authorization: `Bearer ${h.adminToken}` } });
      const lines = jsonl.body.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines[0].seq).toBe(0);
      const ocsf = await h.cp.http.inject({ method: 'GET', url: '/v1/audit/export?format=ocsf', headers: { authorization: `Bearer ${h.adminToken}` } });
      const first = JSON.parse(ocsf.body.split('\n')[0]!);
      expect(first).toMatchObject({ class_uid: 6003, metadata: { sequence: 0, product: { name: 'Custos' } } });
      const exported = await h.call('GET', '/v1/audit/events?type=audit.exported');
      expect(exported.body.items.length).toBeGreaterThanOrEqual(2);
    });
  });
}
