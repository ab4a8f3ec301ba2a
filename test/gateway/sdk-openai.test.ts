import crypto from 'node:crypto';
import net from 'node:net';
import * as openai6 from 'openai';
import * as openai7 from 'openai7';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { activate } from '../support/authz.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { ALLOWED_MODELS, MODELS, startGatewayWorld, worldPolicy, type AuditEvent, type GatewayWorld } from '../support/gateway-world.js';

// The official openai SDKs (6.x, which supports Node 20, and 7.x, which declares Node >= 22 but runs on 20 for what
// we use) pointed at the gateway, changing only baseURL and apiKey — clients nobody here wrote keep the gateway's
// wire format honest. Behind the gateway, the fake upstream (test/support/fake-upstream.ts) checks that it gets its
// own key and the provider's model id, and never a Custos credential (asserted after every test).
// Both stores: the call's record, the decision and the revocation check go through the store on every call.
// Each call's audit trail is read back through the management API; no prompt or completion text may be in it.

type Sdk = typeof openai6;
const SDKS: Array<{ label: string; sdk: Sdk }> = [
  { label: 'openai 6', sdk: openai6 },
  { label: 'openai 7', sdk: openai7 as unknown as Sdk },
];

const marker = (what: string) => `${what}-${crypto.randomBytes(6).toString('hex')}`;
const PROMPT = marker('prompt-text-never-audited');
const COMPLETION = `the answer ${marker('completion-text-never-audited')} is forty two`;
const user = (content = PROMPT) => [{ role: 'user' as const, content }];

