import { request, type Dispatcher } from 'undici';
import { sseEvents as readEvents, sseText, type SseEvent } from '../sse.js';
import { credentialHeader, LATEST_PROTOCOL_VERSION, type UpstreamCredential } from './mcp.js';

// Talking to a registered MCP server over Streamable HTTP (undici): the one place that sends the upstream's own
// credential, and the reader of its answers (a JSON body or an SSE stream).
//
// Rules:
// - The upstream gets its own credential (bearer or a header) and nothing of the caller's: no Authorization, DPoP,
//   cookie or x-api-key header of a client is ever copied (callers build the header set here, from scratch).
// - Redirects are not followed (undici's request does not follow them: the credential must not travel to a URL
//   nobody vetted); a 3xx is an error.
// - Every request has a deadline (the registration's timeout; for the long-lived GET stream only until headers).
// - Errors say what failed in words that never contain the credential or the upstream's body.
// - An answer is at most MAX_ANSWER_BYTES (a JSON body, or one SSE event).

export const MAX_ANSWER_BYTES = 8 * 1024 * 1024;
const MAX_TOOL_PAGES = 50;
const MAX_TOOLS = 2000;

export interface UpstreamTarget {
  url: string;
  credential: UpstreamCredential | null;
  timeoutMs: number;
}

export class UpstreamError extends Error {}


/** The headers of an upstream request: the transport's own, the session and revision, and the upstream credential. */
export function upstreamHeaders(target: UpstreamTarget, extra: { accept: string; contentType?: boolean; sessionId?: string; protocolVersion?: string; lastEventId?: string }): Record<string, string> {
  const headers: Record<string, string> = { accept: extra.accept, 'user-agent': 'custos-mcp-gateway' };
  if (extra.contentType) headers['content-type'] = 'application/json';
  if (extra.sessionId) headers['mcp-session-id'] = extra.sessionId;
  if (extra.protocolVersion) headers['mcp-protocol-version'] = extra.protocolVersion;
  if (extra.lastEventId) headers['last-event-id'] = extra.lastEventId;
  if (target.credential) {
    const [name, value] = credentialHeader(target.credential);
    headers[name] = value;
  }
  return headers;
}

