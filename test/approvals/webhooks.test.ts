import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOTIFICATION_TYPES, type Notification } from '../../src/approvals/notifications.js';
import { createWebhooksPart } from '../../src/approvals/webhooks/index.js';
import { backoffSeconds, MAX_ATTEMPTS } from '../../src/approvals/webhooks/delivery-rules.js';
import { RETENTION_DAYS } from '../../src/approvals/webhooks/outbox.js';
import { newId } from '../../src/platform/ids.js';
import { createKeyRing, parseMasterKey } from '../../src/platform/keys.js';
import { createLogger } from '../../src/platform/logger.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { eventsSince, lastSeq } from '../identity/store-probe.js';

// Webhooks end to end: a real control plane, real HTTP to a local node:http receiver that checks every signature
// with node:crypto the way docs/webhooks.md tells receivers to, a manual clock for the retry schedule. Events other
// parts raise are queued through a second webhooks part over the same store (as another node would), since the
// request, grant and review parts report through the same `notify`.

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Whether Custos-Signature verified with the path's secret and its t= was fresh by the test clock. */
  verified: boolean;
  t: number;
}

/** A receiver: per path a secret to verify with and the statuses to answer (then 200). */
function createReceiver(now: () => Date) {
  const secrets = new Map<string, string>();
  const answers = new Map<string, number[]>();
  const received: Received[] = [];
  const waiters: Array<{ path: string; count: number; resolve: () => void }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      const header = String(req.headers['custos-signature'] ?? '');
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
      const secret = secrets.get(path);
      let verified = false;
      const t = m ? Number(m[1]) : NaN;
      if (m && secret !== undefined) {
        const expected = crypto.createHmac('sha256', secret).update(`${m[1]}.${body}`).digest();
        const given = Buffer.from(m[2]!, 'hex');
        const fresh = Math.abs(now().getTime() / 1000 - t) <= 300;
        verified = given.length === expected.length && crypto.timingSafeEqual(given, expected) && fresh;
      }
      received.push({ path, headers: req.headers, body, verified, t });
      const queue = answers.get(path) ?? [];
      const status = queue.length > 0 ? queue.shift()! : 200;
      res.writeHead(status, status >= 300 && status < 400 ? { location: 'http://127.0.0.1:1/elsewhere' } : {}).end('ok');
      for (const w of [...waiters]) {
        if (received.filter((r) => r.path === w.path).length >= w.count) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    });
  });
  return {
    received,
    async listen(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    /** Verify requests to `path` with `secret`; answer them with `statuses` first. */
    expect(path: string, secret: string, statuses: number[] = []) {
      secrets.set(path, secret);
      answers.set(path, [...statuses]);
    },
    answer(path: string, statuses: number[]) {
      answers.set(path, [...statuses]);
    },
    at: (path: string) => received.filter((r) => r.path === path),
    /** Resolves once `count` requests reached `path` (no timing: the test waits for the event itself). */
    until(path: string, count: number): Promise<void> {
      if (received.filter((r) => r.path === path).length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ path, count, resolve }));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const unused = new Proxy({}, { get: () => { throw new Error('the webhooks part does not use this'); } });

for (const backend of BACKENDS) {
  describe(`webhooks on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let rx: ReturnType<typeof createReceiver>;
    let base: string;
    let security: string;
    let auditor: string;
    /** A second webhooks part over the same store: another node (notify, deliverDue, start/stop). */
    let node2: ReturnType<typeof createWebhooksPart>;
    const masterKey = crypto.randomBytes(32).toString('base64');

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend, { masterKey });
      rx = createReceiver(() => h.clock.now());
      base = await rx.listen();
      security = await h.operator('sec-sue', 'security');
      auditor = await h.operator('aud-al', 'auditor');
      node2 = createWebhooksPart({
        db: h.cp.db, audit: h.cp.audit, clock: h.clock, newId, keys: createKeyRing(parseMasterKey(masterKey, 'test')), logger: createLogger('silent'),
        directory: unused as never, grants: unused as never, settings: unused as never, workflowActor: unused as never,
      });
    });
    afterAll(async () => {
      await node2?.stop?.();
      await rx?.close();
      await h?.close();
    });

    async function hook(name: string, body: Record<string, unknown> = {}, statuses: number[] = []) {
      const r = await h.call('POST', '/v1/webhooks', { name, url: `${base}/${name}`, ...body });
      expect(r.status, r.text).toBe(201);
      rx.expect(`/${name}`, r.body.secret as string, statuses);
      return r.body as { id: string; name: string; secret: string };
    }

    async function raise(n: Notification, rollback = false) {
      await h.cp.db.write(async (trx, batch) => {
        await node2.notify(trx, batch, n);
        if (rollback) throw new Error('the change failed');
      }).catch((error: Error) => { if (!rollback) throw error; });
    }

    let operators = 0;
    /** A security operator's token minted now (the clock moves by hours here, and operator tokens expire). */
    const freshSecurity = () => h.operator(`sec-${++operators}`, 'security');
    const deliveries = async (name: string, query = '') => (await h.call('GET', `/v1/webhooks/${name}/deliveries${query}`)).body;

    it.runIf(enabled)('create shows the secret once; it is sealed, and in no other response or audit event', async () => {
      const seq = await lastSeq(h);
      const created = await h.call('POST', '/v1/webhooks', { name: 'siem', url: `${base}/siem`, events: ['request.created', 'grant.revoked', 'request.created'], reason: 'SOC feed' });
      expect(created.status, created.text).toBe(201);
      expect(created.body).toMatchObject({ name: 'siem', url: `${base}/siem`, events: ['request.created', 'grant.revoked'], format: 'json', enabled: true, deliveries: { pending: 0, dead: 0 } });
      const secret = created.body.secret as string;
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const given = 'a-given-secret-of-at-least-32-characters-xyz';
      const second = await h.call('POST', '/v1/webhooks', { name: 'siem-2', url: 'https://hooks.example.com/custos', secret: given });
      expect(second.body.secret).toBe(given);

      const texts = [
        (await h.call('GET', '/v1/webhooks/siem')).text, (await h.call('GET', `/v1/webhooks/${created.body.id}`, undefined, security)).text,
        (await h.call('GET', '/v1/webhooks?limit=500')).text, (await h.call('GET', '/v1/webhooks/siem-2')).text,
        (await h.call('PATCH', '/v1/webhooks/siem', { events: ['request.created'] })).text,
      ];
      for (const t of texts) {
        expect(t).not.toContain(secret);
        expect(t).not.toContain(given);
        expect(JSON.parse(t)).not.toHaveProperty('secret');
      }
      const row = await h.cp.db.kysely.selectFrom('webhooks').selectAll().where('name', 'in', ['siem', 'siem-2']).execute();
      expect(JSON.stringify(row)).not.toContain(secret);
      expect(JSON.stringify(row)).not.toContain(given);
      const events = (await eventsSince(h, seq)).filter((e) => e.type.startsWith('webhook.'));
      expect(events.map((e) => e.type)).toEqual(['webhook.created', 'webhook.created', 'webhook.updated']);
      expect(events[0]).toMatchObject({ target: { type: 'webhook', id: created.body.id, name: 'siem' }, details: { url_origin: base, events: ['request.created', 'grant.revoked'], format: 'json', secret: 'generated', reason: 'SOC feed' } });
      expect(events[1]!.details).toMatchObject({ url_origin: 'https://hooks.example.com', secret: 'given' });
      expect(events[2]!.details).toMatchObject({ changed: ['events'], events: ['request.created'] });
      const stored = await h.cp.db.kysely.selectFrom('audit_events').selectAll().where('seq', '>', seq).execute();
      expect(JSON.stringify(stored)).not.toContain(secret);
      expect(JSON.stringify(stored)).not.toContain(given);

      expect((await h.call('DELETE', '/v1/webhooks/siem-2')).status).toBe(204); // never sent to: not a test receiver
      expect((await h.call('POST', '/v1/webhooks', { name: 'siem', url: `${base}/x` })).body.code).toBe('name_taken');
      expect((await h.call('POST', '/v1/webhooks', { name: 'short', url: `${base}/x`, secret: 'too-short' })).status).toBe(400);
      expect((await h.call('POST', '/v1/webhooks', { name: 'bad-event', url: `${base}/x`, events: ['nope'] })).status).toBe(400);
      expect((await h.call('GET', '/v1/webhooks/nope')).body.code).toBe('not_found');
      // Readers: admin and security; auditors do not see webhooks; only admins change them.
      expect((await h.call('GET', '/v1/webhooks', undefined, auditor)).status).toBe(403);
      expect((await h.call('POST', '/v1/webhooks', { name: 'by-sec', url: `${base}/x` }, security)).status).toBe(403);
    });

    it.runIf(enabled)('URLs: https anywhere, http only to loopback; no user information or fragment', async () => {
      for (const url of ['http://example.com/hook', 'http://10.1.2.3/h', 'ftp://example.com/h', 'https://u:p@example.com/h', 'https://example.com/h#x', 'not a url']) {
        const r = await h.call('POST', '/v1/webhooks', { name: 'refused', url });
        expect([r.status, r.body.code], url).toEqual([422, 'invalid_webhook_url']);
      }
      for (const [name, url] of [['loop-4', 'http://127.0.0.1:9/h'], ['loop-6', 'http://[::1]:9/h'], ['loop-name', 'http://localhost:9/h'], ['tls', 'https://example.com/h']]) {
        expect((await h.call('POST', '/v1/webhooks', { name, url })).status, url).toBe(201);
      }
      const patched = await h.call('PATCH', '/v1/webhooks/tls', { url: 'http://example.com/h' });
      expect([patched.status, patched.body.code]).toEqual([422, 'invalid_webhook_url']);
      expect((await h.call('PATCH', '/v1/webhooks/tls', {})).status).toBe(400);
      for (const name of ['loop-4', 'loop-6', 'loop-name', 'tls']) expect((await h.call('DELETE', `/v1/webhooks/${name}`)).status).toBe(204);
    });

    it.runIf(enabled)('test: a signed webhook.test event, verified by the receiver; the delivery log shows it', async () => {
      const w = await hook('tester');
      const seq = await lastSeq(h);
      const r = await h.call('POST', '/v1/webhooks/tester/test');
      expect(r.status, r.text).toBe(200);
      expect(r.body).toMatchObject({ webhook_id: w.id, event_type: 'webhook.test', status: 'delivered', attempts: 1, last_status: 200, last_error: null, next_attempt_at: null });
      const got = rx.at('/tester');
      expect(got).toHaveLength(1);
      expect(got[0]!.verified).toBe(true);
      expect(got[0]!.t).toBe(Math.floor(h.clock.now().getTime() / 1000));
      const body = JSON.parse(got[0]!.body);
      expect(Object.keys(body)).toEqual(['id', 'type', 'time', 'data']);
      expect(body).toMatchObject({ id: r.body.event_id, type: 'webhook.test', time: h.clock.now().toISOString(), data: { webhook: { id: w.id, name: 'tester' }, requested_by: { name: 'bootstrap-admin' } } });
      expect(got[0]!.headers).toMatchObject({
        'content-type': 'application/json', 'custos-event-id': r.body.event_id, 'custos-event-type': 'webhook.test', 'custos-delivery-id': r.body.id,
      });
      expect(got[0]!.headers['user-agent']).toMatch(/^Custos-Webhooks\//);
      expect(r.body.payload).toEqual(body);
      expect(JSON.stringify(got[0])).not.toContain(w.secret);
      expect((await eventsSince(h, seq)).map((e) => e.type)).toEqual(['webhook.tested']);

      const log = await h.call('GET', '/v1/webhooks/tester/deliveries', undefined, security);
      expect(log.status).toBe(200);
      expect(log.body.items.map((d: { id: string }) => d.id)).toEqual([r.body.id]);
      expect(log.text).not.toContain(w.secret);
      expect((await h.call('GET', '/v1/webhooks/tester/deliveries', undefined, auditor)).status).toBe(403);
      expect((await h.call('POST', '/v1/webhooks/tester/test', {}, security)).status).toBe(403);
      expect((await h.call('POST', '/v1/webhooks/nope/test')).body.code).toBe('not_found');
    });

    it.runIf(enabled)('a 500 is retried after the backoff, then delivered; the same body, signed afresh', async () => {
      await hook('flaky', {}, [500]);
      const first = await h.call('POST', '/v1/webhooks/flaky/test');
      expect(first.body).toMatchObject({ status: 'pending', attempts: 1, last_status: 500, last_error: 'the receiver answered 500' });
      expect(first.body.next_attempt_at).toBe(new Date(h.clock.now().getTime() + backoffSeconds(1) * 1000).toISOString());
      expect(await h.cp.approvals.deliverDue()).toBe(0); // not due yet
      h.clock.advance(backoffSeconds(1) * 1000 - 1000);
      expect(await h.cp.approvals.deliverDue()).toBe(0);
      h.clock.advance(1000);
      expect(await h.cp.approvals.deliverDue()).toBe(1);
      const [d] = (await deliveries('flaky')).items;
      expect(d).toMatchObject({ id: first.body.id, status: 'delivered', attempts: 2, last_status: 200, last_error: null, delivered_at: h.clock.now().toISOString() });
      const got = rx.at('/flaky');
      expect(got).toHaveLength(2);
      expect(got.every((g) => g.verified)).toBe(true);
      expect(got[1]!.body).toBe(got[0]!.body);
      expect(got[1]!.t - got[0]!.t).toBe(backoffSeconds(1));
      expect(got[1]!.headers['custos-signature']).not.toBe(got[0]!.headers['custos-signature']);
      expect(await h.cp.approvals.deliverDue()).toBe(0);
    });

    it.runIf(enabled)('always failing: dead after the maximum attempts; retry brings it back and it is delivered', async () => {
      await hook('down', {}, Array.from({ length: MAX_ATTEMPTS }, () => 503));
      const first = await h.call('POST', '/v1/webhooks/down/test');
      expect(first.body).toMatchObject({ status: 'pending', attempts: 1, last_status: 503 });
      for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
        h.clock.advance(backoffSeconds(attempt) * 1000);
        expect(await h.cp.approvals.deliverDue(), `attempt ${attempt + 1}`).toBe(1);
      }
      let [d] = (await deliveries('down')).items;
      expect(d).toMatchObject({ status: 'dead', attempts: MAX_ATTEMPTS, last_status: 503, next_attempt_at: null });
      expect(rx.at('/down')).toHaveLength(MAX_ATTEMPTS);
      h.clock.advance(86_400_000);
      expect(await h.cp.approvals.deliverDue()).toBe(0);
      expect((await h.call('GET', '/v1/webhooks/down')).body.deliveries).toEqual({ pending: 0, dead: 1 });
      expect((await deliveries('down', '?status=dead')).items).toHaveLength(1);
      expect((await deliveries('down', '?status=pending')).items).toHaveLength(0);

      expect((await h.call('POST', `/v1/webhooks/down/deliveries/${d.id}/retry`, {}, await freshSecurity())).status).toBe(403);
      expect((await h.call('POST', `/v1/webhooks/flaky/deliveries/${d.id}/retry`)).body.code).toBe('not_found');
      const seq = await lastSeq(h);
      const retried = await h.call('POST', `/v1/webhooks/down/deliveries/${d.id}/retry`, { reason: 'receiver fixed' });
      expect(retried.status, retried.text).toBe(200);
      expect(retried.body).toMatchObject({ status: 'pending', attempts: 0, next_attempt_at: h.clock.now().toISOString() });
      expect((await eventsSince(h, seq)).map((e) => [e.type, e.details.reason])).toEqual([['webhook.delivery_retried', 'receiver fixed']]);
      expect(await h.cp.approvals.deliverDue()).toBe(1);
      [d] = (await deliveries('down')).items;
      expect(d).toMatchObject({ status: 'delivered', attempts: 1, last_status: 200 });
      expect(rx.at('/down').every((g) => g.verified)).toBe(true);
      const again = await h.call('POST', `/v1/webhooks/down/deliveries/${d.id}/retry`);
      expect([again.status, again.body.code, again.body.status]).toEqual([409, 'invalid_transition', 'delivered']);
    });

    it.runIf(enabled)('no answer and redirects are failures; the log names neither the secret nor the URL\'s path', async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const secretPath = '/services/T000/B000/XXXXSECRETPATH';
      expect((await h.call('POST', '/v1/webhooks', { name: 'gone', url: `http://127.0.0.1:${port}${secretPath}` })).status).toBe(201);
      const r = await h.call('POST', '/v1/webhooks/gone/test');
      expect(r.body).toMatchObject({ status: 'pending', attempts: 1, last_status: null });
      expect(r.body.last_error).toMatch(/ECONNREFUSED/);
      expect(r.body.last_error).not.toContain('SECRETPATH');
      const events = await h.cp.db.kysely.selectFrom('audit_events').select('canonical').execute();
      expect(events.some((e) => e.canonical.includes('SECRETPATH'))).toBe(false);
      expect((await h.call('DELETE', '/v1/webhooks/gone')).status).toBe(204);

      await hook('moved', {}, [302]);
      const moved = await h.call('POST', '/v1/webhooks/moved/test');
      expect(moved.body).toMatchObject({ status: 'pending', last_status: 302, last_error: 'the receiver answered 302 (redirects are not followed)' });
    });

    it.runIf(enabled)('slack format: a Slack incoming-webhook body, signed the same way', async () => {
      await hook('slack', { format: 'slack', events: ['request.created'] });
      const r = await h.call('POST', '/v1/webhooks/slack/test');
      expect(r.body.status).toBe('delivered');
      await raise({ type: 'request.created', data: { request_id: 'r-1', subject: { id: 'p', name: 'support-bot' }, justification: 'INC-9 <!here>' }, recipients: [{ id: 'h', name: 'alice' }] });
      expect(await h.cp.approvals.deliverDue()).toBeGreaterThanOrEqual(1);
      const got = rx.at('/slack');
      expect(got).toHaveLength(2);
      expect(got.every((g) => g.verified)).toBe(true);
      const test = JSON.parse(got[0]!.body);
      expect(test.text).toMatch(/^Test delivery from Custos/);
      const created = JSON.parse(got[1]!.body);
      expect(Object.keys(created)).toEqual(['text', 'blocks']);
      expect(created.text).toBe('Access request created: subject: support-bot, justification: INC-9 &lt;!here&gt;, request id: r-1');
      expect(created.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Access request created' } });
      expect(created.blocks.at(-1).elements[0].text).toMatch(/^for alice · `request.created` · /);
      expect(got[1]!.headers['custos-event-type']).toBe('request.created');
    });

    it.runIf(enabled)('notifications: one delivery per subscribed, enabled webhook, only once the change commits', async () => {
      // Start from a quiet outbox: what earlier tests left pending is not this test's.
      for (const w of (await h.call('GET', '/v1/webhooks?limit=500')).body.items) await h.call('DELETE', `/v1/webhooks/${w.name}`);
      const all = await hook('all-events');
      const reviews = await hook('reviews-only', { events: ['review.due', 'review.overdue'] });
      await hook('paused', { enabled: false });
      await raise({ type: 'grant.revoked', data: { grant_id: 'g-1' } }, true); // rolled back: nothing queued
      expect(await h.cp.approvals.deliverDue()).toBe(0);

      const notices: Notification[] = [
        { type: 'request.created', data: { request_id: 'r-1' }, recipients: [{ id: 'a', name: 'alice' }] },
        { type: 'review.due', data: { review_id: 'rv-1', due_at: '2026-03-01T00:00:00.000Z' } },
        { type: 'break_glass.used', data: { request_id: 'bg-1', by: { id: 'p', name: 'oncall' } } },
      ];
      for (const n of notices) await raise(n);
      // Not started: nothing went out on its own.
      expect(rx.at('/all-events')).toHaveLength(0);
      expect((await h.call('GET', '/v1/webhooks/all-events')).body.deliveries).toEqual({ pending: 3, dead: 0 });
      expect((await h.call('GET', '/v1/webhooks/paused')).body.deliveries).toEqual({ pending: 0, dead: 0 });
      expect(await h.cp.approvals.deliverDue()).toBe(4);

      const toAll = rx.at('/all-events').map((r) => JSON.parse(r.body));
      expect(toAll.map((b) => b.type).sort()).toEqual(['break_glass.used', 'request.created', 'review.due']);
      expect(rx.at('/all-events').every((r) => r.verified)).toBe(true);
      const created = toAll.find((b) => b.type === 'request.created');
      expect(created).toEqual({ id: expect.any(String), type: 'request.created', time: h.clock.now().toISOString(), data: { request_id: 'r-1' }, recipients: [{ id: 'a', name: 'alice' }] });
      const toReviews = rx.at('/reviews-only').map((r) => JSON.parse(r.body));
      expect(toReviews.map((b) => b.type)).toEqual(['review.due']);
      // One event, one id, at every webhook it went to.
      expect(toReviews[0].id).toBe(toAll.find((b) => b.type === 'review.due').id);
      expect(rx.at('/paused')).toHaveLength(0);
      for (const r of [...rx.at('/all-events'), ...rx.at('/reviews-only')]) {
        expect(r.body).not.toContain(all.secret);
        expect(r.body).not.toContain(reviews.secret);
      }

      // Disabled: nothing is queued for it, and what it had queued waits (not attempted) until it is enabled again.
      rx.answer('/reviews-only', [500]);
      await raise({ type: 'review.overdue', data: { review_id: 'rv-1' } });
      expect(await h.cp.approvals.deliverDue()).toBe(2);
      await h.call('PATCH', '/v1/webhooks/reviews-only', { enabled: false });
      await raise({ type: 'review.overdue', data: { review_id: 'rv-2' } });
      h.clock.advance(backoffSeconds(1) * 1000);
      expect(await h.cp.approvals.deliverDue()).toBe(1); // rv-2 to all-events; rv-1 to reviews-only waits
      expect((await h.call('GET', '/v1/webhooks/reviews-only')).body.deliveries).toEqual({ pending: 1, dead: 0 });
      await h.call('PATCH', '/v1/webhooks/reviews-only', { enabled: true });
      expect(await h.cp.approvals.deliverDue()).toBe(1);
      expect(rx.at('/reviews-only').map((r) => { const b = JSON.parse(r.body); return `${b.type} ${b.data.review_id}`; }))
        .toEqual(['review.due rv-1', 'review.overdue rv-1', 'review.overdue rv-1']);
      expect((await h.call('GET', '/v1/webhooks/reviews-only')).body.deliveries).toEqual({ pending: 0, dead: 0 });
    });

    it.runIf(enabled)('a second node never sends what the first one claimed', async () => {
      const w = await hook('contended');
      for (let i = 0; i < 12; i++) await raise({ type: 'request.approved', data: { request_id: `r-${i}` } });
      const before = rx.at('/contended').length;
      const [a, b] = await Promise.all([h.cp.approvals.deliverDue(), node2.deliverDue()]);
      expect(rx.at('/contended').length - before).toBe(12);
      const ids = rx.at('/contended').map((r) => r.headers['custos-delivery-id']);
      expect(new Set(ids).size).toBe(ids.length);
      expect(a + b).toBeGreaterThanOrEqual(12);
      expect((await h.call('GET', `/v1/webhooks/${w.id}`)).body.deliveries).toEqual({ pending: 0, dead: 0 });
    });

    it.runIf(enabled)('a started node delivers right after the commit; stop waits for what is in flight', async () => {
      await hook('prompt', { events: ['grant.revoked'] });
      node2.start!();
      await raise({ type: 'grant.revoked', data: { grant_id: 'g-7' } });
      await rx.until('/prompt', 1);
      await node2.stop!();
      const got = rx.at('/prompt');
      expect(got).toHaveLength(1);
      expect(got[0]!.verified).toBe(true);
      expect((await deliveries('prompt')).items[0]).toMatchObject({ status: 'delivered', event_type: 'grant.revoked' });
    });

    it.runIf(enabled)('a rotated secret signs every later attempt; the old one no longer verifies', async () => {
      const w = await hook('rotating', {}, [500]);
      const first = await h.call('POST', '/v1/webhooks/rotating/test');
      expect(first.body.status).toBe('pending');
      const rotated = await h.call('PATCH', '/v1/webhooks/rotating', { rotate_secret: true, reason: 'yearly' });
      expect(rotated.status, rotated.text).toBe(200);
      expect(rotated.body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(rotated.body.secret).not.toBe(w.secret);
      rx.expect('/rotating', rotated.body.secret);
      h.clock.advance(backoffSeconds(1) * 1000);
      expect(await h.cp.approvals.deliverDue()).toBe(1);
      const got = rx.at('/rotating');
      expect(got.map((r) => r.verified)).toEqual([true, true]); // the first with the old secret, the retry with the new one
      const v1 = /v1=([0-9a-f]{64})$/.exec(String(got[1]!.headers['custos-signature']))![1];
      expect(crypto.createHmac('sha256', w.secret).update(`${got[1]!.t}.${got[1]!.body}`).digest('hex')).not.toBe(v1);
      expect((await h.call('GET', '/v1/webhooks/rotating')).text).not.toContain(rotated.body.secret);
      const audit = await h.cp.db.kysely.selectFrom('audit_events').select('canonical').execute();
      expect(audit.some((e) => e.canonical.includes(rotated.body.secret) || e.canonical.includes(w.secret))).toBe(false);
      expect((await h.call('PATCH', '/v1/webhooks/rotating', { rotate_secret: true, secret: 'x'.repeat(40) })).status).toBe(400);
    });

    it.runIf(enabled)('the delivery log pages newest first; delete removes the webhook and its log (audited)', async () => {
      const w = await hook('paged', { events: ['request.denied'] });
      for (let i = 0; i < 5; i++) await raise({ type: 'request.denied', data: { request_id: `d-${i}` } });
      await h.cp.approvals.deliverDue();
      const first = await deliveries('paged', '?limit=2');
      expect(first.items).toHaveLength(2);
      const second = await deliveries('paged', `?limit=2&cursor=${encodeURIComponent(first.next_cursor)}`);
      const third = await deliveries('paged', `?limit=2&cursor=${encodeURIComponent(second.next_cursor)}`);
      expect(third.next_cursor).toBeNull();
      const order = [...first.items, ...second.items, ...third.items].map((d: { payload: { data: { request_id: string } } }) => d.payload.data.request_id);
      expect(order).toEqual(['d-4', 'd-3', 'd-2', 'd-1', 'd-0']);
      expect((await h.call('GET', '/v1/webhooks/paged/deliveries?cursor=forged')).body.code).toBe('invalid_cursor');

      expect((await h.call('DELETE', '/v1/webhooks/paged?reason=retired', undefined, await freshSecurity())).status).toBe(403);
      const seq = await lastSeq(h);
      expect((await h.call('DELETE', '/v1/webhooks/paged?reason=retired')).status).toBe(204);
      const events = await eventsSince(h, seq);
      expect(events.map((e) => e.type)).toEqual(['webhook.deleted']);
      expect(events[0]!.details).toMatchObject({ deliveries_removed: { pending: 0, dead: 0 }, reason: 'retired' });
      expect((await h.call('GET', '/v1/webhooks/paged')).status).toBe(404);
      expect((await h.call('GET', '/v1/webhooks/paged/deliveries')).status).toBe(404);
      const left = await h.cp.db.kysely.selectFrom('webhook_deliveries').select('id').where('webhook_id', '=', w.id).execute();
      expect(left).toEqual([]);
    });

    it.runIf(enabled)('the sweep delivers what is due and prunes delivered and dead deliveries after the retention', async () => {
      const w = await hook('kept');
      await h.call('POST', '/v1/webhooks/kept/test');
      const count = async () => (await h.cp.db.kysely.selectFrom('webhook_deliveries').select('id').where('webhook_id', '=', w.id).execute()).length;
      expect(await count()).toBe(1);
      h.clock.advance((RETENTION_DAYS - 1) * 86_400_000);
      await h.cp.approvals.sweep();
      expect(await count()).toBe(1);
      h.clock.advance(2 * 86_400_000);
      await h.cp.approvals.sweep();
      expect(await count()).toBe(0);
      expect(NOTIFICATION_TYPES.length).toBeGreaterThan(0);
    });
  });
}

