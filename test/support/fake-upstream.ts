import http from 'node:http';
import type { AddressInfo } from 'node:net';

// A local model provider for the gateway tests: a real HTTP server on 127.0.0.1 speaking the OpenAI and Anthropic
// wire formats closely enough that the gateway (and, through it, the official SDKs) cannot tell it from the real
// thing, and that keeps watch on what the gateway sends it.
// Rules:
// - OpenAI (`/v1/chat/completions`, `/v1/embeddings`, `/v1/responses`, `GET /v1/models`) wants exactly
//   `Authorization: Bearer <openai key>`; Anthropic (`/v1/messages`, `/v1/messages/count_tokens`) wants exactly
//   `x-api-key: <anthropic key>` and an `anthropic-version`, as the real APIs do. Anything else is 401 in the
//   provider's shape, recorded as a violation.
// - A Custos credential anywhere in what it receives (a `custos_…` string, or any JWT, in any header or in the body)
//   is a violation too: the gateway must never forward the caller's credential. `assertClean()` throws on any
//   violation; gateway-world calls it after every test, so a leak fails the test that caused it.
// - Every request is recorded (method, path, headers as received, parsed body), and whether the client side closed
//   the connection before the answer was finished (the gateway cancelling upstream when its client aborts).
// - Behaviour is scripted: `next()` queues one-shot behaviours taken by the next requests in order, `defaults()` sets
//   what the rest get: a delay before answering, N chunks some milliseconds apart when streaming, a status and
//   error body, given usage numbers, a given completion text, a hook run when the request arrives (before answering).
// - Bodies are checked the way the providers check them (a model, messages or input, Anthropic's max_tokens), so a
//   gateway that mangles a body gets the provider's 400, not a silent success.

export type Family = 'openai' | 'anthropic';

export interface RecordedRequest {
  method: string;
  path: string;
  family: Family | 'unknown';
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (undefined when there was none or it was not JSON). */
  body: any;
  rawBody: string;
  /** Set once the answer is complete or the connection closed. */
  outcome: 'pending' | 'finished' | 'client_closed';
  /** Stream chunks written before the end (or the client's close). */
  chunksSent: number;
}

export interface Behaviour {
  /** Milliseconds before the status line is sent. */
  delayMs?: number;
  /** Answer with this status and `error` body (JSON) instead of a completion. */
  status?: number;
  error?: unknown;
  /** Extra response headers (e.g. `retry-after` on an upstream 429). */
  headers?: Record<string, string>;
  /** Usage the answer reports. Default: input 12, output = the number of content chunks (plain: 5). */
  usage?: { input: number; output: number };
  /** Content chunks in a streamed answer (default 3), `chunkDelayMs` apart (default 0). */
  chunks?: number;
  chunkDelayMs?: number;
  /** The completion text (split into the chunks when streaming). */
  text?: string;
  /** Awaited when the request has arrived, before anything is answered (a test looks at the world at that moment). */
  onArrival?: (r: RecordedRequest) => unknown;
}

export interface FakeUpstream {
  /** http://127.0.0.1:<port> (upstreams get `<url>/v1` as base URL). */
  url: string;
  readonly keys: { openai: string; anthropic: string };
  requests: RecordedRequest[];
  violations: string[];
  /** One-shot behaviours for the next requests, in order. */
  next(...b: Behaviour[]): void;
  /** Behaviour of requests with no queued one-shot behaviour. */
  defaults(b: Behaviour): void;
  /** Resolves when a request's client side closes before the answer finished (or rejects after timeoutMs). */
  waitForClientClose(predicate?: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  /** Resolves when a request matching the predicate has arrived. */
  waitForRequest(predicate?: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  /** Throws if any violation was seen since the last reset, naming them. */
  assertClean(): void;
  /** Forget recorded requests, violations and queued one-shot behaviours (the defaults stay). */
  reset(): void;
  close(): Promise<void>;
}

export const DEFAULT_TEXT = 'fake upstream says hello from the model';

const CUSTOS_SECRET = /custos_[a-z]{2}_/i;
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function familyOf(path: string): Family | 'unknown' {
  if (path === '/v1/messages' || path === '/v1/messages/count_tokens') return 'anthropic';
  if (['/v1/chat/completions', '/v1/embeddings', '/v1/responses', '/v1/models'].includes(path) || path.startsWith('/v1/models/')) return 'openai';
  return 'unknown';
}

/** The credential problems of one request; empty when it carries exactly the provider key. */
export function credentialViolations(family: Family | 'unknown', headers: http.IncomingHttpHeaders, rawBody: string, keys: { openai: string; anthropic: string }): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value ?? '']) {
      if (CUSTOS_SECRET.test(v)) out.push(`a Custos credential (custos_…) in header ${name}`);
      else if (JWT_SHAPE.test(v)) out.push(`a JWT (a Custos access token?) in header ${name}`);
    }
  }
  if (CUSTOS_SECRET.test(rawBody)) out.push('a Custos credential (custos_…) in the body');
  if (JWT_SHAPE.test(rawBody)) out.push('a JWT in the body');
  if (family === 'openai') {
    if (headers.authorization !== `Bearer ${keys.openai}`) out.push(`openai: Authorization is not exactly "Bearer <upstream key>" (${headers.authorization === undefined ? 'absent' : 'a different value'})`);
    if (headers['x-api-key'] !== undefined) out.push('openai: an x-api-key header was sent');
  } else if (family === 'anthropic') {
    if (headers['x-api-key'] !== keys.anthropic) out.push(`anthropic: x-api-key is not exactly the upstream key (${headers['x-api-key'] === undefined ? 'absent' : 'a different value'})`);
    if (headers.authorization !== undefined) out.push('anthropic: an Authorization header was sent');
  }
  return out;
}

