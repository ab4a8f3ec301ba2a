import crypto from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ALLOWED_MODELS, MODELS, startGatewayWorld, type GatewayWorld } from '../support/gateway-world.js';

// The official @anthropic-ai/sdk pointed at the gateway (baseURL = the gateway; apiKey = a Custos token or API key,
// which the SDK sends as `x-api-key`): messages plain and streamed (the SDK's `.stream()` helper and raw
// `stream: true` events), count_tokens, the model list in Anthropic's shape, refusals in Anthropic's error shape
// with the Custos reason code, a revoked credential, a budget, a client abort. Behind the gateway the fake upstream
// checks it gets `x-api-key: <its own key>` and the provider's model id, never a Custos credential. SQLite only:
// sdk-openai.test.ts runs the same pipeline on both stores.

const marker = (what: string) => `${what}-${crypto.randomBytes(6).toString('hex')}`;
const PROMPT = marker('anthropic-prompt-never-audited');
const COMPLETION = `claude says ${marker('anthropic-completion-never-audited')} today`;
const user = (content = PROMPT) => [{ role: 'user' as const, content }];
const TIMING = /(^|,\s*)custos;dur=\d+(\.\d+)?/;

async function caught(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('the official Anthropic SDK through the gateway', () => {
  let w: GatewayWorld;
  let token: string;
  const client = (apiKey: string) => new Anthropic({ apiKey, baseURL: w.gatewayUrl, maxRetries: 0, timeout: 15_000 });
  const upstreamCalls = (path: string) => w.fake.requests.filter((r) => r.path === path);

  beforeAll(async () => {
    w = await startGatewayWorld('sqlite');
    w.fake.defaults({ text: COMPLETION });
    token = await w.accessToken();
  });
  afterEach(() => { if (w) w.assertUpstreamClean(); });
  afterAll(async () => {
    if (!w) return;
    const text = await w.auditText();
    expect(text).not.toContain(PROMPT);
    expect(text).not.toContain(COMPLETION.split(' ')[2]);
    await w.close();
  });

  it('messages: the answer and usage; the upstream gets x-api-key with its own key, the provider model and a version', async () => {
    w.fake.next({ usage: { input: 14, output: 6 } });
    const { data, response } = await client(token).messages.create({ model: 'claude', max_tokens: 128, messages: user() }).withResponse();
    expect(data.content).toEqual([{ type: 'text', text: COMPLETION }]);
    expect(data.usage).toMatchObject({ input_tokens: 14, output_tokens: 6 });
    expect(response.headers.get('server-timing')).toMatch(TIMING);
    const [seen, ...more] = upstreamCalls('/v1/messages');
    expect(more).toEqual([]);
    expect(seen!.headers['x-api-key']).toBe(w.fake.keys.anthropic);
    expect(seen!.headers.authorization).toBeUndefined();
    expect(seen!.headers['anthropic-version']).toBe('2023-06-01');
    expect(seen!.body).toMatchObject({ model: MODELS.claude.providerModel, max_tokens: 128, messages: user() });
  });

  it('streaming with the SDK\'s .stream() helper: text events in order, the final message with usage', async () => {
    w.fake.next({ chunks: 5, usage: { input: 20, output: 5 } });
    const stream = client(token).messages.stream({ model: 'claude', max_tokens: 64, messages: user() });
    const pieces: string[] = [];
    stream.on('text', (t) => pieces.push(t));
    const final = await stream.finalMessage();
    expect(pieces).toHaveLength(5);
    expect(pieces.join('')).toBe(COMPLETION);
    expect(final.content).toEqual([{ type: 'text', text: COMPLETION }]);
    expect(final.usage).toMatchObject({ input_tokens: 20, output_tokens: 5 });
    expect(final.stop_reason).toBe('end_turn');
    const [seen] = upstreamCalls('/v1/messages');
    expect(seen!.body).toMatchObject({ model: MODELS.claude.providerModel, stream: true });
  });

  it('streaming with stream: true: the raw events message_start … message_stop pass through', async () => {
    w.fake.next({ chunks: 2, usage: { input: 3, output: 2 } });
    const stream = await client(token).messages.create({ model: 'claude', max_tokens: 64, messages: user(), stream: true });
    const types: string[] = [];
    let outputTokens: number | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'message_delta') outputTokens = event.usage.output_tokens;
    }
    expect(types).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    expect(outputTokens).toBe(2);
  });

  it('count_tokens is governed like a call and forwarded with the provider model', async () => {
    w.fake.next({ usage: { input: 42, output: 0 } });
    const counted = await client(token).messages.countTokens({ model: 'claude', messages: user() });
    expect(counted).toEqual({ input_tokens: 42 });
    const [seen] = upstreamCalls('/v1/messages/count_tokens');
    expect(seen!.body.model).toBe(MODELS.claude.providerModel);
    const err = await caught(client(token).messages.countTokens({ model: 'claude-opus', messages: user() }));
    expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(upstreamCalls('/v1/messages/count_tokens')).toHaveLength(1);
  });

  it('the model list, in Anthropic\'s shape, holds exactly the models the caller may invoke', async () => {
    const ids: string[] = [];
    for await (const m of client(token).models.list()) ids.push(m.id);
    expect(ids.sort()).toEqual([...ALLOWED_MODELS].sort());
    expect(w.fake.requests).toEqual([]);
  });

  it('a model the caller may not invoke: 403 in Anthropic\'s error shape with custos_code, nothing forwarded', async () => {
    const err = await caught(client(token).messages.create({ model: 'claude-opus', max_tokens: 16, messages: user() }));
    expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(err.status).toBe(403);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'permission_error', message: expect.any(String), custos_code: 'model_not_allowed' } });
    expect(err.headers.get('x-custos-reason')).toBe('model_not_allowed');
    expect(err.headers.get('server-timing')).toMatch(TIMING);

    const missing = await caught(client(token).messages.create({ model: 'no-such-model', max_tokens: 16, messages: user() }));
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
    expect(missing.error).toMatchObject({ type: 'error', error: { type: 'not_found_error', custos_code: 'model_not_found' } });
    expect(w.fake.requests).toEqual([]);
  });

  it('an OpenAI model through the Messages API is refused: the gateway forwards, it does not translate', async () => {
    const err = await caught(client(token).messages.create({ model: 'chat-gpt', max_tokens: 16, messages: user() }));
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.error.error.custos_code).toBe('wrong_api');
    expect(w.fake.requests).toEqual([]);
  });

  it('an API key in x-api-key works; revoked, it is refused on the very next call', async () => {
    const { id, key } = await w.apiKey();
    const answer = await client(key).messages.create({ model: 'claude', max_tokens: 16, messages: user() });
    expect(answer.content[0]).toEqual({ type: 'text', text: COMPLETION });
    await w.admin('POST', `/v1/api-keys/${id}/revoke`, { reason: 'test' });
    const err = await caught(client(key).messages.create({ model: 'claude', max_tokens: 16, messages: user() }));
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'authentication_error', custos_code: 'invalid_token' } });
    expect(err.headers.get('www-authenticate')).toContain(`resource_metadata="${w.gatewayUrl}/.well-known/oauth-protected-resource"`);
    expect(upstreamCalls('/v1/messages')).toHaveLength(1);
  });

  it('a revoked access token (RFC 7009 revocation) is refused on the very next call', async () => {
    const t = await w.accessToken();
    await client(t).messages.create({ model: 'claude', max_tokens: 16, messages: user() });
    expect(await w.revokeToken(t)).toBe(200);
    const err = await caught(client(t).messages.create({ model: 'claude', max_tokens: 16, messages: user() }));
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(err.error.error.custos_code).toBe('invalid_token');
    expect(upstreamCalls('/v1/messages')).toHaveLength(1);
  });

  it('an exhausted budget: 429 budget_exhausted with Retry-After, the SDK\'s RateLimitError', async () => {
    const agent = await w.newAgent('sdk-budget-anthropic');
    await w.admin('PUT', `/v1/limits/principal/${agent.name}`, { tokens_per_day: 1000, reason: 'test budget' });
    const c = client(await w.accessToken({ agent }));
    const seq = await w.lastSeq();
    w.fake.next({ usage: { input: 900, output: 60 } });
    await c.messages.create({ model: 'claude', max_tokens: 16, messages: user('hi') });
    await w.waitForAudit('gateway.call_completed', seq, (e) => e.actor.principal_id === agent.id);
    const err = await caught(c.messages.create({ model: 'claude', max_tokens: 16, messages: user('hi') }));
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error', custos_code: 'budget_exhausted' } });
    expect(err.headers.get('x-custos-reason')).toBe('budget_exhausted');
    expect(Number(err.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(upstreamCalls('/v1/messages')).toHaveLength(1);
  });

  it('a client that aborts mid-stream: the upstream sees the cancel', async () => {
    const seq = await w.lastSeq();
    w.fake.next({ chunks: 40, chunkDelayMs: 100 });
    const stream = client(token).messages.stream({ model: 'claude', max_tokens: 256, messages: user() });
    await new Promise<void>((resolve) => stream.on('text', () => resolve()));
    stream.abort();
    await stream.done().catch(() => undefined);
    const closed = await w.fake.waitForClientClose((r) => r.path === '/v1/messages');
    expect(closed.chunksSent).toBeLessThan(40);
    const completed = await w.waitForAudit('gateway.call_completed', seq, (e) => e.details.client_aborted === true);
    expect(completed).toMatchObject({ outcome: 'failure', target: { name: 'claude' } });
  });

  it('audit: gateway.call names principal, model, upstream; gateway.call_completed carries tokens and status', async () => {
    const seq = await w.lastSeq();
    w.fake.next({ usage: { input: 33, output: 7 } });
    await client(token).messages.create({ model: 'claude', max_tokens: 16, messages: user() });
    const [call] = await w.auditEvents('gateway.call', seq);
    // Completions are written with the next commit: an earlier call's may land after `seq` too.
    const completed = await w.waitForAudit('gateway.call_completed', seq, (e) => e.details.call_event === (call as { id?: string }).id);
    expect(call).toMatchObject({
      outcome: 'success', target: { name: 'claude' }, actor: { principal_id: w.agent.id },
      details: { api: 'anthropic', model: 'claude', provider_model: MODELS.claude.providerModel, upstream: { name: 'fake-anthropic', provider: 'anthropic' } },
    });
    expect(completed).toMatchObject({ details: { status: 200, input_tokens: 33, output_tokens: 7, upstream: 'fake-anthropic' } });
    const text = await w.auditText(seq);
    expect(text).not.toContain(PROMPT);
    expect(text).not.toContain(COMPLETION);
  });
});
