// The gateway bench's model provider: an OpenAI-shaped `POST /v1/chat/completions` that answers after a fixed delay,
// run as its own process (`node --import tsx bench/gateway/upstream.ts --key K [--delay-ms 50] [--port 0]`) so that it
// never shares an event loop with the load generator or a proxy.
// Rules:
// - Only `Authorization: Bearer <key>` is served. Anything else (no key, a Custos credential that leaked through a
//   proxy) is 401 and counted: the bench reads the count at the end and fails the run if it is not zero.
// - Plain: the whole JSON answer after `--delay-ms`. `stream: true`: headers and the first chunk after `--delay-ms`,
//   then `--chunks` more content chunks `--chunk-gap-ms` apart, a final chunk with finish_reason (and usage when
//   `stream_options.include_usage` asks for it, as OpenAI does), then `data: [DONE]`.
// - `GET /__stats` answers the counters as JSON; it is the bench's, not part of any provider's API.
// - Ready when it prints "listening on http://127.0.0.1:PORT" on stderr; SIGTERM closes it.
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    key: { type: 'string' },
    'delay-ms': { type: 'string', default: '50' },
    chunks: { type: 'string', default: '4' },
    'chunk-gap-ms': { type: 'string', default: '5' },
  },
  strict: true,
});
if (!opt.key) throw new Error('--key is required');
const bearer = `Bearer ${opt.key}`;
const delayMs = Number(opt['delay-ms']);
const chunks = Number(opt.chunks);
const gapMs = Number(opt['chunk-gap-ms']);

const stats = { served: 0, streamed: 0, unauthorized: 0, bad_request: 0, aborted: 0, last_unauthorized: '' as string };
const WORDS = ['Hello', ' from', ' the', ' bench', ' upstream', '.'];
const created = Math.floor(Date.now() / 1000);

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/__stats') return json(res, 200, stats);
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return json(res, 404, { error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } });
    if (req.headers.authorization !== bearer) {
      stats.unauthorized++;
      // Which credential arrived, shortened: enough to tell a Custos key from none, never a whole secret.
      stats.last_unauthorized = String(req.headers.authorization ?? req.headers['x-api-key'] ?? '(none)').slice(0, 16);
      return json(res, 401, { error: { message: 'invalid api key', type: 'invalid_request_error', code: 'invalid_api_key' } });
    }
    let body: any;
    try {
      body = JSON.parse(Buffer.concat(parts).toString('utf8'));
    } catch {
      body = undefined;
    }
    if (!body || typeof body.model !== 'string' || !Array.isArray(body.messages)) {
      stats.bad_request++;
      return json(res, 400, { error: { message: 'model and messages are required', type: 'invalid_request_error' } });
    }
    const id = `chatcmpl-bench-${stats.served + stats.streamed}`;
    const model = body.model as string;
    const usage = { prompt_tokens: 12, completion_tokens: WORDS.length, total_tokens: 12 + WORDS.length };
    let closed = false;
    res.on('close', () => {
      if (!res.writableEnded) {
        closed = true;
        stats.aborted++;
      }
    });
    if (body.stream !== true) {
      setTimeout(() => {
        if (closed) return;
        stats.served++;
        json(res, 200, {
          id, object: 'chat.completion', created, model, system_fingerprint: null,
          choices: [{ index: 0, message: { role: 'assistant', content: WORDS.join(''), refusal: null }, logprobs: null, finish_reason: 'stop' }],
          usage,
        });
      }, delayMs);
      return;
    }
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: null, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
    const includeUsage = body.stream_options?.include_usage === true;
    setTimeout(() => {
      if (closed) return;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.write(chunk({ role: 'assistant', content: WORDS[0] }, null));
      let sent = 0;
      const more = () => {
        if (closed) return;
        if (sent < chunks) {
          sent++;
          res.write(chunk({ content: WORDS[sent % WORDS.length] }, null));
          setTimeout(more, gapMs);
          return;
        }
        let tail = chunk({}, 'stop');
        if (includeUsage) tail += `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: null, choices: [], usage })}\n\n`;
        stats.streamed++;
        res.end(`${tail}data: [DONE]\n\n`);
      };
      setTimeout(more, gapMs);
    }, delayMs);
  });
});
// Proxies keep their upstream connections for the whole run.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;
server.listen(Number(opt.port), '127.0.0.1', () => {
  const addr = server.address() as { port: number };
  process.stderr.write(`listening on http://127.0.0.1:${addr.port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
