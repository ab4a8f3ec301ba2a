import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { authorizeUrl, createBrowser, csrfOf, pkcePair, tokenRequest } from '../support/signin.js';

// Clients nobody here vetted — identified by a Client ID Metadata Document, or registered dynamically — can be
// created by anyone and name themselves anything. They get tokens for registered resources only (never the
// management API a person's role acts on), their errors are pages (no open redirector), and they may not call
// themselves Custos. A metadata document is served over loopback here (allowed by --cimd-allow-private).

describe('unvetted clients (metadata documents, dynamic registration)', () => {
  let h: Harness;
  let docs: http.Server;
  let base: string;
  const documents = new Map<string, Record<string, unknown>>();
  const REDIRECT = 'https://client.example/cb';

  beforeAll(async () => {
    docs = http.createServer((req, res) => {
      const doc = documents.get(req.url ?? '');
      if (!doc) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' }).end(JSON.stringify(doc));
    });
    await new Promise<void>((resolve) => docs.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(docs.address() as AddressInfo).port}`;
    h = await startHarness('sqlite', { settings: { cimdAllowPrivate: '127.0.0.1', dynamicClientRegistration: 'true' } });
    expect((await h.call('POST', '/v1/resources', { name: 'tools', kind: 'tool', owner: 'bootstrap-admin', uri: 'https://tools.example/mcp' })).status).toBe(201);
  });
  afterAll(async () => { await h?.close(); await new Promise((resolve) => docs?.close(resolve)); });

  function document(path: string, name: string): string {
    const clientId = `${base}${path}`;
    documents.set(path, { client_id: clientId, client_name: name, redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none' });
    return clientId;
  }

  /** Authorize → operator-token sign-in → the consent step (GET), returning that answer and the browser. */
  async function toConsent(clientId: string, resource: string[] = []) {
    const b = createBrowser(h);
    const pkce = pkcePair();
    const start = await b.get(authorizeUrl({ challenge: pkce.challenge, clientId, redirectUri: REDIRECT, resource }));
    expect(start.status, start.body).toBe(303);
    const page = await b.get(start.location!);
    expect(page.body).toMatch(/not registered with Custos/);
    const signedIn = await b.post(`${start.location}/token`, { csrf: csrfOf(page.body), token: h.adminToken });
    return { b, pkce, start, consent: await b.get(signedIn.location!) };
  }

  it('a metadata-document client may not ask for the management API, not even by default', async () => {
    const clientId = document('/mcp-client.json', 'Handy MCP client');
    for (const resource of [[], [h.cp.issuer()]]) {
      const { consent } = await toConsent(clientId, resource);
      expect(consent.status).toBe(303);
      const back = new URL(consent.location!);
      expect(back.origin + back.pathname).toBe(REDIRECT);
      expect(back.searchParams.get('error')).toBe('invalid_target');
    }
  });

  it('it may get a token for a registered resource, which never carries the person\'s role', async () => {
    const clientId = document('/tools-client.json', 'Tools client');
    const { b, pkce, start, consent } = await toConsent(clientId, ['https://tools.example/mcp']);
    expect(consent.status).toBe(200);
    expect(consent.body).toMatch(/identified by its metadata document/);
    const approved = await b.post(`${start.location}/consent`, { csrf: csrfOf(consent.body), decision: 'approve' });
    const code = new URL(approved.location!).searchParams.get('code')!;
    const t = await tokenRequest(h, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: pkce.verifier });
    expect(t.status, JSON.stringify(t.body)).toBe(200);
    const claims = JSON.parse(Buffer.from(t.body.access_token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ aud: 'https://tools.example/mcp', client_id: clientId });
    expect(claims.roles).toBeUndefined();
    expect((await h.call('GET', '/v1/whoami', undefined, t.body.access_token)).status).toBe(401);
    // Asking the refresh for the management API is outside the consent.
    expect((await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: t.body.refresh_token, client_id: clientId, resource: h.cp.issuer() })).body.error).toBe('invalid_target');
  });

  it('its request errors are pages, never redirects to its URI (no open redirector)', async () => {
    const clientId = document('/redirector.json', 'Redirector');
    const b = createBrowser(h);
    for (const extra of [{ response_type: 'token' }, { prompt: 'none' }] as Record<string, string>[]) {
      const res = await b.get(authorizeUrl({ challenge: pkcePair().challenge, clientId, redirectUri: REDIRECT, extra }));
      expect(res.status).toBe(400);
      expect(res.location).toBeUndefined();
    }
  });

  it('it may not call itself Custos', async () => {
    const clientId = document('/impostor.json', 'Custos  C.L.I');
    const res = await createBrowser(h).get(authorizeUrl({ challenge: pkcePair().challenge, clientId, redirectUri: REDIRECT }));
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/may not use the name Custos/);
  });

  it('a dynamically registered client is held to the same rules', async () => {
    const reg = await h.cp.http.inject({ method: 'POST', url: '/oauth/register', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ client_name: 'Self-registered', redirect_uris: [REDIRECT] }) });
    expect(reg.statusCode, reg.body).toBe(201);
    const { client_id: clientId } = JSON.parse(reg.body) as { client_id: string };
    const b = createBrowser(h);
    const pkce = pkcePair();
    const start = await b.get(authorizeUrl({ challenge: pkce.challenge, clientId, redirectUri: REDIRECT }));
    const page = await b.get(start.location!);
    expect(page.body).toMatch(/registered itself/);
    const signedIn = await b.post(`${start.location}/token`, { csrf: csrfOf(page.body), token: h.adminToken });
    const consent = await b.get(signedIn.location!);
    expect(new URL(consent.location!).searchParams.get('error')).toBe('invalid_target');
    expect((await b.get(authorizeUrl({ challenge: pkce.challenge, clientId, redirectUri: REDIRECT, extra: { response_type: 'token' } }))).status).toBe(400);
    // Nor may a self-registered client use the device grant (whoever starts it gets the tokens of whoever enters the code).
    const device = await h.cp.http.inject({ method: 'POST', url: '/oauth/register', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'] }) });
    expect(device.statusCode).toBe(400);
    expect(JSON.parse(device.body).error).toBe('invalid_client_metadata');
  });
});
