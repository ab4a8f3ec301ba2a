import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { createHttpBrowser } from '../support/http-browser.js';
import { startProtectedMcpServer, type ProtectedMcpServer } from '../support/mcp-resource-server.js';
import { serveCustos, type ServedCustos } from '../support/serve-process.js';
import { authorizeUrl, createBrowser, csrfOf, pkcePair } from '../support/signin.js';
import { selfSignedCertificate } from '../support/tls.js';

// Interoperability for people, with clients nobody here wrote, over real HTTP:
// 1. oauth4webapi as a public client (custos-cli): RFC 8414 discovery, authorization code + PKCE S256 with state,
//    RFC 9207 iss checked by the client, the code and refresh grants (rotation), RFC 7009 revocation; and the
//    client's own refusals (state, iss) and Custos's (a rotated refresh token presented again).
// 2. The MCP TypeScript SDK's client against a protected MCP server written with the MCP SDK and jose: the 401
//    leads it to the RFC 9728 document, then to Custos; it identifies itself with a Client ID Metadata Document
//    served over https on 127.0.0.1 (Custos runs as a real `custos serve` process trusting that certificate and
//    allowed to fetch from 127.0.0.1); a person approves; the SDK exchanges the code and calls a tool with a
//    token whose audience is the MCP server (RFC 8707). And a Custos without the allow list never fetches it.
// Each client is used only through its public API. The person's part is done by a small cookie-jar browser.
// SQLite only: the store is not what is under test.

const insecure = { [oauth.allowInsecureRequests]: true } as const;

/** A refusal by the server shows its error and description, so a failing grant says why. */
function explained<T>(p: Promise<T>): Promise<T> {
  return p.catch((error: unknown) => {
    if (error instanceof oauth.ResponseBodyError) throw new Error(`server refused: ${error.error}: ${error.error_description ?? ''}`);
    throw error;
  });
}

const audiences = (aud: unknown): string[] => (Array.isArray(aud) ? aud.map(String) : aud === undefined ? [] : [String(aud)]);

