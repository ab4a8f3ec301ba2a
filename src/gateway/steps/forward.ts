import crypto from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline as pipe } from 'node:stream/promises';
import { createParser } from 'eventsource-parser';
import type { Dispatcher } from 'undici';
import { GatewayRefusal, type GatewayCall } from '../call.js';
import type { PipelineDeps, Step } from '../pipeline.js';
import { serverTiming } from '../server-timing.js';
import { sseText } from '../sse.js';

// Step: send the call to its upstream with the upstream's own key, and the answer back to the client.
// Rules:
// - Sent while the call's record commits; the answer (its status line, its first byte) waits for that commit.
// - The upstream gets the client's body with `model` replaced by the provider's model id, the provider's key header,
//   and nothing else of the client's headers but the provider's version/beta headers and Accept. Never the caller's
//   credential, cookies or forwarding headers.
// - Streaming (`text/event-stream`): passed through chunk by chunk as it arrives, with backpressure (the upstream is
//   read only as fast as the client reads); events are parsed on the side for usage (and the completion's hash)
//   without being held. Where the dialect hides an event the client did not ask for (OpenAI's usage chunk), the
//   stream is passed on event by event instead, each as soon as it is complete. A client that disconnects cancels the upstream request at once.
// - Not streaming: the answer is read whole (its usage settles the limits), then sent as the upstream's bytes.
// - Connection failures, and 502/503/504 before anything was sent to the client, are retried up to the upstream's
//   `retries`; the timeout bounds the wait for headers and each gap between chunks. An upstream that cannot be
//   reached or times out is 502/504 upstream_unavailable; an upstream refusing its own key is 502 upstream_auth_failed
//   (the client's credential was fine: it must not think otherwise).
// - Every answer carries `Server-Timing: custos;dur=<ms>`: the gateway's own time (for a stream, until forwarding).

const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding', 'set-cookie', 'date', 'server']);
const PASSED_HEADERS = ['content-type', 'cache-control', 'retry-after', 'openai-processing-ms', 'openai-version'];
const RETRY_STATUSES = new Set([502, 503, 504]);

function upstreamHeaders(res: Dispatcher.ResponseData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const v = res.headers[name];
    if (typeof v === 'string' && !HOP_HEADERS.has(name)) out[name] = v;
  }
  const upstreamId = res.headers['request-id'] ?? res.headers['x-request-id'];
  if (typeof upstreamId === 'string') out['x-upstream-request-id'] = upstreamId.slice(0, 200);
  return out;
}

const statusClass = (status: number) => `${Math.floor(status / 100)}xx`;

async function send(call: GatewayCall, deps: PipelineDeps, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
  const route = call.route!;
  const { url, headers } = call.dialect.upstreamRequest(route, call.operation, call.req.headers);
  const body = JSON.stringify(call.dialect.upstreamBody(route, call.operation, call.body));
  const { timeoutMs, retries, name } = route.upstream;
  const target = new URL(url);
  for (let attempt = 0; ; attempt++) {
    const started = performance.now();
    let res: Dispatcher.ResponseData;
    try {
      call.sentUpstream = true;
      res = await deps.http.request({
        origin: target.origin, path: `${target.pathname}${target.search}`, method: 'POST', headers, body, signal,
        headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
      });
    } catch (error) {
      if (signal.aborted) throw error;
      deps.metrics.upstream(name, 'error', (performance.now() - started) / 1000);
      if (attempt < retries) continue;
      const code = (error as { code?: string }).code;
      const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
      call.upstreamError = code ?? 'error';
      throw new GatewayRefusal(timedOut ? 504 : 502, 'upstream_unavailable', `upstream '${name}' ${timedOut ? 'did not answer in time' : 'could not be reached'}`);
    }
    deps.metrics.upstream(name, statusClass(res.statusCode), (performance.now() - started) / 1000);
    if (RETRY_STATUSES.has(res.statusCode) && attempt < retries) {
      await res.body.dump();
      continue;
    }
    return res;
  }
}

