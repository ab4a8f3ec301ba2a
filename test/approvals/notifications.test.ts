import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';

// What the request workflow tells webhooks, end to end: a request filed, approved, denied, expired, and a grant
// revoked each reach a real local receiver as a signed JSON delivery (checked with node:crypto as docs/webhooks.md
// tells receivers to), committed with the change; no payload and no audit event carries the webhook's secret.

interface Got { type: string; body: any; raw: string; verified: boolean }

function receiver(secret: () => string) {
  const got: Got[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers['custos-signature'] ?? ''));
      const expected = m ? crypto.createHmac('sha256', secret()).update(`${m[1]}.${raw}`).digest('hex') : '';
      const verified = m !== null && crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(m[2]!));
      const body = JSON.parse(raw);
      got.push({ type: body.type, body, raw, verified });
      res.writeHead(200).end();
    });
  });
  return { got, server };
}

for (const backend of BACKENDS) {
  describe(`request notifications on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let secret = '';
    const rx = receiver(() => secret);
    const t = {} as Record<'alice' | 'bob', string>;
    const must = async (method: string, url: string, body?: unknown, token?: string) => {
      const r = await h.call(method, url, body, token);
      if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
      return r.body;
    };
    const delivered = async (type: string) => {
      for (let i = 0; i < 50 && !rx.got.some((g) => g.type === type); i++) {
        await h.cp.approvals.deliverDue();
        if (!rx.got.some((g) => g.type === type)) await new Promise((r) => setTimeout(r, 20));
      }
      const hit = rx.got.filter((g) => g.type === type);
      expect(hit.length, `a ${type} delivery`).toBeGreaterThan(0);
      return hit[hit.length - 1]!;
    };

    beforeAll(async () => {
      if (!enabled) return;
      await new Promise<void>((r) => rx.server.listen(0, '127.0.0.1', () => r()));
      h = await startHarness(backend);
      t.alice = await h.operator('alice', 'owner');
      t.bob = await h.operator('bob', 'owner');
      await must('POST', '/v1/principals', { name: 'alice-bot', kind: 'agent', owner: 'alice', status: 'active', purposes: ['support'] });
      await must('POST', '/v1/resources', { name: 'kb', kind: 'dataset', owner: 'bob', risk_tier: 'medium', purposes: ['support'] });
      const hook = await must('POST', '/v1/webhooks', { name: 'ops', url: `http://127.0.0.1:${(rx.server.address() as AddressInfo).port}/hook` });
      secret = hook.secret;
      expect(secret.length).toBeGreaterThanOrEqual(32);
    });
    afterAll(async () => { await h?.close(); rx.server.close(); });

    it.runIf(enabled)('created, approved and grant revoked: signed deliveries with id, type, time and data', async () => {
      const r = await must('POST', '/v1/access-requests', { subject: 'alice-bot', resources: ['kb'], actions: ['read'], purpose: 'support', duration_seconds: 600, justification: 'triage' }, t.alice);
      const created = await delivered('request.created');
      expect(created.verified).toBe(true);
      expect(created.body).toMatchObject({ type: 'request.created', data: { request: { id: r.id, subject: { name: 'alice-bot' }, tier: 'medium', needs: ['anyone'] } } });
      expect(Object.keys(created.body).sort()).toEqual(expect.arrayContaining(['data', 'id', 'time', 'type']));
      const approved = await must('POST', `/v1/access-requests/${r.id}/approve`, { request_hash: r.request_hash }, t.bob);
      const a = await delivered('request.approved');
      expect(a.verified).toBe(true);
      expect(a.body.data).toMatchObject({ request: { id: r.id, status: 'approved' }, grants: [{ id: approved.grant_ids[0] }] });
      await must('POST', `/v1/grants/${approved.grant_ids[0]}/revoke`, { reason: 'done' }, t.bob);
      const rev = await delivered('grant.revoked');
      expect(rev.body.data).toMatchObject({ grant: { id: approved.grant_ids[0], source: 'approval', source_ref: r.id }, reason: 'done', revoked_by: { name: 'bob' } });
    });

    it.runIf(enabled)('denied and expired are reported; nothing carries the webhook secret', async () => {
      const d = await must('POST', '/v1/access-requests', { subject: 'alice-bot', resources: ['kb'], actions: ['read'], purpose: 'support', duration_seconds: 600, justification: 'again' }, t.alice);
      await must('POST', `/v1/access-requests/${d.id}/deny`, { request_hash: d.request_hash, reason: 'no' }, t.bob);
      expect((await delivered('request.denied')).body.data).toMatchObject({ request: { id: d.id, status: 'denied' }, reason: 'no' });
      const e = await must('POST', '/v1/access-requests', { subject: 'alice-bot', resources: ['kb'], actions: ['read'], purpose: 'support', duration_seconds: 600, justification: 'late' }, t.alice);
      h.clock.advance(7 * 86_400_000 + 1000);
      await h.cp.approvals.sweep();
      expect((await delivered('request.expired')).body.data.request).toMatchObject({ id: e.id, status: 'expired' });
      for (const g of rx.got) {
        expect(g.verified, g.type).toBe(true);
        expect(g.raw).not.toContain(secret);
      }
      const audit = await h.cp.db.kysely.selectFrom('audit_events').select('canonical').execute();
      expect(audit.some((x) => x.canonical.includes(secret))).toBe(false);
    });
  });
}
