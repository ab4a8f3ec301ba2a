import crypto from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startGatewayWorld, type GatewayWorld } from '../support/gateway-world.js';
import { refuseAuditInserts } from '../support/tamper.js';
import { clientAssertion, dpopKey, dpopProof } from '../support/oauth.js';

// The call pipeline's guarantees, seen from outside with plain HTTP on both stores: the call's record is committed
// before any byte goes back; refusals are recorded before they are answered;
// a limit or route change applies to the next call; an upstream that is down or refuses its key is the gateway's
// 502, with nothing counted against the caller; tokens for the control plane are not tokens for the gateway, nor
// the other way round; /metrics needs a credential.

/** A response's JSON body, untyped (the shapes are the providers'). */
const json = (r: Response): Promise<any> => r.json();

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'secret prompt text 4711' }], ...extra });

for (const backend of BACKENDS) {
  describe(`the gateway call pipeline on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let w: GatewayWorld;
    let key: string;
    const post = (path: string, body: unknown, credential: string | null = key, headers: Record<string, string> = {}) => fetch(`${w.gatewayUrl}${path}`, {
      method: 'POST', body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(credential ? { authorization: `Bearer ${credential}` } : {}), ...headers },
    });

    beforeAll(async () => {
      if (!enabled) return;
      w = await startGatewayWorld(backend);
      key = (await w.apiKey()).key;
    });
    afterAll(async () => { await w?.close(); });

    it.runIf(enabled)('commits the decision and the call record before the first byte goes back', async () => {
      const from = await w.lastSeq();
      const types = async () => (await sql<{ type: string }>`select type from audit_events where seq > ${from} order by seq`.execute(w.h.cp.db.kysely)).rows.map((r) => r.type);
      let seenAtArrival: string[] = [];
      w.fake.next({ delayMs: 30, onArrival: async () => { seenAtArrival = await types(); } });
      const res = await post('/v1/chat/completions', chat('chat-gpt'));
      // The status line has arrived, the body not yet read: the record is already durable.
      const seenAtFirstByte = await types();
      expect(res.status).toBe(200);
      expect(res.headers.get('server-timing')).toMatch(/^custos;dur=\d+\.\d{3}, upstream;dur=\d+\.\d{3}$/);
      await res.text();
      expect(seenAtFirstByte).toEqual(expect.arrayContaining(['authz.decision', 'gateway.call']));
      // The commit runs while the upstream works: it may or may not be done when the upstream is first asked.
      expect(seenAtArrival).not.toContain('gateway.call_completed');
      const done = await w.waitForAudit('gateway.call_completed', from, (e) => e.details.request_id === res.headers.get('x-request-id'));
      const [call] = await w.auditEvents('gateway.call', from);
      expect(call!.details).toMatchObject({ api: 'openai', operation: 'chat.completions', model: 'chat-gpt', upstream: { name: 'fake-openai' }, provider_model: 'gpt-4o-2024-08-06' });
      expect(call!.details.decision_event).toEqual(expect.any(String));
      expect(done.details).toMatchObject({ call_event: (call as { id?: string }).id, status: 200, input_tokens: 12, output_tokens: 5 });
      expect(await w.auditText(from)).not.toContain('secret prompt text 4711');
      w.assertUpstreamClean();
    });

    it.runIf(enabled)('records a refusal, with its decision, before answering it; nothing is forwarded', async () => {
      const from = await w.lastSeq();
      const before = w.fake.requests.length;
      const res = await post('/v1/chat/completions', chat('chat-mini'));
      expect(res.status).toBe(403);
      expect(res.headers.get('x-custos-reason')).toBe('model_not_allowed');
      expect((await json(res)).error).toMatchObject({ code: 'model_not_allowed', type: 'permission_error' });
      const [call] = await w.auditEvents('gateway.call', from);
      expect(call).toMatchObject({ outcome: 'failure', decision: 'deny', reasons: ['model_not_allowed'] });
      expect((await w.auditEvents('authz.decision', from)).map((e) => e.decision)).toEqual(['deny']);
      const missing = await post('/v1/chat/completions', chat('no-such-model'));
      expect(missing.status).toBe(404);
      expect((await json(missing)).error.code).toBe('model_not_found');
      const wrongApi = await post('/v1/chat/completions', chat('claude'));
      expect(wrongApi.status).toBe(400);
      expect((await json(wrongApi)).error.code).toBe('wrong_api');
      expect(w.fake.requests.length).toBe(before);
    });

    it.runIf(enabled)('streams: usage is asked for upstream, and passed on only to a client that asked for it', async () => {
      const from = await w.lastSeq();
      const plainRes = await post('/v1/chat/completions', chat('chat-gpt', { stream: true }));
      const plain = await plainRes.text();
      expect(w.fake.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true });
      // (Other chunks keep the `"usage": null` the option adds, as the API sends them: harmless to any client.)
      expect(plain).not.toMatch(/"usage":\{/);
      expect(plain.trim().endsWith('data: [DONE]')).toBe(true);
      expect(plain).toContain('"content"');
      const askedRes = await post('/v1/chat/completions', chat('chat-gpt', { stream: true, stream_options: { include_usage: true } }));
      const asked = await askedRes.text();
      expect(asked).toMatch(/"usage":\{"prompt_tokens"/);
      // The completion is recorded after the answer (with the next commit): wait for both.
      const done = [];
      for (const res of [plainRes, askedRes]) {
        const id = res.headers.get('x-request-id');
        done.push((await w.waitForAudit('gateway.call_completed', from, (e) => e.details.request_id === id)).details);
      }
      for (const d of done) expect(d.input_tokens).toBeGreaterThan(0);
    });

    it.runIf(enabled)('every call\'s completion event is written exactly once, riding along with later commits', async () => {
      const from = await w.lastSeq();
      const responses = await Promise.all(Array.from({ length: 12 }, () => post('/v1/chat/completions', chat('chat-gpt'))));
      const ids = await Promise.all(responses.map(async (r) => { await r.text(); return r.headers.get('x-request-id')!; }));
      for (const id of ids) await w.waitForAudit('gateway.call_completed', from, (e) => e.details.request_id === id);
      const completed = (await w.auditEvents('gateway.call_completed', from)).filter((e) => ids.includes(e.details.request_id));
      expect(completed.map((e) => e.details.request_id).sort()).toEqual([...ids].sort());
      const calls = (await w.auditEvents('gateway.call', from)).filter((e) => ids.includes(e.details.request_id));
      expect(new Set(completed.map((e) => e.details.call_event))).toEqual(new Set(calls.map((e) => (e as { id?: string }).id)));
    });

    it.runIf(enabled)('refuses bad bodies in the provider shape, after the credential', async () => {
      expect((await post('/v1/chat/completions', 'not json', null)).status).toBe(401);
      const bad = await fetch(`${w.gatewayUrl}/v1/chat/completions`, { method: 'POST', body: '{nope', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } });
      expect(bad.status).toBe(400);
      expect((await json(bad)).error.code).toBe('invalid_request');
      const noModel = await post('/v1/messages', { messages: [] });
      expect(noModel.status).toBe(400);
      expect((await json(noModel))).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', custos_code: 'invalid_request' } });
      const badStream = await post('/v1/chat/completions', chat('chat-gpt', { stream: 'yes' }));
      expect(badStream.status).toBe(400);
    });

    it.runIf(enabled)('a limit set now applies to the very next call, and a refused call is not forwarded', async () => {
      const name = `sdk-limit-${backend}`;
      await w.newAgent(name);
      const k = (await w.apiKey({ principal: name })).key;
      await w.admin('PUT', `/v1/limits/principal/${name}`, { requests_per_minute: 1, reason: 'test' });
      expect((await post('/v1/chat/completions', chat('chat-gpt'), k)).status).toBe(200);
      const before = w.fake.requests.length;
      const limited = await post('/v1/chat/completions', chat('chat-gpt'), k);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await json(limited)).error).toMatchObject({ code: 'rate_limited', type: 'rate_limit_error' });
      expect(w.fake.requests.length).toBe(before);
      await w.admin('DELETE', `/v1/limits/principal/${name}?reason=test`, undefined, [204]);
      expect((await post('/v1/chat/completions', chat('chat-gpt'), k)).status).toBe(200);
      const tooBig = await (async () => {
        await w.admin('PUT', `/v1/limits/principal/${name}`, { tokens_per_minute: 100, reason: 'test' });
        return post('/v1/chat/completions', chat('chat-gpt', { max_tokens: 5000 }), k);
      })();
      expect(tooBig.status).toBe(400);
      expect((await json(tooBig)).error.code).toBe('exceeds_limit');
      await w.admin('DELETE', `/v1/limits/principal/${name}?reason=test`, undefined, [204]);
    });

    it.runIf(enabled)('a daily budget under a burst of concurrent calls: the tokens used never exceed it', async () => {
      const name = `sdk-burst-${backend}`;
      await w.newAgent(name);
      const k = (await w.apiKey({ principal: name })).key;
      const budget = 2_000;
      await w.admin('PUT', `/v1/limits/principal/${name}`, { tokens_per_day: budget, reason: 'test' });
      // Each call may use up to max_tokens + its body's bytes (about 350); each really uses 300 (within its maximum).
      w.fake.defaults({ delayMs: 50, usage: { input: 200, output: 100 } });
      try {
        const results = await Promise.all(Array.from({ length: 24 }, async () => {
          const r = await post('/v1/chat/completions', chat('chat-gpt', { max_tokens: 250 }), k);
          const body = await json(r);
          return { status: r.status, used: r.status === 200 ? body.usage.prompt_tokens + body.usage.completion_tokens : 0, code: body.error?.code };
        }));
        const served = results.filter((r) => r.status === 200);
        expect(served.length).toBeGreaterThan(0);
        expect(results.filter((r) => r.status === 429).every((r) => r.code === 'budget_exhausted')).toBe(true);
        expect(results.some((r) => r.status === 429)).toBe(true);
        let used = served.reduce((a, r) => a + r.used, 0);
        expect(used).toBeLessThanOrEqual(budget);
        // Then one call after another until the budget refuses: what was used still never exceeds it.
        let last = 200;
        for (let i = 0; i < 10 && last === 200; i++) {
          const r = await post('/v1/chat/completions', chat('chat-gpt', { max_tokens: 250 }), k);
          const body = await json(r);
          last = r.status;
          if (r.status === 200) used += body.usage.prompt_tokens + body.usage.completion_tokens;
          else expect(body.error.code).toBe('budget_exhausted');
        }
        expect(last).toBe(429);
        expect(used).toBeLessThanOrEqual(budget);
      } finally {
        w.fake.defaults({});
        await w.admin('DELETE', `/v1/limits/principal/${name}?reason=test`, undefined, [204]);
      }
    });

    it.runIf(enabled)('an unreachable upstream or one refusing its key is 502, and the reservation is given back', async () => {
      const name = `sdk-down-${backend}`;
      await w.newAgent(name);
      const k = (await w.apiKey({ principal: name })).key;
      await w.admin('PUT', `/v1/limits/principal/${name}`, { requests_per_minute: 1, reason: 'test' });
      w.fake.next({ status: 401, error: { error: { message: 'bad key' } } });
      const refused = await post('/v1/chat/completions', chat('chat-gpt'), k);
      expect(refused.status).toBe(502);
      expect((await json(refused)).error.code).toBe('upstream_auth_failed');
      // The upstream answered 401: the call used nothing, so the one request a minute is still there.
      expect((await post('/v1/chat/completions', chat('chat-gpt'), k)).status).toBe(200);
      await w.admin('DELETE', `/v1/limits/principal/${name}?reason=test`, undefined, [204]);

      const from = await w.lastSeq();
      const up = (await w.admin('GET', '/v1/upstreams/fake-local'));
      await w.admin('PATCH', '/v1/upstreams/fake-local', { base_url: 'http://127.0.0.1:9/v1', retries: 0, reason: 'test' });
      const down = await post('/v1/chat/completions', chat('local-llama'), k);
      expect(down.status).toBe(502);
      expect((await json(down)).error.code).toBe('upstream_unavailable');
      const done = await w.waitForAudit('gateway.call_completed', from, (e) => e.details.upstream === 'fake-local');
      expect(done).toMatchObject({ outcome: 'failure', details: { status: null } });
      await w.admin('PATCH', '/v1/upstreams/fake-local', { base_url: up.base_url, retries: up.retries, reason: 'test' });
      expect((await post('/v1/chat/completions', chat('local-llama'), k)).status).toBe(200);
    });

    it.runIf(enabled)('tokens are for one audience: the gateway refuses control-plane tokens and the API refuses gateway tokens', async () => {
      const gatewayToken = await w.accessToken();
      const controlToken = await w.accessToken({ resource: null });
      const ok = await post('/v1/chat/completions', chat('chat-gpt'), gatewayToken);
      expect(ok.status).toBe(200);
      const wrong = await post('/v1/chat/completions', chat('chat-gpt'), controlToken);
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${w.gatewayUrl}/.well-known/oauth-protected-resource", error="invalid_token", error_description="the token is not addressed to this resource"`);
      const atApi = await fetch(`${w.cpUrl}/v1/principals`, { headers: { authorization: `Bearer ${gatewayToken}` } });
      expect(atApi.status).toBe(401);
      const op = await post('/v1/chat/completions', chat('chat-gpt'), w.h.adminToken);
      expect(op.status).toBe(401);
      expect((await json(op)).error.message).toMatch(/operator tokens are for the management API/);
      const meta = await (await fetch(`${w.gatewayUrl}/.well-known/oauth-protected-resource`)).json();
      expect(meta).toMatchObject({ resource: w.gatewayUrl, authorization_servers: [w.cpUrl] });
    });

    it.runIf(enabled)('a DPoP-bound token works only with a proof for the gateway URL it is presented at', async () => {
      const key = await dpopKey();
      const now = () => Math.floor(w.h.clock.now().getTime() / 1000);
      const form = new URLSearchParams({
        grant_type: 'client_credentials', resource: w.gatewayUrl,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await clientAssertion(w.agent, w.h.cp.issuer(), now()),
      });
      const issued = await fetch(`${w.cpUrl}/oauth/token`, {
        method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await dpopProof(key, 'POST', `${w.cpUrl}/oauth/token`, now()) },
      });
      const body = await json(issued);
      expect(body.token_type).toBe('DPoP');
      const token = body.access_token as string;
      const url = `${w.gatewayUrl}/v1/chat/completions`;
      const call = (headers: Record<string, string>) => fetch(url, { method: 'POST', body: JSON.stringify(chat('chat-gpt')), headers: { 'content-type': 'application/json', ...headers } });
      const ath = crypto.createHash('sha256').update(token).digest('base64url');
      const ok = await call({ authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'POST', url, now(), { ath }) });
      expect(ok.status).toBe(200);
      const noProof = await call({ authorization: `DPoP ${token}` });
      expect(noProof.status).toBe(401);
      expect(noProof.headers.get('x-custos-reason')).toBe('invalid_dpop_proof');
      const asBearer = await call({ authorization: `Bearer ${token}` });
      expect(asBearer.status).toBe(401);
      const elsewhere = await call({ authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'POST', `${w.cpUrl}/v1/chat/completions`, now(), { ath }) });
      expect(elsewhere.status).toBe(401);
      expect(elsewhere.headers.get('x-custos-reason')).toBe('invalid_dpop_proof');
    });

    it.runIf(enabled)('serves Prometheus metrics to an operator or the scrape credential only', async () => {
      for (const base of [w.cpUrl, w.gatewayUrl]) {
        expect((await fetch(`${base}/metrics`)).status).toBe(401);
        expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
        const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${w.h.adminToken}` } });
        expect(res.status).toBe(200);
        const text = await res.text();
        expect(text).toMatch(/custos_gateway_step_seconds_bucket\{le="[^"]+",step="decide"\}/);
        expect(text).toMatch(/custos_gateway_requests_total\{api="openai",outcome="denied",reason="model_not_allowed"\} \d+/);
        expect(text).toMatch(/custos_decisions_total\{decision="allow",reason="permit"\} \d+/);
        expect(text).toMatch(/custos_upstream_requests_total\{upstream="fake-openai",status="2xx"\} \d+/);
        expect(text).toMatch(/custos_audit_commit_seconds_count \d+/);
        expect(text).toContain('custos_audit_queue_depth');
      }
    });

    it.runIf(enabled)('an audit log that cannot be written: 503, the upstream request is cancelled, nothing is answered', async () => {
      const undo = await refuseAuditInserts(w.h);
      try {
        w.fake.next({ delayMs: 2_000 });
        const n = w.fake.requests.length;
        const res = await post('/v1/chat/completions', chat('chat-gpt'));
        expect(res.status).toBe(503);
        expect((await json(res)).error.code).toBe('gateway_unavailable');
        // The upstream is asked while the record commits: the failed commit cancelled the request before it was sent,
        // or the upstream saw its client go away — it never finished answering.
        if (w.fake.requests.length > n) await w.fake.waitForClientClose((r) => w.fake.requests.indexOf(r) >= n, 5_000);
        expect(w.fake.requests.slice(n).every((r) => r.outcome === 'client_closed')).toBe(true);
        const refused = await post('/v1/chat/completions', chat('chat-mini'));
        expect(refused.status).toBe(503);
      } finally {
        await undo();
      }
      expect((await post('/v1/chat/completions', chat('chat-gpt'))).status).toBe(200);
    });

    it.runIf(enabled)('an unknown route is 404 and forwards nothing', async () => {
      const before = w.fake.requests.length;
      const res = await post('/v1/completions', { model: 'chat-gpt', prompt: 'x' });
      expect(res.status).toBe(404);
      expect((await json(res)).error.code).toBe('route_not_found');
      expect(w.fake.requests.length).toBe(before);
    });
  });
}
