import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { factsFromActor, type PreparedDecision } from '../../authz/index.js';
import { systemActor, type Actor } from '../../platform/actor.js';
import { AppError } from '../../platform/http/errors.js';
import type { CredentialVerifier } from '../../platform/http/pipeline/index.js';
import type { GatewayApp, GatewayCallContext } from '../parts.js';
import { bearerChallenge, protectedResourceMetadata } from '../protected-resource.js';
import { authenticateCaller } from '../steps/credential.js';
import { governanceOf, isObject, requestContext, RPC, rpcError, scopeAllows, scopesFor, type Governance } from './governance.js';
import * as repo from './mcp.repo.js';
import { canonicalJson, isServableToolName, MCP_SCOPES, parseSettings, PROTOCOL_VERSIONS, SERVER_NAME_PATTERN, sha256Hex, type UpstreamCredential } from './mcp.js';
import type { ToolSync } from './tools-sync.js';
import { headerOf, listUpstreamTools, readText, send, sseEvents, sseText, UpstreamError, upstreamHeaders, type UpstreamTarget } from './upstream.js';

// The MCP proxy on the gateway's listener: `/mcp/<server>` (Streamable HTTP: POST JSON-RPC, GET the server's event
// stream, DELETE the session) in front of a registered MCP server, and its RFC 9728 metadata.
//
// Rules, in the order a call meets them:
// 1. The server must be registered (404 otherwise). The caller's credential (Bearer/DPoP token or API key) must be
//    addressed to this endpoint, `<gateway>/mcp/<server>` (RFC 8707): a token for the model gateway or another MCP
//    endpoint is refused. None, or one that does not verify: 401 with `WWW-Authenticate: Bearer resource_metadata=…,
//    scope=…` (MCP authorization). Operator tokens are for the management API, never here.
// 2. The method is looked up in governance.ts (batches and unknown methods refused); its scope must be among the
//    token's: else 403 insufficient_scope naming the scopes that would do.
// 3. A session id is the upstream's, wrapped with a MAC binding it to the caller's principal and this server:
//    another principal presenting it gets 404 (session not found), as the MCP transport answers an unknown session.
// 4. Decisions: tools/list answers show only the tools the caller may call (`call_tool` on each tool resource,
//    evaluated, recorded as one `mcp.tools_listed` event); tools/call is decided on the tool's resource with the
//    arguments as `context.request`; resources and prompts are decided (`read`) on the server's resource. A refusal
//    is a JSON-RPC error (code -32003, `data.reason` a stable Custos code) in an HTTP 200, as MCP clients expect
//    errors of a request: an SDK raises it to the program (McpError with code and data) instead of handing a
//    model a tool result to read as the tool's own words.
// 5. Audit before response: the decision and the `mcp.call` event (server, method, tool, SHA-256 of the canonical
//    arguments, outcome) commit together before anything is forwarded (tools/call) or answered; the tool's answer
//    is recorded (`mcp.call_completed`: latency, error) before it goes back. A store or audit failure answers 503
//    and forwards nothing.
// 6. The upstream gets its own credential and only the transport headers the gateway builds (upstream.ts): never
//    the caller's Authorization, DPoP, cookie or API key. A 401/403 from the upstream is the gateway's problem
//    (502), never passed to the client as if its own token were bad.
// 7. A tools/list answer or a notifications/tools/list_changed that differs from the registry brings it up to date
//    (tools-sync.ts) before the answer is filtered: new tools are resources at once, still denied by default.

const PASS_HEADERS = ['content-type'] as const;

interface CallState {
  server: repo.ServerRow;
  resource: string;
  actor: Actor;
  target: UpstreamTarget;
  started: number;
}