export const forward: Step = async (call, deps) => {
  const raw = call.reply.raw;
  const controller = new AbortController();
  // The client went away before the answer was complete: cancel the upstream request.
  const onClose = () => {
    if (!raw.writableFinished) {
      call.clientAborted = true;
      controller.abort();
    }
  };
  raw.on('close', onClose);
  // The client already left (during verify or decide): nothing is forwarded.
  if (raw.destroyed) {
    call.clientAborted = true;
    raw.off('close', onClose);
    throw new Error('the client went away before the call was forwarded');
  }
  // A record that cannot be committed cancels the upstream request at once (the client then gets 503).
  void call.recorded?.catch(() => controller.abort());
  try {
    const forwardedAt = performance.now();
    const res = await send(call, deps, controller.signal);
    const answeredAt = performance.now();
    // Nothing goes back before the call's record is durable (steps/record.ts): a failed commit cancels the upstream.
    try {
      await call.recorded;
    } catch (error) {
      controller.abort();
      res.body.destroy();
      throw error;
    }
    const recordedAt = performance.now();
    call.upstreamStatus = res.statusCode;
    if (res.statusCode === 401 || res.statusCode === 403) {
      await res.body.dump();
      call.upstreamError = `upstream_${res.statusCode}`;
      throw new GatewayRefusal(502, 'upstream_auth_failed', `upstream '${call.route!.upstream.name}' refused the gateway's key (${res.statusCode}): an operator must fix the upstream`);
    }
    const headers = upstreamHeaders(res);
    const contentType = headers['content-type'] ?? '';
    if (res.statusCode === 200 && contentType.startsWith('text/event-stream')) {
      const tap = call.dialect.tap(call.operation, call.body);
      const decoder = new TextDecoder();
      // Byte for byte, reading events on the side; or, where the dialect hides some, event by event (each written as
      // soon as it is complete).
      const hide = tap.hide;
      let out: string[] = [];
      const parser = createParser({
        onEvent: (e) => {
          tap.onEvent(e.event, e.data);
          if (hide && !hide(e.event, e.data)) out.push(sseText({ ...(e.event ? { event: e.event } : {}), ...(e.id ? { id: e.id } : {}), data: e.data }));
        },
      });
      const passThrough = new Transform({
        transform(chunk: Buffer, _enc, done) {
          parser.feed(decoder.decode(chunk, { stream: true }));
          if (!hide) return done(null, chunk);
          const ready = out.join('');
          out = [];
          done(null, ready.length ? Buffer.from(ready) : undefined);
        },
      });
      call.reply.hijack();
      raw.writeHead(200, {
        ...headers, 'x-request-id': String(call.req.id), 'server-timing': serverTiming(call, forwardedAt),
        'cache-control': headers['cache-control'] ?? 'no-cache', 'x-content-type-options': 'nosniff',
      });
      raw.flushHeaders();
      try {
        await pipe(res.body, passThrough, raw);
      } catch (error) {
        if (!call.clientAborted) call.upstreamError = (error as { code?: string }).code ?? 'stream_error';
        if (!raw.destroyed) raw.destroy();
      }
      call.usage = tap.usage();
      if (deps.hashContent) call.completionSha256 = crypto.createHash('sha256').update(tap.text()).digest('hex');
      return;
    }
    const bytes = Buffer.from(await res.body.arrayBuffer());
    // The upstream's time: until its headers, and reading its body; not the wait for our own record.
    const upstreamMs = (answeredAt - forwardedAt) + (performance.now() - recordedAt);
    if (res.statusCode >= 200 && res.statusCode < 300) {
      let parsed: unknown;
      try { parsed = JSON.parse(bytes.toString('utf8')); } catch { parsed = undefined; }
      call.usage = call.dialect.usageFromJson(call.operation, parsed);
      if (deps.hashContent) call.completionSha256 = crypto.createHash('sha256').update(call.dialect.textFromJson(call.operation, parsed)).digest('hex');
    }
    await call.reply.code(res.statusCode).headers({ ...headers, 'server-timing': serverTiming(call, forwardedAt, upstreamMs) }).send(bytes);
  } finally {
    raw.off('close', onClose);
  }
};
