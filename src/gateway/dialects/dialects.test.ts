import { describe, expect, it } from 'vitest';
import type { UpstreamRoute } from '../upstreams/catalog.js';
import { anthropic } from './anthropic.js';
import { openai } from './openai.js';

// The wire formats' pure rules: where a call goes upstream and with which key header, what the body becomes,
// what limits reserve, and how usage is read from answers and streams.

const route = (provider: UpstreamRoute['upstream']['provider'], key: string | null = 'sk-up-123456', settings = {}): UpstreamRoute => ({
  resource: { id: 'r1', name: 'gpt', kind: 'model' },
  upstream: { id: 'u1', name: 'up', provider, baseUrl: 'https://up.example/v1', timeoutMs: 1000, retries: 0, settings },
  providerModel: 'gpt-4o', key,
});

describe('openai dialect', () => {
  it('sends the upstream key as a bearer token and nothing of the caller', () => {
    const r = openai.upstreamRequest(route('openai'), 'chat.completions', { authorization: 'Bearer custos_ak_x', 'x-api-key': 'custos_ak_x', cookie: 'a=b', 'openai-beta': 'assistants=v2' });
    expect(r.url).toBe('https://up.example/v1/chat/completions');
    expect(r.headers).toEqual({ 'content-type': 'application/json', authorization: 'Bearer sk-up-123456', 'openai-beta': 'assistants=v2' });
  });
  it('a keyless local upstream gets no authorization header', () => {
    expect(openai.upstreamRequest(route('openai-compatible', null), 'embeddings', {}).headers.authorization).toBeUndefined();
  });
  it('azure with an api_version uses the deployment path and the api-key header', () => {
    const r = openai.upstreamRequest(route('azure-openai', 'azkey-123456', { api_version: '2024-10-21' }), 'chat.completions', {});
    expect(r.url).toBe('https://up.example/v1/deployments/gpt-4o/chat/completions?api-version=2024-10-21');
    expect(r.headers['api-key']).toBe('azkey-123456');
    expect(r.headers.authorization).toBeUndefined();
  });
  it('replaces the model and asks a streamed chat for usage, keeping the client options', () => {
    const body = openai.upstreamBody(route('openai'), 'chat.completions', { model: 'gpt', stream: true, stream_options: { x: 1 }, messages: [] });
    expect(body).toEqual({ model: 'gpt-4o', stream: true, stream_options: { x: 1, include_usage: true }, messages: [] });
    expect(openai.upstreamBody(route('openai'), 'responses', { model: 'gpt', stream: true })).toEqual({ model: 'gpt-4o', stream: true });
  });
  it('reserves the named output maximum, else the default; embeddings none', () => {
    expect(openai.maxOutputTokens('chat.completions', { max_completion_tokens: 50, max_tokens: 90 })).toBe(50);
    expect(openai.maxOutputTokens('chat.completions', { max_tokens: 90 })).toBe(90);
    expect(openai.maxOutputTokens('chat.completions', { max_tokens: -1 })).toBe(4096);
    expect(openai.maxOutputTokens('responses', { max_output_tokens: 7 })).toBe(7);
    expect(openai.maxOutputTokens('embeddings', { max_tokens: 7 })).toBe(0);
    expect(openai.maxOutputTokens('chat.completions', { max_tokens: 90, n: 3 })).toBe(270);
    expect(openai.maxOutputTokens('chat.completions', { n: 2 })).toBe(8192);
    expect(openai.maxOutputTokens('chat.completions', { max_tokens: 90, n: 'x' })).toBe(90);
  });
  it('reads usage and text from answers', () => {
    expect(openai.usageFromJson('chat.completions', { usage: { prompt_tokens: 3, completion_tokens: 4 } })).toEqual({ inputTokens: 3, outputTokens: 4 });
    expect(openai.usageFromJson('embeddings', { usage: { prompt_tokens: 8 } })).toEqual({ inputTokens: 8, outputTokens: 0 });
    expect(openai.usageFromJson('responses', { usage: { input_tokens: 2, output_tokens: 5 } })).toEqual({ inputTokens: 2, outputTokens: 5 });
    expect(openai.usageFromJson('chat.completions', { usage: { prompt_tokens: 'x' } })).toEqual({ inputTokens: null, outputTokens: null });
    expect(openai.textFromJson('chat.completions', { choices: [{ message: { content: 'hi' } }, { message: { content: [{ type: 'text', text: '!' }] } }] })).toBe('hi!');
  });
  it('reads usage and text from a chat stream and a responses stream', () => {
    const chat = openai.tap('chat.completions', {});
    chat.onEvent(undefined, JSON.stringify({ choices: [{ delta: { content: 'he' } }] }));
    chat.onEvent(undefined, 'not json');
    chat.onEvent(undefined, JSON.stringify({ choices: [{ delta: { content: 'y' } }] }));
    chat.onEvent(undefined, JSON.stringify({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 2 } }));
    chat.onEvent(undefined, '[DONE]');
    expect(chat.usage()).toEqual({ inputTokens: 9, outputTokens: 2 });
    expect(chat.text()).toBe('hey');
    const resp = openai.tap('responses', {});
    resp.onEvent('response.output_text.delta', JSON.stringify({ type: 'response.output_text.delta', delta: 'ok' }));
    resp.onEvent('response.completed', JSON.stringify({ type: 'response.completed', response: { usage: { input_tokens: 4, output_tokens: 1 } } }));
    expect(resp.usage()).toEqual({ inputTokens: 4, outputTokens: 1 });
    expect(resp.text()).toBe('ok');
  });
  it('a stream without usage reports none (the reservation then stays counted)', () => {
    const chat = openai.tap('chat.completions', {});
    chat.onEvent(undefined, JSON.stringify({ choices: [{ delta: { content: 'a' } }] }));
    expect(chat.usage()).toEqual({ inputTokens: null, outputTokens: null });
  });
  it('hides the usage chunk from a client that did not ask for it, and only that chunk', () => {
    const usageChunk = JSON.stringify({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } });
    const content = JSON.stringify({ choices: [{ delta: { content: 'a' } }] });
    const hide = openai.tap('chat.completions', { stream: true }).hide!;
    expect(hide(undefined, usageChunk)).toBe(true);
    expect(hide(undefined, content)).toBe(false);
    expect(hide(undefined, '[DONE]')).toBe(false);
    expect(openai.tap('chat.completions', { stream: true, stream_options: { include_usage: true } }).hide).toBeUndefined();
    expect(openai.tap('responses', { stream: true }).hide).toBeUndefined();
  });
  it('refusals carry the Custos code in the OpenAI error shape', () => {
    expect(openai.errorBody(429, 'budget_exhausted', 'm')).toEqual({ error: { message: 'm', type: 'rate_limit_error', code: 'budget_exhausted', param: null } });
    expect(openai.errorBody(403, 'model_not_allowed', 'm')).toMatchObject({ error: { type: 'permission_error' } });
  });
});

