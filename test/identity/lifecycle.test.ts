import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { REVIEW_PERIOD_DAYS } from '../../src/identity/taxonomy.js';
import { eventsSince, lastSeq, rowCounts } from './store-probe.js';

// Lifecycle, ownership hygiene and access reviews through the real API on both stores.

const DAY = 86_400_000;
const STATES = ['proposed', 'active', 'suspended', 'decommissioned'] as const;
const ACTIONS = { activate: 'active', suspend: 'suspended', decommission: 'decommissioned' } as const;
const PAST = { activate: 'activated', suspend: 'suspended', decommission: 'decommissioned' } as const;
const ALLOWED: Record<(typeof STATES)[number], string[]> = {
  proposed: ['active', 'decommissioned'],
  active: ['suspended', 'decommissioned'],
  suspended: ['active', 'decommissioned'],
  decommissioned: [],
};

for (const backend of BACKENDS) {
  describe(`principal lifecycle on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let op: string;
    let opId: string;
    let n = 0;
    const uniq = (p: string) => `${p}-${++n}`;
    const call = (method: string, url: string, body?: unknown) => h.call(method, url, body, op);
    const make = async (body: Record<string, unknown>) => {
      const r = await call('POST', '/v1/principals', body);
      if (r.status !== 201) throw new Error(`fixture failed: ${r.text}`);
      return r.body;
    };
    /** An agent in the given state, reached through the API. */
    const agentIn = async (state: (typeof STATES)[number]) => {
      const p = await make({ name: uniq(`in-${state}`), kind: 'agent', owner: 'op-lead', status: state === 'proposed' ? 'proposed' : 'active' });
      if (state === 'suspended' || state === 'decommissioned') {
        expect((await call('POST', `/v1/principals/${p.name}/${state === 'suspended' ? 'suspend' : 'decommission'}`, {})).status).toBe(200);
      }
      return p as { id: string; name: string };
    };

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      // A named admin operator with a long-lived token, so the clock can move weeks ahead.
      const lead = await h.call('POST', '/v1/principals', { name: 'op-lead', kind: 'human' });
      opId = lead.body.id;
      op = (await h.call('POST', '/v1/operator-tokens', { principal: 'op-lead', role: 'admin', ttl_seconds: 80 * 86_400 })).body.token;
      await call('GET', '/v1/whoami');
    });
    afterAll(async () => { await h?.close(); });

    for (const from of STATES) {
      for (const [action, to] of Object.entries(ACTIONS) as Array<[keyof typeof ACTIONS, string]>) {
        const valid = ALLOWED[from].includes(to);
        it.runIf(enabled)(`${from} --${action}--> ${valid ? to : 'refused'}`, async () => {
          const p = await agentIn(from);
          const before = (await call('GET', `/v1/principals/${p.name}`)).body;
          const seq = await lastSeq(h);
          const res = await call('POST', `/v1/principals/${p.name}/${action}`, { reason: `ticket ${action}` });
          const events = await eventsSince(h, seq);
          if (!valid) {
            expect(res.status).toBe(409);
            expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
            expect(res.body).toMatchObject({ code: 'invalid_transition', from, to, allowed: ALLOWED[from] });
            expect(res.body.detail).toContain(ALLOWED[from].length ? ALLOWED[from].join(', ') : 'terminal');
            expect(events).toEqual([]);
            expect((await call('GET', `/v1/principals/${p.name}`)).body).toEqual(before);
            return;
          }
          expect(res.status).toBe(200);
          expect(res.body).toMatchObject({ status: to, status_reason: `ticket ${action}`, version: before.version + 1 });
          // A principal that can no longer act loses its credentials in the same transaction (the credentials
          // module's revoker records that right after the status change).
          const revokes = to !== 'active';
          expect(events.map((e) => e.type)).toEqual([`principal.${PAST[action]}`, ...(revokes ? ['credential.principal.revoked'] : [])]);
          expect(events[0]).toMatchObject({
            type: `principal.${PAST[action]}`,
            actor: { principal_id: opId, principal_name: 'op-lead', role: 'admin' },
            target: { type: 'principal', id: p.id, name: p.name },
            outcome: 'success',
            details: { reason: `ticket ${action}`, from, to },
          });
          if (revokes) {
            expect(events[1]).toMatchObject({
              actor: { principal_id: opId }, target: { type: 'principal', id: p.id }, outcome: 'success',
              details: { principal_id: p.id, reason: `principal ${to}: ticket ${action}` },
            });
          }
        });
      }
    }

    it.runIf(enabled)('a decommissioned principal is terminal: no update, no review, no way back', async () => {
      const p = await agentIn('decommissioned');
      const counts = await rowCounts(h);
      expect((await call('PATCH', `/v1/principals/${p.name}`, { display_name: 'back' })).body.code).toBe('principal_decommissioned');
      expect((await call('POST', `/v1/principals/${p.name}/review`, {})).body.code).toBe('principal_decommissioned');
      for (const action of Object.keys(ACTIONS)) expect((await call('POST', `/v1/principals/${p.name}/${action}`, {})).status).toBe(409);
      expect(await rowCounts(h)).toEqual(counts);
    });

    it.runIf(enabled)('creation and updates are audited with who, what and why; a no-op update records nothing', async () => {
      const seq = await lastSeq(h);
      const p = await make({ name: uniq('audited'), kind: 'agent', owner: 'op-lead', reason: 'onboarding', labels: { app: 'x' } });
      const up = await call('PATCH', `/v1/principals/${p.name}`, { display_name: 'Audited', labels: { app: 'y' }, reason: 'rename' });
      expect(up.status).toBe(200);
      expect((await call('PATCH', `/v1/principals/${p.name}`, { display_name: 'Audited' })).body.version).toBe(2);
      const events = await eventsSince(h, seq);
      expect(events.map((e) => e.type)).toEqual(['principal.created', 'principal.updated']);
      expect(events[0]).toMatchObject({ actor: { principal_name: 'op-lead' }, target: { id: p.id }, details: { reason: 'onboarding' } });
      expect(events[1]!.details).toMatchObject({ reason: 'rename', changed: ['display_name', 'labels'], before: { display_name: null, labels: { app: 'x' } }, after: { display_name: 'Audited', labels: { app: 'y' } } });
    });

    it.runIf(enabled)('nobody changes their own lifecycle status; an unknown action is a 400', async () => {
      expect((await call('POST', '/v1/principals/op-lead/suspend', {})).status).toBe(403);
      expect((await call('POST', '/v1/principals/op-lead/explode', {})).status).toBe(400);
    });

    it.runIf(enabled)('suspending or decommissioning a human orphans what they own; reactivation and reassignment adopt it', async () => {
      await make({ name: 'alice', kind: 'human' });
      await make({ name: 'bob', kind: 'human' });
      await make({ name: 'carol', kind: 'human' });
      await call('POST', '/v1/teams', { name: 'platform' });
      const a1 = await make({ name: 'alice-active', kind: 'agent', owner: 'alice', status: 'active' });
      const a2 = await make({ name: 'alice-proposed', kind: 'pipeline', owner: 'alice' });
      const a3 = await make({ name: 'alice-gone', kind: 'workload', owner: 'alice', status: 'active' });
      await call('POST', '/v1/principals/alice-gone/decommission', {});
      await make({ name: 'team-owned', kind: 'agent', owner_team: 'platform' });
      const orphans = async () => (await call('GET', '/v1/principals?orphaned=true&limit=500')).body.items.map((p: { name: string }) => p.name).sort();

      let seq = await lastSeq(h);
      expect((await call('POST', '/v1/principals/alice/suspend', { reason: 'leave' })).status).toBe(200);
      expect(await orphans()).toEqual(['alice-active', 'alice-proposed']);
      let events = await eventsSince(h, seq);
      expect(events.map((e) => e.type)).toEqual(['principal.suspended', 'credential.principal.revoked', 'principal.orphaned']);
      expect([...events[2]!.details.principals].sort()).toEqual([a1.id, a2.id].sort());
      expect((await call('GET', '/v1/principals/alice-gone')).body.orphaned).toBe(false);
      expect((await call('GET', `/v1/principals/${a3.id}`)).body.status).toBe('decommissioned');
      const notOrphaned = (await call('GET', '/v1/principals?orphaned=false&limit=500')).body.items.map((p: { name: string }) => p.name);
      expect(notOrphaned).toContain('team-owned');
      expect(notOrphaned).not.toContain('alice-active');

      seq = await lastSeq(h);
      expect((await call('POST', '/v1/principals/alice/activate', {})).status).toBe(200);
      expect(await orphans()).toEqual([]);
      events = await eventsSince(h, seq);
      expect(events.map((e) => e.type)).toEqual(['principal.activated', 'principal.adopted']);

      expect((await call('POST', '/v1/principals/alice/decommission', { reason: 'left the company' })).status).toBe(200);
      expect(await orphans()).toEqual(['alice-active', 'alice-proposed']);
      // Only an active human or a team can adopt.
      expect((await call('PATCH', '/v1/principals/alice-active', { owner: 'alice' })).body.code).toBe('owner_not_active_human');
      expect((await call('PATCH', '/v1/principals/alice-active', { owner: 'alice-proposed' })).body.code).toBe('owner_not_active_human');
      expect((await call('PATCH', '/v1/principals/alice-active', { owner: 'nobody-at-all' })).body.code).toBe('owner_not_found');
      expect((await call('PATCH', '/v1/principals/alice-active', { owner_team: 'no-such-team' })).body.code).toBe('team_not_found');
      expect((await call('PATCH', '/v1/principals/alice-active', { owner: 'bob', owner_team: 'platform' })).body.code).toBe('owner_ambiguous');
      const adopted = await call('PATCH', '/v1/principals/alice-active', { owner: 'bob', reason: 'handover' });
      expect(adopted.body).toMatchObject({ orphaned: false, owner: { name: 'bob' }, owner_team: null });
      const byTeam = await call('PATCH', '/v1/principals/alice-proposed', { owner_team: 'platform' });
      expect(byTeam.body).toMatchObject({ orphaned: false, owner: null, owner_team: { name: 'platform' } });
      expect(await orphans()).toEqual([]);
    });

    it.runIf(enabled)('clearing an unrelated field keeps a principal orphaned while its human owner is inactive', async () => {
      await make({ name: 'dave', kind: 'human' });
      await make({ name: 'dave-bot', kind: 'agent', owner: 'dave', status: 'active' });
      await call('POST', '/v1/principals/dave/suspend', {});
      const r = await call('PATCH', '/v1/principals/dave-bot', { owner_team: null });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ owner: { name: 'dave' }, orphaned: true });
    });

    it.runIf(enabled)('decommissioning an orphan takes it off the reassignment list', async () => {
      await make({ name: 'erin', kind: 'human' });
      await make({ name: 'erin-bot', kind: 'agent', owner: 'erin', status: 'active' });
      await call('POST', '/v1/principals/erin/suspend', {});
      expect((await call('GET', '/v1/principals/erin-bot')).body.orphaned).toBe(true);
      const gone = await call('POST', '/v1/principals/erin-bot/decommission', { reason: 'not needed' });
      expect(gone.body).toMatchObject({ status: 'decommissioned', orphaned: false });
      const list = (await call('GET', '/v1/principals?orphaned=true&limit=500')).body.items.map((p: { name: string }) => p.name);
      expect(list).not.toContain('erin-bot');
    });

    it.runIf(enabled)('owners must exist and be active humans or teams, at creation too', async () => {
      await make({ name: 'frank', kind: 'human', status: 'proposed' });
      const counts = await rowCounts(h);
      const bad: Array<[Record<string, unknown>, number, string]> = [
        [{ owner: 'frank' }, 422, 'owner_not_active_human'],
        [{ owner: 'alice-active' }, 422, 'owner_not_active_human'],
        [{ owner: 'ghost' }, 422, 'owner_not_found'],
        [{ owner_team: 'ghosts' }, 422, 'team_not_found'],
        [{ owner: 'bob', owner_team: 'platform' }, 422, 'owner_ambiguous'],
        [{}, 422, 'owner_required'],
      ];
      for (const [owner, status, code] of bad) {
        const r = await call('POST', '/v1/principals', { name: uniq('x'), kind: 'agent', ...owner });
        expect([r.status, r.body.code], JSON.stringify(owner)).toEqual([status, code]);
      }
      expect(await rowCounts(h)).toEqual(counts);
      expect((await call('PATCH', '/v1/principals/team-owned', { owner_team: null })).body.code).toBe('owner_required');
    });

    it.runIf(enabled)('names shaped like ids are refused, so a reference can never mean two things', async () => {
      const lead = (await call('GET', '/v1/principals/op-lead')).body;
      const r = await call('POST', '/v1/principals', { name: lead.id, kind: 'human' });
      expect([r.status, r.body.code]).toEqual([400, 'validation_failed']);
      // A long hex-and-hyphen name that is not a UUID is a name everywhere, including when minting a token.
      const odd = 'a'.repeat(36);
      await make({ name: odd, kind: 'human' });
      const t = await call('POST', '/v1/operator-tokens', { principal: odd, role: 'auditor', ttl_seconds: 600 });
      expect(t.status).toBe(201);
      expect(t.body.principal.name).toBe(odd);
    });

    it.runIf(enabled)('review_due_at defaults by risk tier and starts again at activation', async () => {
      for (const tier of ['low', 'medium', 'high', 'critical'] as const) {
        // High and critical ones start proposed (registration); the clock starts at registration all the same.
        const p = await make({ name: uniq(`tier-${tier}`), kind: 'agent', owner: 'bob', ...(tier === 'low' || tier === 'medium' ? { status: 'active' } : {}), risk_tier: tier });
        expect(Date.parse(p.review_due_at) - h.clock.now().getTime()).toBe(REVIEW_PERIOD_DAYS[tier] * DAY);
      }
      const defaulted = await make({ name: uniq('tier-default'), kind: 'agent', owner: 'bob', status: 'active' });
      expect(defaulted.risk_tier).toBe('medium');
      expect(Date.parse(defaulted.review_due_at) - h.clock.now().getTime()).toBe(180 * DAY);
      const proposed = await make({ name: uniq('later'), kind: 'agent', owner: 'bob', risk_tier: 'medium' });
      h.clock.advance(5 * DAY);
      const active = await call('POST', `/v1/principals/${proposed.name}/activate`, {});
      expect(Date.parse(active.body.review_due_at) - h.clock.now().getTime()).toBe(180 * DAY);
    });

    it.runIf(enabled)('raising the risk tier pulls the next review in; lowering it never pushes it out', async () => {
      const p = await make({ name: uniq('retier'), kind: 'agent', owner: 'bob', status: 'active', risk_tier: 'low' });
      h.clock.advance(DAY);
      const up = await call('PATCH', `/v1/principals/${p.name}`, { risk_tier: 'critical' });
      expect(Date.parse(up.body.review_due_at) - h.clock.now().getTime()).toBe(30 * DAY);
      const down = await call('PATCH', `/v1/principals/${p.name}`, { risk_tier: 'low' });
      expect(down.body.review_due_at).toBe(up.body.review_due_at);
    });

    it.runIf(enabled)('review_overdue lists what is past due; a review sets the next date and is audited', async () => {
      // Active critical agents: registered low, then raised (a new critical one would need a registration request).
      const critical = async (name: string) => {
        await make({ name, kind: 'agent', owner: 'bob', status: 'active', risk_tier: 'low' });
        const raised = await call('PATCH', `/v1/principals/${name}`, { risk_tier: 'critical' });
        expect(raised.status).toBe(200);
        return raised.body;
      };
      const crit = await critical(uniq('crit'));
      const gone = await critical(uniq('crit-gone'));
      await call('POST', `/v1/principals/${gone.name}/decommission`, {});
      const overdue = async () => (await call('GET', '/v1/principals?review_overdue=true&limit=500')).body.items.map((p: { name: string }) => p.name);
      expect(await overdue()).not.toContain(crit.name);
      h.clock.advance(30 * DAY + 1000);
      const list = await overdue();
      expect(list).toContain(crit.name);
      expect(list).not.toContain(gone.name);
      const now = h.clock.now();
      for (const item of (await call('GET', '/v1/principals?review_overdue=true&limit=500')).body.items) {
        expect(Date.parse(item.review_due_at)).toBeLessThan(now.getTime());
        expect(item.status).not.toBe('decommissioned');
      }
      const seq = await lastSeq(h);
      const reviewed = await call('POST', `/v1/principals/${crit.name}/review`, { reason: 'quarterly review' });
      expect(reviewed.status).toBe(200);
      expect(Date.parse(reviewed.body.review_due_at) - now.getTime()).toBe(30 * DAY);
      expect(await overdue()).not.toContain(crit.name);
      const [event] = await eventsSince(h, seq);
      expect(event).toMatchObject({
        type: 'principal.reviewed', actor: { principal_name: 'op-lead' }, target: { id: crit.id },
        details: { reason: 'quarterly review', previous_due: crit.review_due_at, next_due: reviewed.body.review_due_at },
      });
    });
  });
}
