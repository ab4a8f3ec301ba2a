import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';

// A protected MCP server as a third party would write one: the MCP SDK's McpServer (one tool) on its Streamable
// HTTP transport over node:http on 127.0.0.1, an OAuth resource server that trusts one authorization server.
// Rules:
// - /mcp without a bearer token that verifies: 401 with `WWW-Authenticate: Bearer resource_metadata="…"` (MCP
//   authorization; RFC 9728 §5.1), plus error="invalid_token" when a token was sent.
// - /.well-known/oauth-protected-resource: the RFC 9728 document naming its resource (the /mcp URL) and the
//   authorization server.
// - A token verifies with jose alone: signature by a key from the issuer's JWKS (fetched over HTTP, like any
//   resource server), iss = the issuer, aud containing the resource URL, typ at+jwt (RFC 9068), unexpired.
//   Nothing here asks the authorization server anything else.
// - Stateless transport, one McpServer per request (the SDK's stateless example), JSON responses.

export interface ProtectedMcpServer {
  /** http://127.0.0.1:<port>/mcp: the MCP endpoint and the resource identifier. */
  resource: string;
  metadataUrl: string;
  /** The payload of every token that verified. */
  seen: JWTPayload[];
  /** Requests refused with 401, and why (jose's error code, or "no_token"). */
  refused: string[];
  close(): Promise<void>;
}

export async function startProtectedMcpServer(issuer: string): Promise<ProtectedMcpServer> {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`), { timeoutDuration: 10_000 });
  const seen: JWTPayload[] = [];
  const refused: string[] = [];
  let resource = '';
  let metadataUrl = '';

  const unauthorized = (res: http.ServerResponse, why: string, tokenSent: boolean) => {
    refused.push(why);
    res.writeHead(401, {
      'www-authenticate': `Bearer resource_metadata="${metadataUrl}"${tokenSent ? ', error="invalid_token"' : ''}`,
      'content-type': 'application/json',
    }).end(JSON.stringify({ error: tokenSent ? 'invalid_token' : 'unauthorized' }));
  };

  async function handle(req: http.IncomingMessage & { auth?: AuthInfo }, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', resource);
    if (req.method === 'GET' && url.pathname === '/.well-known/oauth-protected-resource') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ resource, authorization_servers: [issuer], bearer_methods_supported: ['header'] }));
      return;
    }
    if (url.pathname !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(req.headers.authorization ?? '');
    if (!m) return unauthorized(res, 'no_token', false);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(m[1]!, jwks, { issuer, audience: resource, typ: 'at+jwt' }));
    } catch (error) {
      return unauthorized(res, (error as { code?: string }).code ?? 'invalid', true);
    }
    seen.push(payload);
    req.auth = {
      token: m[1]!, clientId: String(payload.client_id ?? ''), scopes: typeof payload.scope === 'string' ? payload.scope.split(' ') : [],
      ...(payload.exp ? { expiresAt: payload.exp } : {}), resource: new URL(resource), extra: { sub: payload.sub },
    };

    const server = new McpServer({ name: 'custos-interop-tools', version: '1.0.0' });
    server.registerTool('echo', { description: 'Repeats the text, naming who asked', inputSchema: { text: z.string() } }, async ({ text }, extra) => ({
      content: [{ type: 'text', text: `${text} (for ${String(extra.authInfo?.extra?.sub)})` }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => { void transport.close(); void server.close(); });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  }

  const httpServer = http.createServer((req, res) => {
    handle(req, res).catch(() => { if (!res.headersSent) res.writeHead(500).end(); else res.destroy(); });
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  resource = `${base}/mcp`;
  metadataUrl = `${base}/.well-known/oauth-protected-resource`;
  return {
    resource, metadataUrl, seen, refused,
    close: () => new Promise<void>((resolve) => { httpServer.closeAllConnections(); httpServer.close(() => resolve()); }),
  };
}