export function registerMcpProxyRoutes(app: GatewayApp, deps: {
  ctx: GatewayCallContext;
  tools: ToolSync;
  credentialOf(row: repo.ServerRow): UpstreamCredential | null;
  /** `<gateway>/mcp/<name>`: the endpoint and the audience of its tokens. */
  endpointOf(name: string): string;
}): void {
  const { ctx, tools, endpointOf } = deps;
  const sessionKey = ctx.keys.deriveKey('mcp-gateway-session');
  const verifiers = new Map<string, CredentialVerifier>();

  function verifierFor(name: string): CredentialVerifier {
    let v = verifiers.get(name);
    if (!v) {
      v = ctx.verifierFor(() => endpointOf(name));
      verifiers.set(name, v);
    }
    return v;
  }

  const mac = (serverId: string, principalId: string, sid: string) =>
    crypto.createHmac('sha256', sessionKey).update(`${serverId}\n${principalId}\n${sid}`).digest('base64url').slice(0, 22);
  const wrapSession = (s: CallState, sid: string) => `${sid}.${mac(s.server.id, s.actor.principal!.id, sid)}`;
  function unwrapSession(s: CallState, presented: string): string | undefined {
    const dot = presented.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const sid = presented.slice(0, dot);
    const want = Buffer.from(mac(s.server.id, s.actor.principal!.id, sid));
    const got = Buffer.from(presented.slice(dot + 1));
    return want.length === got.length && crypto.timingSafeEqual(want, got) ? sid : undefined;
  }

  function refuse(reply: FastifyReply, status: number, body: unknown, headers: Record<string, string> = {}) {
    return reply.code(status).headers({ 'content-type': 'application/json', ...headers }).send(JSON.stringify(body));
  }

  /** Steps 1 (after the server lookup): the caller, or the refusal already sent. */
  async function authenticate(req: FastifyRequest, reply: FastifyReply, server: repo.ServerRow): Promise<Actor | undefined> {
    const resource = endpointOf(server.name);
    const challenge = (error?: 'invalid_token' | 'invalid_request', description?: string) =>
      ({ 'www-authenticate': bearerChallenge({ resource, scopes: [...MCP_SCOPES], ...(error ? { error } : {}), ...(description ? { description } : {}) }) });
    const result = await authenticateCaller(req, { gatewayUrl: ctx.gatewayUrl(), verifier: verifierFor(server.name) });
    if ('actor' in result) return result.actor;
    const r = result.refused;
    if (r.kind === 'malformed') {
      refuse(reply, 401, rpcError(null, RPC.denied, r.message, { reason: 'invalid_request' }), challenge('invalid_request', r.message));
    } else if (r.kind === 'missing') {
      refuse(reply, 401, rpcError(null, RPC.denied, 'a bearer token for this MCP endpoint is required', { reason: 'unauthenticated' }), challenge());
    } else if (r.kind === 'rejected') {
      refuse(reply, 401, rpcError(null, RPC.denied, r.message, { reason: r.code === 'unauthenticated' ? 'invalid_token' : r.code }), { ...challenge('invalid_token', r.message), ...r.headers });
    } else {
      refuse(reply, 401, rpcError(null, RPC.denied, 'operator tokens are for the management API; use an access token or API key for this MCP endpoint', { reason: 'invalid_token' }), challenge('invalid_token', 'operator tokens are not accepted here'));
    }
    return undefined;
  }

  /** The server, the caller and its session, or undefined when a refusal was sent. */
  async function begin(req: FastifyRequest, reply: FastifyReply): Promise<{ state: CallState; sid: string | undefined } | undefined> {
    const started = performance.now();
    const name = (req.params as { server: string }).server;
    const server = SERVER_NAME_PATTERN.test(name) ? await repo.findServer(ctx.db.kysely, name) : undefined;
    if (!server) {
      refuse(reply, 404, rpcError(null, RPC.invalidRequest, `no MCP server '${name.slice(0, 64)}' is registered at this gateway`, { reason: 'mcp_server_not_found' }));
      return undefined;
    }
    const actor = await authenticate(req, reply, server);
    if (!actor) return undefined;
    const version = req.headers['mcp-protocol-version'];
    if (version !== undefined && (typeof version !== 'string' || !(PROTOCOL_VERSIONS as readonly string[]).includes(version))) {
      refuse(reply, 400, rpcError(null, RPC.invalidRequest, `unsupported MCP-Protocol-Version; this gateway speaks ${PROTOCOL_VERSIONS.join(', ')}`, { reason: 'mcp_unsupported_protocol_version' }));
      return undefined;
    }
    const settings = parseSettings(server.settings);
    const state: CallState = {
      server, resource: endpointOf(server.name), actor, started,
      target: { url: server.upstream_url, credential: deps.credentialOf(server), timeoutMs: settings.timeout_ms },
    };
    const presented = req.headers['mcp-session-id'];
    let sid: string | undefined;
    if (presented !== undefined) {
      sid = typeof presented === 'string' ? unwrapSession(state, presented) : undefined;
      if (!sid) {
        // Another principal's session id (or a forged one): recorded before the refusal, it may be a stolen session.
        try {
          await record(state, 'mcp.call', 'session', { outcome: 'refused', details: { reason: 'mcp_session_not_found' } });
        } catch (error) {
          unavailable(reply, null, error);
          return undefined;
        }
        refuse(reply, 404, rpcError(null, RPC.invalidRequest, 'session not found', { reason: 'mcp_session_not_found' }));
        return undefined;
      }
    }
    return { state, sid };
  }

  const latency = (s: CallState) => Math.round((performance.now() - s.started) * 1000) / 1000;

  /** One `mcp.*` audit event of a call, with its decision when there is one, in one commit. */
  async function record(s: CallState, type: string, method: string, input: {
    outcome: 'allowed' | 'denied' | 'refused' | 'completed' | 'failed'; target?: { type: string; id: string; name: string }; prepared?: PreparedDecision;
    details?: Record<string, unknown>;
  }): Promise<{ decisionEvent: string | null }> {
    return ctx.db.write(async (trx, batch) => {
      const decisionEvent = input.prepared ? (await input.prepared.record(trx, batch)).id : null;
      const d = input.prepared?.decision;
      await ctx.audit.record(trx, batch, {
        type, action: `mcp.${method}`, actor: s.actor, outcome: input.outcome === 'allowed' || input.outcome === 'completed' ? 'success' : 'failure',
        target: input.target ?? { type: 'mcp_server', id: s.server.id, name: s.server.name },
        ...(d ? { decision: d.decision, policyVersion: d.policyVersion } : {}), purpose: s.actor.purpose,
        details: { server: s.server.name, method, outcome: input.outcome, decision_event: decisionEvent, latency_ms: latency(s), ...input.details },
      });
      return { decisionEvent };
    });
  }

  async function decide(s: CallState, action: 'call_tool' | 'read', resourceId: string, kind: string, context: Record<string, string> | undefined, requestId: string): Promise<PreparedDecision> {
    return ctx.pdp.prepareDecision({
      principal: s.actor.principal!.id, action, resource: { kind: 'registry', ref: resourceId, resourceKind: kind },
      facts: factsFromActor(s.actor), ...(context ? { asserted: { context }, assertedInAudit: 'digest' as const } : {}), requestId,
    }, s.actor);
  }

  function denialReason(p: PreparedDecision): string {
    const r = p.decision.reasons.find((x) => x.kind === 'forbid') ?? p.decision.reasons[0];
    if (!r) return 'no_permit';
    return r.kind === 'refused' ? r.code : r.kind;
  }

  /** Starts a background sync from the gateway's own session (a list_changed notification). */
  function syncInBackground(s: CallState) {
    void (async () => {
      const listing = await listUpstreamTools(s.target);
      await tools.sync(s.server, listing.tools, { full: true, actor: systemActor('background'), trigger: 'list_changed', protocolVersion: listing.protocolVersion });
    })().catch((error: unknown) => ctx.logger.warn({ mcp_server: s.server.name, err: (error as Error).message }, 'MCP tool list could not be refreshed after list_changed'));
  }

  /** Whether a listed page differs from the registry's rows (a tool new, changed or gone). */
  function differs(rows: repo.ToolRow[], listed: unknown[], full: boolean): boolean {
    const byName = new Map(rows.map((r) => [r.name, r]));
    const names = new Set<string>();
    for (const t of listed) {
      if (!isObject(t) || !isServableToolName(t.name)) continue;
      names.add(t.name);
      const row = byName.get(t.name);
      if (!row || row.present !== 1 || row.definition !== canonicalJson(t)) return true;
    }
    return full && rows.some((r) => r.present === 1 && !names.has(r.name));
  }

  /** tools/list: the answer with only the tools the caller may call; one event records what was shown. */
  async function filterToolList(s: CallState, request: Record<string, unknown>, answer: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (answer.error !== undefined && answer.result === undefined) return answer;
    // An answer the filter cannot read is never passed on as it is (it was not decided for this caller).
    if (!isObject(answer.result) || !Array.isArray(answer.result.tools)) {
      return rpcError(answer.id, RPC.internal, 'the MCP server\'s tools/list answer could not be read', { reason: 'mcp_upstream_invalid' });
    }
    const listed = answer.result.tools as unknown[];
    const full = !(isObject(request.params) && request.params.cursor !== undefined) && answer.result.nextCursor === undefined;
    let rows = await repo.toolsOf(ctx.db.kysely, [s.server.id]);
    if (differs(rows, listed, full)) {
      try {
        await tools.sync(s.server, listed, { full, actor: systemActor('background'), trigger: 'tools_list' });
        rows = await repo.toolsOf(ctx.db.kysely, [s.server.id]);
      } catch (error) {
        ctx.logger.warn({ mcp_server: s.server.name, err: (error as Error).message }, 'MCP tool list differs from the registry and could not be synced; unknown tools stay hidden');
      }
    }
    const byName = new Map(rows.map((r) => [r.name, r]));
    const shown: unknown[] = [];
    const shownNames: string[] = [];
    let hidden = 0;
    let policyVersion: string | null = null;
    for (const t of listed) {
      const row = isObject(t) && isServableToolName(t.name) ? byName.get(t.name) : undefined;
      if (!row || row.present !== 1) { hidden++; continue; }
      const p = await decide(s, 'call_tool', row.resource_id, 'tool', { server: s.server.name, method: 'tools/list', tool: row.name }, String(request.id ?? ''));
      policyVersion = p.decision.policyVersion;
      if (p.decision.decision === 'allow') { shown.push(t); shownNames.push(row.name); } else hidden++;
    }
    await record(s, 'mcp.tools_listed', 'tools/list', { outcome: 'allowed', details: { shown: shownNames, hidden, policy_version: policyVersion } });
    ctx.metrics.call('mcp', 'allowed', 'tools_list');
    return { ...answer, result: { ...answer.result, tools: shown } };
  }

  /**
   * Forwards one message and relays the answer (JSON or SSE). `onAnswer` sees (and may replace) the answer to this
   * request before it goes back; a list_changed notification in the stream starts a sync.
   */
  async function forward(req: FastifyRequest, reply: FastifyReply, s: CallState, sid: string | undefined, message: Record<string, unknown>,
    onAnswer?: (answer: Record<string, unknown>) => Promise<Record<string, unknown>>): Promise<void> {
    const abort = new AbortController();
    reply.raw.on('close', () => { if (!reply.raw.writableFinished) abort.abort(); });
    const version = typeof req.headers['mcp-protocol-version'] === 'string' ? req.headers['mcp-protocol-version'] : undefined;
    const headers = upstreamHeaders(s.target, { accept: 'application/json, text/event-stream', contentType: true, sessionId: sid, protocolVersion: version });
    // 2026-07-28 clients name the method (and tool) in headers; the gateway derives them from the body it checked.
    if (version && version >= '2026-07-28' && typeof message.method === 'string') {
      headers['mcp-method'] = message.method;
      if (message.method === 'tools/call' && isObject(message.params) && typeof message.params.name === 'string') headers['mcp-name'] = message.params.name;
    }
    let res: Dispatcher.ResponseData;
    try {
      res = await send(s.target, { method: 'POST', headers, body: JSON.stringify(message), signal: abort.signal });
    } catch (error) {
      if (abort.signal.aborted) return;
      ctx.metrics.call('mcp', 'failed', 'mcp_upstream_unreachable');
      refuse(reply, 502, rpcError(message.id, RPC.internal, error instanceof UpstreamError ? error.message : 'the MCP server could not be reached', { reason: 'mcp_upstream_unreachable' }));
      return;
    }
    await relay(reply, s, res, abort, message.id, onAnswer);
  }

  async function relay(reply: FastifyReply, s: CallState, res: Dispatcher.ResponseData, abort: AbortController, id: unknown,
    onAnswer?: (answer: Record<string, unknown>) => Promise<Record<string, unknown>>): Promise<void> {
    const headers: Record<string, string> = {};
    for (const h of PASS_HEADERS) { const v = headerOf(res.headers, h); if (v) headers[h] = v; }
    const upstreamSid = headerOf(res.headers, 'mcp-session-id');
    if (upstreamSid && /^[\x21-\x7e]{1,512}$/.test(upstreamSid)) headers['mcp-session-id'] = wrapSession(s, upstreamSid);
    if (res.statusCode === 401 || res.statusCode === 403) {
      void res.body.dump().catch(() => undefined);
      ctx.logger.warn({ mcp_server: s.server.name, status: res.statusCode }, 'MCP upstream refused the gateway\'s credential');
      refuse(reply, 502, rpcError(id, RPC.internal, 'the MCP server refused the gateway\'s own credential', { reason: 'mcp_upstream_refused' }));
      return;
    }
    const type = headers['content-type'] ?? '';
    if (type.startsWith('text/event-stream')) {
      reply.hijack();
      reply.raw.writeHead(res.statusCode, { ...headers, 'cache-control': 'no-cache' });
      try {
        for await (const event of sseEvents(res.body)) {
          let out = event;
          if (event.data) {
            let msg: unknown;
            try { msg = JSON.parse(event.data); } catch { msg = undefined; }
            // Only requests and notifications of the server pass as they are, and the answer to this very request (through
            // its governance). Anything else — a batch array, an answer to another request (a resumed stream replaying
            // one), something that is not JSON-RPC — is dropped: it was never governed for this caller.
            if (!isObject(msg)) continue;
            if (msg.method === 'notifications/tools/list_changed') syncInBackground(s);
            if (typeof msg.method !== 'string') {
              if (id === undefined || msg.id !== id) continue;
              if (onAnswer) out = { ...event, data: JSON.stringify(await onAnswer(msg)) };
            }
          }
          if (!reply.raw.write(sseText(out))) await new Promise<void>((resolve) => reply.raw.once('drain', () => resolve()));
        }
      } catch (error) {
        if (!abort.signal.aborted) ctx.logger.warn({ mcp_server: s.server.name, err: (error as Error).message }, 'MCP upstream stream ended with an error');
      }
      reply.raw.end();
      return;
    }
    if (!type.startsWith('application/json')) {
      void res.body.dump().catch(() => undefined);
      reply.code(res.statusCode).headers(headers).send();
      return;
    }
    let text: string;
    try {
      text = await readText(res.body);
    } catch (error) {
      refuse(reply, 502, rpcError(id, RPC.internal, error instanceof UpstreamError ? error.message : 'the MCP server\'s answer could not be read', { reason: 'mcp_upstream_unreachable' }));
      return;
    }
    if (res.statusCode === 200 && text.length > 0) {
      let msg: unknown;
      try { msg = JSON.parse(text); } catch { msg = undefined; }
      // One answer to this request, nothing else (a batch array or another request's answer was never governed).
      if (!isObject(msg) || (typeof msg.method !== 'string' && msg.id !== id)) {
        refuse(reply, 502, rpcError(id, RPC.internal, 'the MCP server answered with something other than the answer to this request', { reason: 'mcp_upstream_invalid' }));
        return;
      }
      if (onAnswer && typeof msg.method !== 'string') text = JSON.stringify(await onAnswer(msg));
    }
    reply.code(res.statusCode).headers(headers).send(text);
  }

  async function insufficientScope(reply: FastifyReply, s: CallState, g: Governance, id: unknown) {
    const scopes = scopesFor(g);
    ctx.metrics.call('mcp', 'denied', 'insufficient_scope');
    // Recorded before it is answered, as every refusal of a known caller.
    try {
      await record(s, 'mcp.call', 'scope', { outcome: 'refused', details: { reason: 'insufficient_scope', scopes } });
    } catch (error) {
      return unavailable(reply, id, error);
    }
    return refuse(reply, 403, rpcError(id, RPC.denied, `the token's scopes do not cover this method; it needs ${scopes.join(' or ')}`, { reason: 'insufficient_scope', scopes }), {
      'www-authenticate': bearerChallenge({ resource: s.resource, scopes, error: 'insufficient_scope', description: `needs ${scopes.join(' or ')}` }),
    });
  }

  /** A store or audit failure: nothing was forwarded, nothing is answered but this. */
  function unavailable(reply: FastifyReply, id: unknown, error: unknown) {
    const code = error instanceof AppError ? error.code : 'store_unavailable';
    ctx.metrics.call('mcp', 'failed', code);
    if (!reply.sent && !reply.raw.headersSent) refuse(reply, 503, rpcError(id, RPC.internal, 'the gateway cannot record this call now; try again', { reason: code }));
  }

  async function handlePost(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const begun = await begin(req, reply);
    if (!begun) return;
    const { state: s, sid } = begun;
    // The listener hands bodies over unparsed: a POST carries one JSON-RPC message as application/json.
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      refuse(reply, 415, rpcError(null, RPC.invalidRequest, 'the body must be application/json', { reason: 'mcp_unsupported_media_type' }));
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : String(req.body ?? ''));
    } catch {
      refuse(reply, 400, rpcError(null, RPC.parseError, 'the body is not JSON', { reason: 'mcp_parse_error' }));
      return;
    }
    if (Array.isArray(body)) {
      refuse(reply, 400, rpcError(null, RPC.invalidRequest, 'JSON-RPC batches are not supported', { reason: 'mcp_batch_not_supported' }));
      return;
    }
    if (!isObject(body) || body.jsonrpc !== '2.0') {
      refuse(reply, 400, rpcError(null, RPC.invalidRequest, 'the body must be one JSON-RPC 2.0 message', { reason: 'mcp_invalid_request' }));
      return;
    }
    // A request id is a string or a number (JSON-RPC 2.0): anything else could never be matched to its answer, which
    // would then not be governed as that answer.
    if (body.id !== undefined && typeof body.id !== 'string' && !(typeof body.id === 'number' && Number.isFinite(body.id))) {
      refuse(reply, 400, rpcError(null, RPC.invalidRequest, 'a JSON-RPC id must be a string or a number', { reason: 'mcp_invalid_request' }));
      return;
    }
    const g = governanceOf(body);
    const id = body.id;
    if (g.kind === 'refuse') {
      ctx.metrics.call('mcp', 'denied', g.reason);
      try {
        await record(s, 'mcp.call', typeof body.method === 'string' ? body.method.slice(0, 100) : 'response', { outcome: 'refused', details: { reason: g.reason } });
      } catch (error) {
        return unavailable(reply, id, error);
      }
      refuse(reply, g.code === RPC.invalidRequest ? 400 : 200, rpcError(id, g.code, g.message, { reason: g.reason }));
      return;
    }
    const headerMethod = req.headers['mcp-method'];
    if (headerMethod !== undefined && headerMethod !== body.method) {
      refuse(reply, 400, rpcError(id, RPC.invalidRequest, 'the Mcp-Method header does not name the body\'s method', { reason: 'mcp_invalid_request' }));
      return;
    }
    if (!scopeAllows(s.actor.scope, g)) return void (await insufficientScope(reply, s, g, id));
    const method = String(body.method ?? 'response');
    const requestId = String(req.id);
    try {
      if (g.kind === 'pass' || g.kind === 'answer') {
        if (g.kind === 'pass' && g.audited) await record(s, 'mcp.call', method, { outcome: 'allowed' });
        ctx.metrics.call('mcp', 'allowed', 'pass');
        return await forward(req, reply, s, sid, body);
      }
      if (g.kind === 'tools_list') return await forward(req, reply, s, sid, body, (answer) => filterToolList(s, body, answer));
      const context = requestContext(s.server.name, body);
      if (g.kind === 'tools_call') {
        const params = isObject(body.params) ? body.params : {};
        const name = params.name;
        const argsHash = sha256Hex(canonicalJson(isObject(params.arguments) ? params.arguments : {}));
        const row = isServableToolName(name) ? await repo.findTool(ctx.db.kysely, s.server.id, name) : undefined;
        if (params.arguments !== undefined && !isObject(params.arguments)) {
          refuse(reply, 200, rpcError(id, RPC.invalidParams, 'arguments must be an object', { reason: 'mcp_invalid_request' }));
          return;
        }
        if (!row || row.present !== 1) {
          await record(s, 'mcp.call', method, { outcome: 'refused', details: { tool: typeof name === 'string' ? name.slice(0, 128) : null, arguments_sha256: argsHash, reason: 'mcp_unknown_tool' } });
          ctx.metrics.call('mcp', 'denied', 'mcp_unknown_tool');
          refuse(reply, 200, rpcError(id, RPC.invalidParams, `Unknown tool: ${typeof name === 'string' ? name.slice(0, 128) : '?'}`, { reason: 'mcp_unknown_tool' }));
          return;
        }
        const prepared = await decide(s, 'call_tool', row.resource_id, 'tool', context, requestId);
        const target = { type: 'resource', id: row.resource_id, name: row.resource_name };
        const details = { tool: row.name, resource: row.resource_name, arguments_sha256: argsHash };
        if (prepared.decision.decision !== 'allow') {
          const reason = denialReason(prepared);
          const { decisionEvent } = await record(s, 'mcp.call', method, { outcome: 'denied', target, prepared, details: { ...details, reason } });
          ctx.metrics.call('mcp', 'denied', 'mcp_tool_denied');
          refuse(reply, 200, rpcError(id, RPC.denied, `Custos denied calling tool '${row.name}'`, { reason: 'mcp_tool_denied', decision: reason, decision_event: decisionEvent }));
          return;
        }
        await record(s, 'mcp.call', method, { outcome: 'allowed', target, prepared, details });
        ctx.metrics.call('mcp', 'allowed', 'call_tool');
        return await forward(req, reply, s, sid, body, async (answer) => {
          const isError = isObject(answer.result) && answer.result.isError === true;
          const error = isObject(answer.error) ? Number(answer.error.code) : null;
          await record(s, 'mcp.call_completed', method, {
            outcome: error === null && !isError ? 'completed' : 'failed', target, details: { ...details, is_error: isError, error_code: error },
          });
          return answer;
        });
      }
      // resources/* and prompts/*: `read` on the server's own resource.
      const prepared = await decide(s, 'read', s.server.resource_id, 'endpoint', context, requestId);
      const target = { type: 'resource', id: s.server.resource_id, name: s.server.resource_name };
      const details = {
        ...(context.uri !== undefined ? { uri_sha256: sha256Hex(context.uri) } : {}), ...(context.prompt !== undefined ? { prompt: context.prompt } : {}),
        ...(context.arguments !== undefined ? { arguments_sha256: sha256Hex(context.arguments) } : {}),
      };
      if (prepared.decision.decision !== 'allow') {
        const reason = denialReason(prepared);
        const { decisionEvent } = await record(s, 'mcp.call', method, { outcome: 'denied', target, prepared, details: { ...details, reason } });
        ctx.metrics.call('mcp', 'denied', 'mcp_access_denied');
        refuse(reply, 200, rpcError(id, RPC.denied, `Custos denied ${method} on MCP server '${s.server.name}'`, { reason: 'mcp_access_denied', decision: reason, decision_event: decisionEvent }));
        return;
      }
      await record(s, 'mcp.call', method, { outcome: 'allowed', target, prepared, details });
      ctx.metrics.call('mcp', 'allowed', 'read');
      return await forward(req, reply, s, sid, body);
    } catch (error) {
      ctx.logger.error({ mcp_server: s.server.name, method, err: (error as Error).message }, 'MCP call failed before it was answered');
      unavailable(reply, id, error);
    }
  }

  async function handleStream(req: FastifyRequest, reply: FastifyReply, method: 'GET' | 'DELETE'): Promise<void> {
    const begun = await begin(req, reply);
    if (!begun) return;
    const { state: s, sid } = begun;
    const g: Governance = { kind: 'pass', audited: false };
    if (!scopeAllows(s.actor.scope, g)) return void (await insufficientScope(reply, s, g, null));
    const version = typeof req.headers['mcp-protocol-version'] === 'string' ? req.headers['mcp-protocol-version'] : undefined;
    const lastEventId = typeof req.headers['last-event-id'] === 'string' && /^[\x21-\x7e]{1,512}$/.test(req.headers['last-event-id']) ? req.headers['last-event-id'] : undefined;
    const abort = new AbortController();
    reply.raw.on('close', () => { if (!reply.raw.writableFinished) abort.abort(); });
    let res: Dispatcher.ResponseData;
    try {
      res = await send(s.target, {
        method, signal: abort.signal, longLived: method === 'GET',
        headers: upstreamHeaders(s.target, { accept: method === 'GET' ? 'text/event-stream' : 'application/json', sessionId: sid, protocolVersion: version, lastEventId }),
      });
    } catch (error) {
      if (abort.signal.aborted) return;
      refuse(reply, 502, rpcError(null, RPC.internal, error instanceof UpstreamError ? error.message : 'the MCP server could not be reached', { reason: 'mcp_upstream_unreachable' }));
      return;
    }
    ctx.metrics.call('mcp', 'allowed', method === 'GET' ? 'stream' : 'session_end');
    await relay(reply, s, res, abort, undefined);
  }

  app.post('/mcp/:server', (req, reply) => handlePost(req, reply));
  app.get('/mcp/:server', (req, reply) => handleStream(req, reply, 'GET'));
  app.delete('/mcp/:server', (req, reply) => handleStream(req, reply, 'DELETE'));

  app.get('/.well-known/oauth-protected-resource/mcp/:server', async (req, reply) => {
    const name = (req.params as { server: string }).server;
    const server = SERVER_NAME_PATTERN.test(name) ? await repo.findServer(ctx.db.kysely, name) : undefined;
    if (!server) return refuse(reply, 404, { error: 'not_found', error_description: `no MCP server '${name.slice(0, 64)}' is registered at this gateway` });
    const resource = endpointOf(server.name);
    return reply.header('cache-control', 'max-age=300').send(protectedResourceMetadata({ resource, issuer: ctx.issuer(), name: `MCP server ${server.name} (Custos gateway)`, scopes: [...MCP_SCOPES] }));
  });
}