/** Float32 little-endian, base64: what OpenAI returns for `encoding_format: "base64"` (the openai SDK's default). */
function base64Floats(values: number[]): string {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString('base64');
}

/** `text` in `n` consecutive pieces (by characters, none empty while the text is long enough) that join back to it. */
function splitText(text: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(text.slice(Math.floor((i * text.length) / n), Math.floor(((i + 1) * text.length) / n)));
  return out;
}

export async function startFakeUpstream(opts: { keys?: { openai?: string; anthropic?: string } } = {}): Promise<FakeUpstream> {
  const keys = {
    openai: opts.keys?.openai ?? `sk-fake-openai-${Math.random().toString(36).slice(2, 14)}`,
    anthropic: opts.keys?.anthropic ?? `sk-ant-fake-${Math.random().toString(36).slice(2, 14)}`,
  };
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  let queue: Behaviour[] = [];
  let base: Behaviour = {};
  let seq = 0;
  const listeners = new Set<() => void>();
  const notify = () => { for (const l of [...listeners]) l(); };
  const sockets = new Set<import('node:net').Socket>();

  function waitFor(cond: () => RecordedRequest | undefined, what: string, timeoutMs: number): Promise<RecordedRequest> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = cond();
        if (!hit) return false;
        listeners.delete(check as () => void);
        clearTimeout(timer);
        resolve(hit);
        return true;
      };
      const timer = setTimeout(() => { listeners.delete(check as () => void); reject(new Error(`fake upstream: no ${what} within ${timeoutMs} ms (saw ${requests.map((r) => `${r.method} ${r.path} ${r.outcome}`).join(', ') || 'nothing'})`)); }, timeoutMs);
      if (!check()) listeners.add(check as () => void);
    });
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => { void handle(req, res, Buffer.concat(chunks).toString('utf8')); });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, rawBody: string) {
    const path = (req.url ?? '/').split('?')[0]!;
    const family = familyOf(path);
    let body: any;
    try { body = rawBody ? JSON.parse(rawBody) : undefined; } catch { body = undefined; }
    const rec: RecordedRequest = { method: req.method ?? 'GET', path, family, headers: req.headers, body, rawBody, outcome: 'pending', chunksSent: 0 };
    requests.push(rec);
    res.on('close', () => {
      if (rec.outcome === 'pending') rec.outcome = res.writableFinished ? 'finished' : 'client_closed';
      notify();
    });
    notify();
    const b: Behaviour = { ...base, ...(queue.shift() ?? {}) };
    const id = ++seq;

    const json = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_fake_${id}`, ...b.headers, ...headers });
      res.end(JSON.stringify(payload));
    };
    const openaiError = (status: number, message: string, type: string, code: string | null = null) =>
      json(status, { error: { message, type, param: null, code } });
    const anthropicError = (status: number, type: string, message: string) =>
      json(status, { type: 'error', error: { type, message }, request_id: `req_fake_${id}` }, { 'request-id': `req_fake_${id}` });

    const problems = credentialViolations(family, req.headers, rawBody, keys);
    if (problems.length) {
      violations.push(...problems.map((p) => `${rec.method} ${path}: ${p}`));
      if (family === 'anthropic') return anthropicError(401, 'authentication_error', 'invalid x-api-key');
      return openaiError(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    }
    if (b.onArrival) await b.onArrival(rec);
    if (b.delayMs) await sleep(b.delayMs);
    if (res.destroyed) return;
    if (b.status !== undefined) {
      return json(b.status, b.error ?? (family === 'anthropic'
        ? { type: 'error', error: { type: 'api_error', message: `scripted ${b.status}` } }
        : { error: { message: `scripted ${b.status}`, type: 'server_error', param: null, code: null } }));
    }

    const text = b.text ?? DEFAULT_TEXT;
    const nChunks = Math.max(1, b.chunks ?? 3);
    const usageFor = (streamed: boolean) => b.usage ?? { input: 12, output: streamed ? nChunks : 5 };
    const created = Math.floor(Date.now() / 1000);

    const sse = async (events: Array<{ event?: string; data: unknown } | 'chunk-pause'>, done: boolean) => {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': `req_fake_${id}`, ...b.headers });
      res.flushHeaders();
      for (const e of events) {
        if (res.destroyed) return;
        if (e === 'chunk-pause') {
          rec.chunksSent++;
          if (b.chunkDelayMs) await sleep(b.chunkDelayMs);
          continue;
        }
        res.write(`${e.event ? `event: ${e.event}\n` : ''}data: ${JSON.stringify(e.data)}\n\n`);
      }
      if (res.destroyed) return;
      if (done) res.write('data: [DONE]\n\n');
      res.end();
    };

    if (req.method === 'GET' && (path === '/v1/models')) {
      return json(200, { object: 'list', data: ['gpt-4o-2024-08-06', 'gpt-4o-mini', 'text-embedding-3-small'].map((m) => ({ id: m, object: 'model', created: 1_700_000_000, owned_by: 'fake' })) });
    }
    if (req.method !== 'POST' || family === 'unknown') {
      if (family === 'anthropic') return anthropicError(404, 'not_found_error', `${req.method} ${path} not found`);
      return openaiError(404, `Unknown request URL: ${req.method} ${path}.`, 'invalid_request_error', 'unknown_url');
    }
    if (body === undefined || typeof body !== 'object' || Array.isArray(body)) {
      if (family === 'anthropic') return anthropicError(400, 'invalid_request_error', 'request body is not valid JSON');
      return openaiError(400, 'We could not parse the JSON body of your request.', 'invalid_request_error');
    }
    if (typeof body.model !== 'string' || body.model === '') {
      if (family === 'anthropic') return anthropicError(400, 'invalid_request_error', 'model: Field required');
      return openaiError(400, 'you must provide a model parameter', 'invalid_request_error');
    }
    const model: string = body.model;

    if (path === '/v1/chat/completions') {
      if (!Array.isArray(body.messages) || body.messages.length === 0) return openaiError(400, "Missing required parameter: 'messages'.", 'invalid_request_error', 'missing_required_parameter');
      const cid = `chatcmpl-fake${id}`;
      if (body.stream === true) {
        const u = usageFor(true);
        const includeUsage = body.stream_options?.include_usage === true;
        const chunk = (choices: unknown[], usage: unknown = null) => ({
          id: cid, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake', choices, ...(includeUsage ? { usage } : {}),
        });
        const events: Array<{ data: unknown } | 'chunk-pause'> = [{ data: chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]) }];
        for (const piece of splitText(text, nChunks)) {
          events.push({ data: chunk([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]) }, 'chunk-pause');
        }
        events.push({ data: chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]) });
        if (includeUsage) events.push({ data: chunk([], { prompt_tokens: u.input, completion_tokens: u.output, total_tokens: u.input + u.output }) });
        return sse(events, true);
      }
      const u = usageFor(false);
      return json(200, {
        id: cid, object: 'chat.completion', created, model, system_fingerprint: 'fp_fake',
        choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: u.input, completion_tokens: u.output, total_tokens: u.input + u.output, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
        service_tier: 'default',
      });
    }

    if (path === '/v1/embeddings') {
      const inputs: unknown[] = Array.isArray(body.input) ? body.input : [body.input];
      if (body.input === undefined || inputs.length === 0) return openaiError(400, "Missing required parameter: 'input'.", 'invalid_request_error', 'missing_required_parameter');
      const vector = (i: number) => Array.from({ length: 8 }, (_, k) => Math.round(Math.sin(i + k + 1) * 1000) / 1000);
      const u = b.usage ?? { input: 4 * inputs.length, output: 0 };
      return json(200, {
        object: 'list', model,
        data: inputs.map((_, i) => ({ object: 'embedding', index: i, embedding: body.encoding_format === 'base64' ? base64Floats(vector(i)) : vector(i) })),
        usage: { prompt_tokens: u.input, total_tokens: u.input },
      });
    }

    if (path === '/v1/responses') {
      if (body.input === undefined) return openaiError(400, "Missing required parameter: 'input'.", 'invalid_request_error', 'missing_required_parameter');
      const rid = `resp_fake${id}`;
      const mid = `msg_fake${id}`;
      const responseObject = (status: 'in_progress' | 'completed', outputText: string | null, u: { input: number; output: number } | null) => ({
        id: rid, object: 'response', created_at: created, status, error: null, incomplete_details: null, instructions: body.instructions ?? null,
        max_output_tokens: body.max_output_tokens ?? null, model, parallel_tool_calls: true, previous_response_id: null,
        reasoning: { effort: null, summary: null }, store: true, temperature: 1, text: { format: { type: 'text' } }, tool_choice: 'auto', tools: [],
        top_p: 1, truncation: 'disabled', metadata: {}, user: null,
        output: outputText === null ? [] : [{ type: 'message', id: mid, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: outputText, annotations: [], logprobs: [] }] }],
        usage: u === null ? null : { input_tokens: u.input, input_tokens_details: { cached_tokens: 0 }, output_tokens: u.output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: u.input + u.output },
      });
      if (body.stream === true) {
        const u = usageFor(true);
        let n = 0;
        const ev = (type: string, data: Record<string, unknown>) => ({ event: type, data: { type, sequence_number: n++, ...data } });
        const item = { type: 'message', id: mid, status: 'in_progress', role: 'assistant', content: [] };
        const events: Array<{ event?: string; data: unknown } | 'chunk-pause'> = [
          ev('response.created', { response: responseObject('in_progress', null, null) }),
          ev('response.in_progress', { response: responseObject('in_progress', null, null) }),
          ev('response.output_item.added', { output_index: 0, item }),
          ev('response.content_part.added', { item_id: mid, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } }),
        ];
        for (const piece of splitText(text, nChunks)) {
          events.push(ev('response.output_text.delta', { item_id: mid, output_index: 0, content_index: 0, delta: piece, logprobs: [] }), 'chunk-pause');
        }
        const part = { type: 'output_text', text, annotations: [], logprobs: [] };
        events.push(
          ev('response.output_text.done', { item_id: mid, output_index: 0, content_index: 0, text, logprobs: [] }),
          ev('response.content_part.done', { item_id: mid, output_index: 0, content_index: 0, part }),
          ev('response.output_item.done', { output_index: 0, item: { ...item, status: 'completed', content: [part] } }),
          ev('response.completed', { response: responseObject('completed', text, u) }),
        );
        return sse(events, false);
      }
      return json(200, responseObject('completed', text, usageFor(false)));
    }

    // Anthropic.
    if (typeof req.headers['anthropic-version'] !== 'string') return anthropicError(400, 'invalid_request_error', 'anthropic-version: header is required');
    if (!Array.isArray(body.messages)) return anthropicError(400, 'invalid_request_error', 'messages: Field required');
    if (path === '/v1/messages/count_tokens') {
      return json(200, { input_tokens: b.usage?.input ?? 12 });
    }
    if (typeof body.max_tokens !== 'number') return anthropicError(400, 'invalid_request_error', 'max_tokens: Field required');
    const mid = `msg_fake${id}`;
    const message = (content: unknown[], u: { input: number; output: number }, stop: string | null) => ({
      id: mid, type: 'message', role: 'assistant', model, content, stop_reason: stop, stop_sequence: null,
      usage: { input_tokens: u.input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: u.output, service_tier: 'standard' },
    });
    if (body.stream === true) {
      const u = usageFor(true);
      const events: Array<{ event?: string; data: unknown } | 'chunk-pause'> = [
        { event: 'message_start', data: { type: 'message_start', message: message([], { input: u.input, output: 1 }, null) } },
        { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
        { event: 'ping', data: { type: 'ping' } },
      ];
      for (const piece of splitText(text, nChunks)) {
        events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } } }, 'chunk-pause');
      }
      events.push(
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
        { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: u.output } } },
        { event: 'message_stop', data: { type: 'message_stop' } },
      );
      return sse(events, false);
    }
    return json(200, message([{ type: 'text', text }], usageFor(false), 'end_turn'));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    keys,
    requests,
    violations,
    next(...b) { queue.push(...b); },
    defaults(b) { base = b; },
    waitForClientClose(predicate = () => true, timeoutMs = 5000) {
      return waitFor(() => requests.find((r) => r.outcome === 'client_closed' && predicate(r)), 'request closed early by its client', timeoutMs);
    },
    waitForRequest(predicate = () => true, timeoutMs = 5000) {
      return waitFor(() => requests.find(predicate), 'matching request', timeoutMs);
    },
    assertClean() {
      if (violations.length) throw new Error(`the upstream received what it must never receive:\n- ${violations.join('\n- ')}`);
    },
    reset() {
      requests.length = 0;
      violations.length = 0;
      queue = [];
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