/** One HTTP request to the upstream; network failures become UpstreamError. */
export async function send(target: UpstreamTarget, init: {
  method: 'POST' | 'GET' | 'DELETE'; headers: Record<string, string>; body?: string; signal?: AbortSignal; longLived?: boolean;
}): Promise<Dispatcher.ResponseData> {
  try {
    return await request(target.url, {
      method: init.method, headers: init.headers, body: init.body, signal: init.signal,
      headersTimeout: target.timeoutMs, bodyTimeout: init.longLived ? 0 : target.timeoutMs,
    });
  } catch (error) {
    if (init.signal?.aborted) throw error;
    const code = (error as { code?: string }).code;
    throw new UpstreamError(code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' ? `the MCP server did not answer within ${target.timeoutMs} ms` : `the MCP server could not be reached (${code ?? 'connection failed'})`);
  }
}

export function headerOf(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** SSE events of an upstream body, as they arrive; one event is at most MAX_ANSWER_BYTES (the gateway's sse.ts). */
export function sseEvents(body: AsyncIterable<Buffer | string>): AsyncGenerator<SseEvent> {
  return readEvents(body, { maxBytes: MAX_ANSWER_BYTES, tooLarge: () => new UpstreamError('an event from the MCP server is larger than the gateway accepts') });
}

export { sseText, type SseEvent };

/** The body as text, at most MAX_ANSWER_BYTES. */
export async function readText(body: AsyncIterable<Buffer | string>): Promise<string> {
  const decoder = new TextDecoder();
  let out = '';
  for await (const chunk of body) {
    out += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (out.length > MAX_ANSWER_BYTES) throw new UpstreamError('the MCP server\'s answer is larger than the gateway accepts');
  }
  return out + decoder.decode();
}

type JsonRpcAnswer = { jsonrpc: '2.0'; id: unknown; result?: Record<string, unknown>; error?: { code: number; message: string } };

/** The answer to request `id` from a response: its JSON body, or the matching message of its SSE stream. */
async function answerTo(res: Dispatcher.ResponseData, id: number): Promise<JsonRpcAnswer> {
  const type = headerOf(res.headers, 'content-type') ?? '';
  if (type.startsWith('text/event-stream')) {
    for await (const e of sseEvents(res.body)) {
      if (!e.data) continue;
      let message: unknown;
      try { message = JSON.parse(e.data); } catch { continue; }
      if (message && typeof message === 'object' && (message as { id?: unknown }).id === id && !('method' in message)) {
        void res.body.dump().catch(() => undefined);
        return message as JsonRpcAnswer;
      }
    }
    throw new UpstreamError('the MCP server\'s event stream ended without an answer');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readText(res.body));
  } catch (error) {
    if (error instanceof UpstreamError) throw error;
    throw new UpstreamError('the MCP server answered something that is not JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UpstreamError('the MCP server answered something that is not a JSON-RPC response');
  return parsed as JsonRpcAnswer;
}

/** What the gateway's own session with an upstream found: the revision it speaks and every tool it lists. */
export interface ToolListing {
  protocolVersion: string | null;
  tools: unknown[];
}

/**
 * Opens a session of the gateway's own (initialize, notifications/initialized), reads every page of tools/list,
 * and ends the session. Throws UpstreamError when the server cannot be reached or answers outside the protocol.
 */
export async function listUpstreamTools(target: UpstreamTarget): Promise<ToolListing> {
  let nextId = 1;
  let sessionId: string | undefined;
  let protocolVersion: string | undefined;
  const rpc = async (method: string, params: Record<string, unknown>, notification = false): Promise<JsonRpcAnswer | undefined> => {
    const id = nextId++;
    const res = await send(target, {
      method: 'POST',
      headers: upstreamHeaders(target, { accept: 'application/json, text/event-stream', contentType: true, sessionId, protocolVersion }),
      body: JSON.stringify(notification ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', id, method, params }),
    });
    if (res.statusCode === 401 || res.statusCode === 403) {
      void res.body.dump().catch(() => undefined);
      throw new UpstreamError(`the MCP server refused the gateway's credential (HTTP ${res.statusCode})`);
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      void res.body.dump().catch(() => undefined);
      throw new UpstreamError(`the MCP server answered ${method} with HTTP ${res.statusCode}`);
    }
    if (notification) {
      void res.body.dump().catch(() => undefined);
      return undefined;
    }
    sessionId ??= headerOf(res.headers, 'mcp-session-id');
    const answer = await answerTo(res, id);
    if (answer.error) throw new UpstreamError(`the MCP server answered ${method} with error ${Number(answer.error.code)}`);
    if (!answer.result || typeof answer.result !== 'object') throw new UpstreamError(`the MCP server's answer to ${method} has no result`);
    return answer;
  };
  try {
    const init = await rpc('initialize', {
      protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'custos-mcp-gateway', version: '1' },
    });
    const version = init!.result!.protocolVersion;
    protocolVersion = typeof version === 'string' && /^[\x21-\x7e]{1,40}$/.test(version) ? version : undefined;
    await rpc('notifications/initialized', {}, true);
    const tools: unknown[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const answer = await rpc('tools/list', cursor === undefined ? {} : { cursor });
      const listed = answer!.result!.tools;
      if (!Array.isArray(listed)) throw new UpstreamError('the MCP server\'s tools/list answer has no tools array');
      tools.push(...listed);
      if (tools.length > MAX_TOOLS) throw new UpstreamError(`the MCP server lists more than ${MAX_TOOLS} tools`);
      const next = answer!.result!.nextCursor;
      if (typeof next !== 'string' || next === '') return { protocolVersion: protocolVersion ?? null, tools };
      cursor = next;
    }
    throw new UpstreamError(`the MCP server's tool list has more than ${MAX_TOOL_PAGES} pages`);
  } finally {
    if (sessionId) {
      // End the gateway's session; a server that does not allow it answers 405, which is fine.
      await send(target, { method: 'DELETE', headers: upstreamHeaders(target, { accept: 'application/json', sessionId, protocolVersion }) })
        .then((r) => r.body.dump().catch(() => undefined), () => undefined);
    }
  }
}