async function caught(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

const TIMING = /(^|,\s*)custos;dur=\d+(\.\d+)?/;

for (const backend of BACKENDS) {
  describe(`the official openai SDKs through the gateway on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let w: GatewayWorld;
    let token: string;

    beforeAll(async () => {
      if (!enabled) return;
      w = await startGatewayWorld(backend);
      w.fake.defaults({ text: COMPLETION });
      token = await w.accessToken();
    });
    afterEach(() => { if (w) w.assertUpstreamClean(); });
    afterAll(async () => {
      if (!w) return;
      // Nothing this file sent or received through the gateway may appear in the audit log.
      const text = await w.auditText();
      expect(text).not.toContain(PROMPT);
      expect(text).not.toContain(COMPLETION.split(' ')[2]);
      await w.close();
    });

    for (const { label, sdk } of SDKS) {
      describe(label, () => {
        const client = (apiKey: string) => new sdk.default({ apiKey, baseURL: `${w.gatewayUrl}/v1`, maxRetries: 0, timeout: 15_000 });
        const upstreamCalls = (path: string) => w.fake.requests.filter((r) => r.path === path);

        it.runIf(enabled)('chat completion: the answer and usage come back; the upstream gets its own key and the provider model', async () => {
          w.fake.next({ usage: { input: 21, output: 8 } });
          const { data, response } = await client(token).chat.completions.create({ model: 'chat-gpt', messages: user(), max_tokens: 64 }).withResponse();
          expect(data.choices[0]!.message.content).toBe(COMPLETION);
          expect(data.usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 8, total_tokens: 29 });
          expect(response.headers.get('server-timing')).toMatch(TIMING);
          const [seen, ...more] = upstreamCalls('/v1/chat/completions');
          expect(more).toEqual([]);
          expect(seen!.headers.authorization).toBe(`Bearer ${w.fake.keys.openai}`);
          expect(seen!.body).toMatchObject({ model: MODELS['chat-gpt'].providerModel, messages: user(), max_tokens: 64 });
          expect(JSON.stringify(seen!.headers)).not.toContain(token);
        });

        it.runIf(enabled)('streamed chat completion: chunks in order, and the final usage chunk the client asked for', async () => {
          w.fake.next({ chunks: 4, usage: { input: 30, output: 4 } });
          const stream = await client(token).chat.completions.create({ model: 'chat-gpt', messages: user(), stream: true, stream_options: { include_usage: true } });
          let text = '';
          let usage: unknown;
          let chunks = 0;
          for await (const chunk of stream) {
            chunks++;
            text += chunk.choices[0]?.delta?.content ?? '';
            if (chunk.usage) usage = chunk.usage;
          }
          expect(text).toBe(COMPLETION);
          expect(chunks).toBeGreaterThanOrEqual(4);
          expect(usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 4, total_tokens: 34 });
          const [seen] = upstreamCalls('/v1/chat/completions');
          expect(seen!.body).toMatchObject({ model: MODELS['chat-gpt'].providerModel, stream: true, stream_options: { include_usage: true } });
          expect(seen!.outcome).toBe('finished');
        });

        it.runIf(enabled)('an OpenAI-compatible upstream (a local server) is reached through the same API', async () => {
          const answer = await client(token).chat.completions.create({ model: 'local-llama', messages: user() });
          expect(answer.choices[0]!.message.content).toBe(COMPLETION);
          expect(upstreamCalls('/v1/chat/completions')[0]!.body.model).toBe(MODELS['local-llama'].providerModel);
        });

        it.runIf(enabled)('responses: plain and streamed, with the Responses API events and usage', async () => {
          w.fake.next({ usage: { input: 9, output: 6 } });
          const plain = await client(token).responses.create({ model: 'chat-gpt', input: PROMPT });
          expect(plain.output_text).toBe(COMPLETION);
          expect(plain.usage).toMatchObject({ input_tokens: 9, output_tokens: 6, total_tokens: 15 });

          w.fake.next({ chunks: 3, usage: { input: 9, output: 3 } });
          const stream = await client(token).responses.create({ model: 'chat-gpt', input: PROMPT, stream: true });
          const types: string[] = [];
          let deltas = '';
          let completedUsage: unknown;
          for await (const event of stream) {
            types.push(event.type);
            if (event.type === 'response.output_text.delta') deltas += event.delta;
            if (event.type === 'response.completed') completedUsage = event.response.usage;
          }
          expect(types[0]).toBe('response.created');
          expect(types.at(-1)).toBe('response.completed');
          expect(types.filter((t) => t === 'response.output_text.delta')).toHaveLength(3);
          expect(deltas).toBe(COMPLETION);
          expect(completedUsage).toMatchObject({ input_tokens: 9, output_tokens: 3 });

          // The SDK's own stream helper assembles the same answer from the events.
          const helper = client(token).responses.stream({ model: 'chat-gpt', input: PROMPT });
          expect((await helper.finalResponse()).output_text).toBe(COMPLETION);

          const seen = upstreamCalls('/v1/responses');
          expect(seen).toHaveLength(3);
          for (const r of seen) expect(r.body.model).toBe(MODELS['chat-gpt'].providerModel);
        });

        it.runIf(enabled)('embeddings: the SDK asks for base64 and decodes what the upstream sent', async () => {
          const out = await client(token).embeddings.create({ model: 'embedder', input: ['first', 'second'] });
          expect(out.data).toHaveLength(2);
          expect(out.data[1]!.embedding).toHaveLength(8);
          expect(out.data[1]!.embedding[0]).toBeCloseTo(Math.sin(2), 2);
          const [seen] = upstreamCalls('/v1/embeddings');
          expect(seen!.body).toMatchObject({ model: MODELS.embedder.providerModel, input: ['first', 'second'], encoding_format: 'base64' });
        });

        it.runIf(enabled)('models: exactly the models this caller may invoke, and nothing is asked of the upstream', async () => {
          const ids: string[] = [];
          for await (const m of client(token).models.list()) ids.push(m.id);
          expect(ids.sort()).toEqual([...ALLOWED_MODELS].sort());
          expect(w.fake.requests).toEqual([]);
          // An agent the policy does not name may invoke nothing, and sees nothing.
          const stranger = await w.newAgent(`other-${label.replace(/\W/g, '')}-${backend}`);
          const none: string[] = [];
          for await (const m of client(await w.accessToken({ agent: stranger })).models.list()) none.push(m.id);
          expect(none).toEqual([]);
        });

        it.runIf(enabled)('a model the caller may not invoke: 403 model_not_allowed in OpenAI\'s shape, nothing forwarded', async () => {
          const err = await caught(client(token).chat.completions.create({ model: 'chat-mini', messages: user() }));
          expect(err).toBeInstanceOf(sdk.PermissionDeniedError);
          expect(err.status).toBe(403);
          expect(err.code).toBe('model_not_allowed');
          expect(err.error).toMatchObject({ code: 'model_not_allowed', param: null, message: expect.any(String), type: expect.any(String) });
          expect(err.headers.get('x-custos-reason')).toBe('model_not_allowed');
          expect(err.headers.get('server-timing')).toMatch(TIMING);

          const missing = await caught(client(token).chat.completions.create({ model: 'no-such-model', messages: user() }));
          expect(missing).toBeInstanceOf(sdk.NotFoundError);
          expect(missing.code).toBe('model_not_found');
          expect(missing.headers.get('x-custos-reason')).toBe('model_not_found');
          expect(w.fake.requests).toEqual([]);
        });

        it.runIf(enabled)('an API key addressed to the gateway works like a token', async () => {
          const { key } = await w.apiKey();
          const answer = await client(key).chat.completions.create({ model: 'chat-gpt', messages: user() });
          expect(answer.choices[0]!.message.content).toBe(COMPLETION);
          expect(upstreamCalls('/v1/chat/completions')).toHaveLength(1);
        });

        it.runIf(enabled)('a revoked token or API key is refused on the very next call', async () => {
          const t = await w.accessToken();
          await client(t).chat.completions.create({ model: 'chat-gpt', messages: user() });
          expect(await w.revokeToken(t)).toBe(200);
          const err = await caught(client(t).chat.completions.create({ model: 'chat-gpt', messages: user() }));
          expect(err).toBeInstanceOf(sdk.AuthenticationError);
          expect(err.code).toBe('invalid_token');
          expect(err.headers.get('x-custos-reason')).toBe('invalid_token');
          expect(err.headers.get('www-authenticate')).toContain(`resource_metadata="${w.gatewayUrl}/.well-known/oauth-protected-resource"`);

          const { id, key } = await w.apiKey();
          await client(key).chat.completions.create({ model: 'chat-gpt', messages: user() });
          await w.admin('POST', `/v1/api-keys/${id}/revoke`, { reason: 'test' });
          const keyErr = await caught(client(key).chat.completions.create({ model: 'chat-gpt', messages: user() }));
          expect(keyErr).toBeInstanceOf(sdk.AuthenticationError);
          expect(keyErr.code).toBe('invalid_token');
          expect(upstreamCalls('/v1/chat/completions')).toHaveLength(2);
        });

        it.runIf(enabled)('an exhausted daily budget: 429 budget_exhausted with Retry-After, the SDK\'s RateLimitError, nothing forwarded', async () => {
          const agent = await w.newAgent(`sdk-budget-${label.replace(/\W/g, '')}`);
          await w.admin('PUT', `/v1/limits/principal/${agent.name}`, { tokens_per_day: 1000, reason: 'test budget' });
          const c = client(await w.accessToken({ agent }));
          const seq = await w.lastSeq();
          // The upstream reports more than the call reserved: counted in full, so the budget is nearly spent.
          w.fake.next({ usage: { input: 900, output: 60 } });
          await c.chat.completions.create({ model: 'chat-gpt', messages: user('hi'), max_tokens: 16 });
          await w.waitForAudit('gateway.call_completed', seq, (e) => e.actor.principal_id === agent.id);
          const err = await caught(c.chat.completions.create({ model: 'chat-gpt', messages: user('hi'), max_tokens: 16 }));
          expect(err).toBeInstanceOf(sdk.RateLimitError);
          expect(err.status).toBe(429);
          expect(err.code).toBe('budget_exhausted');
          expect(err.headers.get('x-custos-reason')).toBe('budget_exhausted');
          expect(Number(err.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
          expect(upstreamCalls('/v1/chat/completions')).toHaveLength(1);
          // Other principals are not held by this one's budget.
          await client(token).chat.completions.create({ model: 'chat-gpt', messages: user('hi'), max_tokens: 16 });
        });

        it.runIf(enabled)('a client that aborts mid-stream: the upstream sees the cancel, and the call is recorded as aborted', async () => {
          const seq = await w.lastSeq();
          w.fake.next({ chunks: 40, chunkDelayMs: 100 });
          const ac = new AbortController();
          const stream = await client(token).chat.completions.create({ model: 'chat-gpt', messages: user(), stream: true }, { signal: ac.signal });
          let received = '';
          try {
            for await (const chunk of stream) {
              received += chunk.choices[0]?.delta?.content ?? '';
              if (received.length > 0) ac.abort();
            }
          } catch (error) {
            expect(error).toBeInstanceOf(sdk.APIUserAbortError);
          }
          expect(received.length).toBeGreaterThan(0);
          const closed = await w.fake.waitForClientClose((r) => r.path === '/v1/chat/completions');
          expect(closed.chunksSent).toBeLessThan(40);
          const completed = await w.waitForAudit('gateway.call_completed', seq, (e) => e.details.client_aborted === true);
          expect(completed).toMatchObject({ outcome: 'failure', target: { name: 'chat-gpt' } });
        });

        it.runIf(enabled)('an upstream that cannot be reached: 502 upstream_unavailable, the SDK\'s server error', async () => {
          const name = `dead-${label.replace(/\W/g, '')}-${backend}`;
          await w.admin('POST', '/v1/resources', { name, kind: 'model', owner: 'bootstrap-admin', classification: 'internal', risk_tier: 'low' });
          // A port that was free a moment ago: nothing listens there.
          const port = await new Promise<number>((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
          await w.admin('POST', '/v1/upstreams', { name, provider: 'openai', base_url: `http://127.0.0.1:${port}/v1`, key: w.fake.keys.openai, retries: 0, models: { [name]: 'gpt-4o' } });
          await activate(w.h, `${worldPolicy()}\n@id("sdk-agents-invoke-${name}")\npermit (principal is Custos::Agent, action == Custos::Action::"invoke", resource == Custos::Model::"${name}") when { principal.name like "sdk-*" };`);
          try {
            const err = await caught(client(token).chat.completions.create({ model: name, messages: user() }));
            expect(err).toBeInstanceOf(sdk.InternalServerError);
            expect(err.status).toBe(502);
            expect(err.code).toBe('upstream_unavailable');
            expect(err.headers.get('x-custos-reason')).toBe('upstream_unavailable');
          } finally {
            await activate(w.h, worldPolicy());
          }
        });

        it.runIf(enabled)('audit: the call (principal, model, upstream, purpose) is durable before the first byte comes back, then its completion with tokens and status; no text', async () => {
          const seq = await w.lastSeq();
          w.fake.next({ chunks: 3, usage: { input: 17, output: 5 } });
          const stream = await client(token).chat.completions.create({ model: 'chat-gpt', messages: user(), stream: true });
          // The gateway may forward while its record commits, but nothing may reach the client before it is durable:
          // the moment the first chunk is here, the call event must already be in the log.
          let recordedAtFirstChunk: AuditEvent[] | undefined;
          for await (const _chunk of stream) recordedAtFirstChunk ??= (await w.auditEvents('gateway.call', seq)).filter((e) => e.target?.name === 'chat-gpt');
          const calls = (await w.auditEvents('gateway.call', seq)).filter((e) => e.target?.name === 'chat-gpt');
          expect(calls).toHaveLength(1);
          const call = calls[0]!;
          expect(recordedAtFirstChunk?.map((e) => e.id)).toEqual([call.id]);
          expect(call).toMatchObject({
            type: 'gateway.call', action: 'invoke', decision: 'allow', outcome: 'success', purpose: 'support',
            target: { type: 'resource', name: 'chat-gpt' },
            actor: { principal_id: w.agent.id, principal_name: w.agent.name },
            details: { api: 'openai', operation: 'chat.completions', model: 'chat-gpt', provider_model: MODELS['chat-gpt'].providerModel, upstream: { name: 'fake-openai', provider: 'openai' }, stream: true },
          });
          expect(call.details.decision_event).toEqual(expect.any(String));
          const completed = await w.waitForAudit('gateway.call_completed', seq, (e) => e.details.call_event === call.id);
          expect(completed.seq).toBeGreaterThan(call.seq);
          expect(completed).toMatchObject({
            type: 'gateway.call_completed', outcome: 'success', purpose: 'support', target: { name: 'chat-gpt' }, actor: { principal_id: w.agent.id },
            details: { status: 200, input_tokens: 17, output_tokens: 5, upstream: 'fake-openai', client_aborted: false, stream: true },
          });
          const text = await w.auditText(seq);
          expect(text).not.toContain(PROMPT);
          expect(text).not.toContain(COMPLETION);
        });
      });
    }
  });
}