describe('anthropic dialect', () => {
  it('sends x-api-key and the client version (default 2023-06-01), never the caller credential', () => {
    const r = anthropic.upstreamRequest(route('anthropic'), 'messages', { 'x-api-key': 'custos_ak_x', authorization: 'Bearer custos_ak_x' });
    expect(r.url).toBe('https://up.example/v1/messages');
    expect(r.headers).toEqual({ 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-up-123456' });
    const c = anthropic.upstreamRequest(route('anthropic'), 'count_tokens', { 'anthropic-version': '2024-01-01', 'anthropic-beta': 'b1' });
    expect(c.url).toBe('https://up.example/v1/messages/count_tokens');
    expect(c.headers['anthropic-beta']).toBe('b1');
    expect(c.headers['anthropic-version']).toBe('2024-01-01');
  });
  it('reads usage from message_start and the last message_delta', () => {
    const tap = anthropic.tap('messages', {});
    tap.onEvent('message_start', JSON.stringify({ type: 'message_start', message: { usage: { input_tokens: 12, output_tokens: 1 } } }));
    tap.onEvent('content_block_delta', JSON.stringify({ type: 'content_block_delta', delta: { type: 'text_delta', text: 'Hi' } }));
    tap.onEvent('message_delta', JSON.stringify({ type: 'message_delta', usage: { output_tokens: 5 } }));
    tap.onEvent('message_delta', JSON.stringify({ type: 'message_delta', usage: { output_tokens: 7 } }));
    expect(tap.usage()).toEqual({ inputTokens: 12, outputTokens: 7 });
    expect(tap.text()).toBe('Hi');
  });
  it('count_tokens uses no tokens; messages reserve max_tokens', () => {
    expect(anthropic.usageFromJson('count_tokens', { input_tokens: 40 })).toEqual({ inputTokens: 0, outputTokens: 0 });
    expect(anthropic.maxOutputTokens('count_tokens', { max_tokens: 10 })).toBe(0);
    expect(anthropic.maxOutputTokens('messages', { max_tokens: 10 })).toBe(10);
    expect(anthropic.usageFromJson('messages', { usage: { input_tokens: 1, output_tokens: 2 } })).toEqual({ inputTokens: 1, outputTokens: 2 });
  });
  it('refusals use the Anthropic error shape with custos_code', () => {
    expect(anthropic.errorBody(401, 'invalid_token', 'm')).toEqual({ type: 'error', error: { type: 'authentication_error', message: 'm', custos_code: 'invalid_token' } });
  });
});