describe('oauth4webapi signs a person in through Custos (authorization code + PKCE, public client custos-cli)', () => {
  const REDIRECT = 'http://127.0.0.1:53682/callback';
  const client: oauth.Client = { client_id: 'custos-cli' };
  const none = oauth.None();
  let h: Harness;
  let issuer: string;
  let as: oauth.AuthorizationServer;

  beforeAll(async () => {
    h = await startHarness('sqlite');
    await h.cp.listen();
    issuer = h.cp.issuer();
    as = await oauth.processDiscoveryResponse(new URL(issuer), await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2', ...insecure }));
  });
  afterAll(async () => h?.close());
  // Nothing the client sends is signed, but the server's manual clock should still read the real time.
  beforeEach(() => h.clock.set(new Date()));

  /** The client's authorization request, built by oauth4webapi's helpers on the discovered endpoint. */
  async function authorizationRequest() {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', client.client_id);
    url.searchParams.set('redirect_uri', REDIRECT);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    url.searchParams.set('state', state);
    return { url, verifier, state };
  }

  /** The person's part in a browser: authorization URL → sign in with the admin's operator token → Allow. */
  async function personApproves(url: URL): Promise<URL> {
    const browser = createBrowser(h);
    const start = await browser.get(url.href);
    expect(start.status, start.body.slice(0, 300)).toBe(303);
    expect(start.location).toMatch(/^\/signin\/[0-9a-f-]{36}$/);
    const page = await browser.get(start.location!);
    const signedIn = await browser.post(`${start.location}/token`, { csrf: csrfOf(page.body), token: h.adminToken });
    expect(signedIn.status, signedIn.body.slice(0, 300)).toBe(303);
    const consent = await browser.get(signedIn.location!);
    expect(consent.status).toBe(200);
    const approved = await browser.post(`${start.location}/consent`, { csrf: csrfOf(consent.body), decision: 'approve' });
    expect(approved.status, approved.body.slice(0, 300)).toBe(303);
    return new URL(approved.location!);
  }

  async function codeGrant() {
    const req = await authorizationRequest();
    const callback = await personApproves(req.url);
    const params = oauth.validateAuthResponse(as, client, callback, req.state);
    const res = await oauth.authorizationCodeGrantRequest(as, client, none, params, REDIRECT, req.verifier, insecure);
    return explained(oauth.processAuthorizationCodeResponse(as, client, res));
  }

  const refresh = async (refreshToken: string) => oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, none, refreshToken, insecure));

  it('discovers the authorization endpoint, S256 and the RFC 9207 iss support it relies on', () => {
    expect(as).toMatchObject({
      issuer, authorization_endpoint: `${issuer}/oauth/authorize`, token_endpoint: `${issuer}/oauth/token`, revocation_endpoint: `${issuer}/oauth/revoke`,
      code_challenge_methods_supported: ['S256'], authorization_response_iss_parameter_supported: true,
    });
  });

  it('code + PKCE → tokens for the person → a rotated refresh → the client revokes the refresh token and the session ends', async () => {
    const tokens = await codeGrant();
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.refresh_token).toMatch(/^custos_rt_/);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ iss: issuer, aud: issuer, client_id: 'custos-cli' });
    // The token works at the management API over the listening socket, as the bootstrap admin.
    const me = await fetch(`${issuer}/v1/whoami`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ role: 'admin' });

    const second = await explained(refresh(tokens.refresh_token!));
    expect(second.refresh_token).toMatch(/^custos_rt_/);
    expect(second.refresh_token).not.toBe(tokens.refresh_token);
    expect(second.access_token).not.toBe(tokens.access_token);

    const revoked = await oauth.revocationRequest(as, client, none, second.refresh_token!, { ...insecure, additionalParameters: { token_type_hint: 'refresh_token' } });
    await oauth.processRevocationResponse(revoked);
    await expect(refresh(second.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await fetch(`${issuer}/v1/whoami`, { headers: { authorization: `Bearer ${second.access_token}` } })).status).toBe(401);
  });

  it('the client refuses a callback with another state, an altered iss, or no iss (mix-up defence)', async () => {
    const req = await authorizationRequest();
    const callback = await personApproves(req.url);
    expect(callback.searchParams.get('iss')).toBe(issuer);
    expect(() => oauth.validateAuthResponse(as, client, callback, oauth.generateRandomState())).toThrow(/unexpected "state"/);
    const altered = new URL(callback);
    altered.searchParams.set('iss', 'http://127.0.0.1:1');
    expect(() => oauth.validateAuthResponse(as, client, altered, req.state)).toThrow(/unexpected "iss"/);
    const stripped = new URL(callback);
    stripped.searchParams.delete('iss');
    expect(() => oauth.validateAuthResponse(as, client, stripped, req.state)).toThrow(/"iss" \(issuer\) missing/);
    // The genuine callback still passes, and its code is still good.
    const params = oauth.validateAuthResponse(as, client, callback, req.state);
    const res = await oauth.authorizationCodeGrantRequest(as, client, none, params, REDIRECT, req.verifier, insecure);
    expect((await explained(oauth.processAuthorizationCodeResponse(as, client, res))).token_type).toBe('bearer');
  });

  it('a rotated refresh token presented again is invalid_grant, and the latest one of its family dies with it', async () => {
    const first = await codeGrant();
    const second = await explained(refresh(first.refresh_token!));
    await expect(refresh(first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant', status: 400 });
    await expect(refresh(second.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant', status: 400 });
    expect((await fetch(`${issuer}/v1/whoami`, { headers: { authorization: `Bearer ${second.access_token}` } })).status).toBe(401);
  });
});

/** What an MCP client application keeps: in memory, and the authorization URL it would open in a browser. */
class RecordingProvider implements OAuthClientProvider {
  authorizationUrl: URL | undefined;
  lastState: string | undefined;
  private info: OAuthClientInformationMixed | undefined;
  private saved: OAuthTokens | undefined;
  private verifier: string | undefined;

  constructor(readonly clientMetadataUrl: string, private readonly redirect: string, private readonly name: string) {}

  get redirectUrl(): string { return this.redirect; }
  get clientMetadata(): OAuthClientMetadata {
    return { client_name: this.name, redirect_uris: [this.redirect], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  state(): string {
    this.lastState = crypto.randomBytes(16).toString('base64url');
    return this.lastState;
  }
  // Nothing is registered up front: the SDK puts the metadata document URL here as the client_id.
  clientInformation(): OAuthClientInformationMixed | undefined { return this.info; }
  saveClientInformation(info: OAuthClientInformationMixed): void { this.info = info; }
  tokens(): OAuthTokens | undefined { return this.saved; }
  saveTokens(tokens: OAuthTokens): void { this.saved = tokens; }
  redirectToAuthorization(url: URL): void { this.authorizationUrl = url; }
  saveCodeVerifier(verifier: string): void { this.verifier = verifier; }
  codeVerifier(): string {
    if (!this.verifier) throw new Error('no code verifier saved');
    return this.verifier;
  }
}

describe('the MCP SDK client finds Custos from a protected MCP server and signs in with a Client ID Metadata Document', () => {
  const REDIRECT = 'http://127.0.0.1:47611/callback';
  let dir: string;
  let cimd: https.Server;
  let cimdUrl: string;
  const cimdHits = { connections: 0, requests: 0 };
  let custos: ServedCustos | undefined;
  let mcp: ProtectedMcpServer | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-cimd-'));
    const cert = await selfSignedCertificate(dir);
    cimd = https.createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
      cimdHits.requests += 1;
      if (req.method !== 'GET' || req.url !== '/client.json') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(JSON.stringify({
        client_id: cimdUrl, client_name: 'MCP test client', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'], token_endpoint_auth_method: 'none',
      }));
    });
    // Every TCP connection counts, so even a fetch that failed its TLS handshake would show.
    cimd.on('connection', () => { cimdHits.connections += 1; });
    await new Promise<void>((resolve) => cimd.listen(0, '127.0.0.1', resolve));
    cimdUrl = `https://127.0.0.1:${(cimd.address() as AddressInfo).port}/client.json`;

    // NODE_EXTRA_CA_CERTS is read only when a process starts: hence a real `custos serve`.
    custos = await serveCustos(['--cimd-allow-private', '127.0.0.1'], { NODE_EXTRA_CA_CERTS: cert.certFile });
    mcp = await startProtectedMcpServer(custos.url);
    const registered = await fetch(`${custos.url}/v1/resources`, {
      method: 'POST', headers: { authorization: `Bearer ${custos.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'mcp-tools', kind: 'tool', uri: mcp.resource, owner: 'bootstrap-admin', reason: 'interop test' }),
    });
    expect(registered.status, await registered.clone().text()).toBe(201);
    expect(await registered.json()).toMatchObject({ audience: mcp.resource });
  });
  afterAll(async () => {
    await mcp?.close();
    await custos?.stop();
    await new Promise<void>((resolve) => { if (!cimd) return resolve(); cimd.closeAllConnections(); cimd.close(() => resolve()); });
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('401 → RFC 9728 → Custos metadata → authorization with the CIMD URL as client_id → consent → code → tokens → a tool call with aud = the MCP server', async () => {
    const provider = new RecordingProvider(cimdUrl, REDIRECT, 'MCP test client');
    const first = new Client({ name: 'custos-interop', version: '1.0.0' });
    const firstTransport = new StreamableHTTPClientTransport(new URL(mcp!.resource), { authProvider: provider });
    await expect(first.connect(firstTransport)).rejects.toBeInstanceOf(UnauthorizedError);
    await first.close();
    expect(mcp!.refused).toContain('no_token');

    // The SDK chose the metadata document as the client_id (Custos advertises client_id_metadata_document_supported).
    const authUrl = provider.authorizationUrl!;
    expect(authUrl, 'the SDK never asked to open a browser').toBeDefined();
    expect(authUrl.origin + authUrl.pathname).toBe(`${custos!.url}/oauth/authorize`);
    expect(authUrl.searchParams.get('client_id')).toBe(cimdUrl);
    expect(authUrl.searchParams.get('resource')).toBe(mcp!.resource);
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authUrl.searchParams.get('redirect_uri')).toBe(REDIRECT);
    expect(authUrl.searchParams.get('state')).toBe(provider.lastState);

    // The person, in a browser, at the real process.
    const browser = createHttpBrowser(custos!.url);
    const before = cimdHits.requests;
    const start = await browser.get(authUrl.href);
    expect(start.status, start.body.slice(0, 500)).toBe(303);
    expect(start.location).toMatch(/^\/signin\/[0-9a-f-]{36}$/);
    expect(cimdHits.requests).toBeGreaterThan(before);
    const signin = await browser.get(start.location!);
    expect(signin.status).toBe(200);
    const signedIn = await browser.post(`${start.location}/token`, { csrf: csrfOf(signin.body), token: custos!.adminToken });
    expect(signedIn.status, signedIn.body.slice(0, 500)).toBe(303);
    const consent = await browser.get(signedIn.location!);
    expect(consent.status).toBe(200);
    expect(consent.body).toContain('<strong>MCP test client</strong> wants to act for you');
    expect(consent.body).toContain(`identified by its metadata document at <code>${cimdUrl}</code>`);
    expect(consent.body).toContain(`mcp-tools <code>${mcp!.resource}</code>`);
    const approved = await browser.post(`${start.location}/consent`, { csrf: csrfOf(consent.body), decision: 'approve' });
    expect(approved.status, approved.body.slice(0, 500)).toBe(303);
    const callback = new URL(approved.location!);
    expect(callback.origin + callback.pathname).toBe(REDIRECT);
    expect(callback.searchParams.get('state')).toBe(provider.lastState);
    expect(callback.searchParams.get('iss')).toBe(custos!.url);

    // Back in the application: the SDK redeems the code (PKCE verifier, resource, client_id = the CIMD URL).
    await firstTransport.finishAuth(callback.searchParams.get('code')!);
    const tokens = provider.tokens()!;
    expect(tokens.refresh_token).toMatch(/^custos_rt_/);
    expect(audiences(decodeJwt(tokens.access_token).aud)).toEqual([mcp!.resource]);

    const second = new Client({ name: 'custos-interop', version: '1.0.0' });
    await second.connect(new StreamableHTTPClientTransport(new URL(mcp!.resource), { authProvider: provider }));
    try {
      const tools = await second.listTools();
      expect(tools.tools.map((t) => t.name)).toEqual(['echo']);
      const called = await second.callTool({ name: 'echo', arguments: { text: 'hello' } });
      const sub = decodeJwt(tokens.access_token).sub;
      expect(called.content).toEqual([{ type: 'text', text: `hello (for ${sub})` }]);
    } finally {
      await second.close();
    }

    // What the resource server verified: Custos's token for it, issued to the CIMD client, for this person.
    expect(mcp!.seen.length).toBeGreaterThan(0);
    for (const payload of mcp!.seen) {
      expect(audiences(payload.aud)).toEqual([mcp!.resource]);
      expect(payload).toMatchObject({ iss: custos!.url, client_id: cimdUrl, sub: decodeJwt(tokens.access_token).sub });
    }
    // And the audience keeps it there: Custos's own API does not take a token addressed to the MCP server.
    expect((await fetch(`${custos!.url}/v1/whoami`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);

    // An access token that no longer verifies (here: its signature broken) is refused by the resource server;
    // the SDK then refreshes at Custos by itself (rotation) and carries on with the new token.
    const [head, body, signature] = tokens.access_token.split('.');
    const broken = `${head}.${body}.${signature!.startsWith('A') ? 'B' : 'A'}${signature!.slice(1)}`;
    provider.saveTokens({ ...tokens, access_token: broken });
    const refusedBefore = mcp!.refused.length;
    const third = new Client({ name: 'custos-interop', version: '1.0.0' });
    await third.connect(new StreamableHTTPClientTransport(new URL(mcp!.resource), { authProvider: provider }));
    try {
      expect((await third.callTool({ name: 'echo', arguments: { text: 'again' } })).content).toEqual([{ type: 'text', text: `again (for ${decodeJwt(tokens.access_token).sub})` }]);
    } finally {
      await third.close();
    }
    expect(mcp!.refused.slice(refusedBefore)).toEqual(['ERR_JWS_SIGNATURE_VERIFICATION_FAILED']);
    const refreshed = provider.tokens()!;
    expect(refreshed.refresh_token).toMatch(/^custos_rt_/);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(audiences(decodeJwt(refreshed.access_token).aud)).toEqual([mcp!.resource]);
    expect(mcp!.seen.at(-1)).toMatchObject({ jti: decodeJwt(refreshed.access_token).jti });
  });

  it('a Custos without --cimd-allow-private never fetches a metadata document from 127.0.0.1', async () => {
    const h = await startHarness('sqlite');
    try {
      const before = { ...cimdHits };
      const res = await createBrowser(h).get(authorizeUrl({ clientId: cimdUrl, redirectUri: REDIRECT, challenge: pkcePair().challenge, resource: [mcp!.resource] }));
      expect(res.status).toBe(400);
      expect(res.location).toBeUndefined();
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      // Refused before any lookup or connection: its port (not 443) and its loopback address are each enough.
      expect(res.body).toMatch(/not a metadata document URL this server may fetch|private, loopback or otherwise special-use/);
      expect(cimdHits).toEqual(before);
    } finally {
      await h.close();
    }
  });
});
