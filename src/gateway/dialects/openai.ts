import type { UpstreamRoute } from '../upstreams/catalog.js';
import { asRecord, count, errorType, parseJson, textOf, type Dialect, type Operation, type Usage, type UsageTap } from './index.js';

// The OpenAI wire format: chat completions, embeddings, responses, models — spoken by OpenAI, Azure OpenAI and every
// OpenAI-compatible server (vLLM, Ollama, llama.cpp, LM Studio).
//
// Rules:
// - Upstream paths are the base URL + `/chat/completions`, `/embeddings`, `/responses`. Azure OpenAI with an
//   `api_version` setting uses its deployment form (`/deployments/<provider model>/…?api-version=…`) and the
//   `api-key` header; every other upstream gets `Authorization: Bearer <upstream key>` (none for a keyless local one).
// - A streamed chat completion always asks for usage (`stream_options.include_usage`): the limits settle on it. A
//   client that did not ask for it does not see that last chunk (empty `choices`, with `usage`): it is read and dropped.
// - Default output maximum when the body names none: 4096 tokens (what token limits reserve), times `n` for a chat
//   completion asking for several choices.
// - Errors: `{ error: { message, type, code, param } }` with `code` = the Custos reason code.

export const DEFAULT_MAX_OUTPUT_TOKENS = 4096;

const PATHS: Partial<Record<Operation, string>> = { 'chat.completions': '/chat/completions', embeddings: '/embeddings', responses: '/responses' };
const FORWARDED_HEADERS = ['accept', 'openai-beta'];

function usageOf(operation: Operation, u: Record<string, unknown> | undefined): Usage {
  if (!u) return { inputTokens: null, outputTokens: null };
  if (operation === 'responses') return { inputTokens: count(u.input_tokens), outputTokens: count(u.output_tokens) };
  if (operation === 'embeddings') return { inputTokens: count(u.prompt_tokens), outputTokens: 0 };
  return { inputTokens: count(u.prompt_tokens), outputTokens: count(u.completion_tokens) };
}

export const openai: Dialect = {
  api: 'openai',
  providers: new Set(['openai', 'azure-openai', 'openai-compatible']),

  errorBody(status, code, message) {
    return { error: { message, type: errorType(status), code, param: null } };
  },

  upstreamRequest(route: UpstreamRoute, operation, clientHeaders) {
    const path = PATHS[operation];
    if (!path) throw new Error(`operation ${operation} is not forwarded`);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const name of FORWARDED_HEADERS) {
      const v = clientHeaders[name];
      if (typeof v === 'string') headers[name] = v;
    }
    const { upstream } = route;
    if (upstream.provider === 'azure-openai') {
      if (route.key !== null) headers['api-key'] = route.key;
      const version = upstream.settings.api_version;
      if (version) {
        return { url: `${upstream.baseUrl}/deployments/${encodeURIComponent(route.providerModel)}${path}?api-version=${encodeURIComponent(version)}`, headers };
      }
      return { url: `${upstream.baseUrl}${path}`, headers };
    }
    if (route.key !== null) headers.authorization = `Bearer ${route.key}`;
    return { url: `${upstream.baseUrl}${path}`, headers };
  },

  upstreamBody(route, operation, body) {
    const out: Record<string, unknown> = { ...body, model: route.providerModel };
    if (operation === 'chat.completions' && body.stream === true) {
      out.stream_options = { ...(asRecord(body.stream_options) ?? {}), include_usage: true };
    }
    return out;
  },

  maxOutputTokens(operation, body) {
    if (operation === 'embeddings') return 0;
    const named = operation === 'responses' ? body.max_output_tokens : body.max_completion_tokens ?? body.max_tokens;
    const each = typeof named === 'number' && Number.isSafeInteger(named) && named > 0 ? named : DEFAULT_MAX_OUTPUT_TOKENS;
    // `n` choices are generated, each up to the maximum.
    const n = operation === 'chat.completions' && typeof body.n === 'number' && Number.isSafeInteger(body.n) && body.n > 1 ? body.n : 1;
    return each * n;
  },

  usageFromJson(operation, body) {
    return usageOf(operation, asRecord(asRecord(body)?.usage));
  },

  textFromJson(operation, body) {
    const b = asRecord(body);
    if (!b) return '';
    if (operation === 'chat.completions') {
      return (Array.isArray(b.choices) ? b.choices : []).map((c) => textOf(asRecord(asRecord(c)?.message)?.content)).join('');
    }
    if (operation === 'responses') {
      return (Array.isArray(b.output) ? b.output : []).map((o) => textOf(asRecord(o)?.content)).join('');
    }
    return '';
  },

  tap(operation, body): UsageTap {
    let usage: Usage = { inputTokens: null, outputTokens: null };
    const parts: string[] = [];
    // The client did not ask for the usage chunk: the gateway did, for the limits; it is read and not passed on.
    const clientAskedUsage = asRecord(body.stream_options)?.include_usage === true;
    const hide = operation === 'chat.completions' && !clientAskedUsage
      ? (_event: string | undefined, data: string) => {
        const chunk = asRecord(parseJson(data));
        return chunk !== undefined && asRecord(chunk.usage) !== undefined && Array.isArray(chunk.choices) && chunk.choices.length === 0;
      }
      : undefined;
    return {
      hide,
      onEvent(_event, data) {
        if (data === '[DONE]') return;
        const chunk = asRecord(parseJson(data));
        if (!chunk) return;
        if (operation === 'responses') {
          if (chunk.type === 'response.output_text.delta' && typeof chunk.delta === 'string') parts.push(chunk.delta);
          if (chunk.type === 'response.completed' || chunk.type === 'response.incomplete' || chunk.type === 'response.failed') {
            usage = usageOf(operation, asRecord(asRecord(chunk.response)?.usage));
          }
          return;
        }
        for (const c of Array.isArray(chunk.choices) ? chunk.choices : []) {
          const content = asRecord(asRecord(c)?.delta)?.content;
          if (typeof content === 'string') parts.push(content);
        }
        if (asRecord(chunk.usage)) usage = usageOf(operation, asRecord(chunk.usage));
      },
      usage: () => usage,
      text: () => parts.join(''),
    };
  },
};
