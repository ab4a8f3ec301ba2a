import type { UpstreamRoute } from '../upstreams/catalog.js';
import { asRecord, count, errorType, parseJson, textOf, type Dialect, type Usage, type UsageTap } from './index.js';

// The Anthropic Messages wire format: `/v1/messages` and `/v1/messages/count_tokens`.
//
// Rules:
// - Upstream paths are the base URL + `/messages` and `/messages/count_tokens`, with `x-api-key: <upstream key>` and
//   the client's `anthropic-version` (2023-06-01 when it sent none) and `anthropic-beta`.
// - Usage: `usage.input_tokens`/`output_tokens` of the answer; in a stream, `message_start` carries the input
//   tokens and each `message_delta` the output tokens so far (the last one counts). count_tokens uses no tokens.
// - Errors: `{ type: 'error', error: { type, message, custos_code } }`.

export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';
const DEFAULT_MAX_TOKENS = 4096;

export const anthropic: Dialect = {
  api: 'anthropic',
  providers: new Set(['anthropic']),

  errorBody(status, code, message) {
    return { type: 'error', error: { type: errorType(status), message, custos_code: code } };
  },

  upstreamRequest(route: UpstreamRoute, operation, clientHeaders) {
    const path = operation === 'count_tokens' ? '/messages/count_tokens' : '/messages';
    const version = clientHeaders['anthropic-version'];
    const beta = clientHeaders['anthropic-beta'];
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'anthropic-version': typeof version === 'string' ? version : DEFAULT_ANTHROPIC_VERSION,
    };
    if (typeof beta === 'string') headers['anthropic-beta'] = beta;
    if (typeof clientHeaders.accept === 'string') headers.accept = clientHeaders.accept;
    if (route.key !== null) headers['x-api-key'] = route.key;
    return { url: `${route.upstream.baseUrl}${path}`, headers };
  },

  upstreamBody(route, _operation, body) {
    return { ...body, model: route.providerModel };
  },

  maxOutputTokens(operation, body) {
    if (operation === 'count_tokens') return 0;
    const named = body.max_tokens;
    return typeof named === 'number' && Number.isSafeInteger(named) && named > 0 ? named : DEFAULT_MAX_TOKENS;
  },

  usageFromJson(operation, body) {
    const b = asRecord(body);
    if (operation === 'count_tokens') return { inputTokens: 0, outputTokens: 0 };
    const u = asRecord(b?.usage);
    return { inputTokens: count(u?.input_tokens), outputTokens: count(u?.output_tokens) };
  },

  textFromJson(_operation, body) {
    return textOf(asRecord(body)?.content);
  },

  tap(): UsageTap {
    const usage: Usage = { inputTokens: null, outputTokens: null };
    const parts: string[] = [];
    return {
      onEvent(event, data) {
        const e = asRecord(parseJson(data));
        if (!e) return;
        const type = typeof e.type === 'string' ? e.type : event;
        if (type === 'message_start') {
          const u = asRecord(asRecord(e.message)?.usage);
          usage.inputTokens = count(u?.input_tokens);
          usage.outputTokens = count(u?.output_tokens);
        } else if (type === 'message_delta') {
          const u = asRecord(e.usage);
          if (count(u?.output_tokens) !== null) usage.outputTokens = count(u?.output_tokens);
          if (count(u?.input_tokens) !== null) usage.inputTokens = count(u?.input_tokens);
        } else if (type === 'content_block_delta') {
          const text = asRecord(e.delta)?.text;
          if (typeof text === 'string') parts.push(text);
        }
      },
      usage: () => ({ ...usage }),
      text: () => parts.join(''),
    };
  },
};
