import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommanderError } from 'commander';
import { CliError } from '../../src/cli/client.js';
import { registerOAuthClientCommands } from '../../src/cli/commands/oauth-client.js';
import { allCommands, buildProgram } from '../../src/cli/program.js';
import { systemActor } from '../../src/platform/actor.js';
import { createLogger } from '../../src/platform/logger.js';
import { createHttpApp, type HttpApp } from '../../src/platform/http/app.js';
import { errors } from '../../src/platform/http/errors.js';
import { newId } from '../../src/platform/ids.js';
import { registerDynamicRegistrationRoute, DCR_BODY_LIMIT } from '../../src/signin/clients/dynamic-registration.js';
import { registerOAuthClientRoutes } from '../../src/signin/clients/oauth-clients.routes.js';
import {
  BUILTIN_CLIENT_ID, DynamicClientLimit, createOAuthClientService, type OAuthClientService,
} from '../../src/signin/clients/oauth-clients.service.js';
import { redirectUriMatches } from '../../src/signin/clients/redirect-uri.js';
import { eventsSince, lastSeq } from '../identity/store-probe.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';

// OAuth clients for people on both stores: registration, listing, changes and removal over /v1/oauth-clients
// (each audited in its own transaction), the built-in custos-cli (shown, never changed), refusals that write
// nothing, and RFC 7591 Dynamic Client Registration at /oauth/register (on when enabled, 404 when not, RFC
// 7591 §3.2.2 errors, bounded). The routes are the app's once the composition root registers them; until then
// this file mounts them on the harness's own app, so the real management pipeline (operator tokens, the role
// table) runs in front of them either way.

const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';
const silent = () => createLogger('silent');

/** The app's routes when the composition root registers them, else this service's. */
function withRoutes(h: Harness, clients: OAuthClientService): void {
  if (!h.cp.http.hasRoute({ method: 'POST', url: '/v1/oauth-clients' })) registerOAuthClientRoutes(h.cp.http, clients);
  if (!h.cp.http.hasRoute({ method: 'POST', url: '/oauth/register' })) registerDynamicRegistrationRoute(h.cp.http, clients, { enabled: true });
}

async function storedClients(h: Harness): Promise<number> {
  const r = await sql<{ n: number | string }>`select count(*) as n from oauth_clients`.execute(h.cp.db.kysely);
  return Number(r.rows[0]!.n);
}

/** A registration request as an MCP client sends it (no token). */
async function register(h: Harness, body: unknown, headers: Record<string, string> = {}) {
  const res = await h.cp.http.inject({
    method: 'POST', url: '/oauth/register', headers: { 'content-type': 'application/json', 'user-agent': 'mcp-client/1.0', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
  let parsed: any;
  try { parsed = JSON.parse(res.body); } catch { parsed = undefined; }
  return { status: res.statusCode, body: parsed, headers: res.headers, text: res.body };
}

for (const backend of BACKENDS) {
  describe(`OAuth clients for people on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let clients: OAuthClientService;
    let adminId: string;

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend, { settings: { dynamicClientRegistration: 'true' } });
      clients = createOAuthClientService({ db: h.cp.db, audit: h.cp.audit, clock: h.clock, newId });
      withRoutes(h, clients);
      adminId = (await h.call('GET', '/v1/whoami')).body.principal_id;
    });
    afterAll(async () => { await h?.close(); });

    it.runIf(enabled)('the built-in custos-cli is shown, found and listed first, and cannot be changed or deleted', async () => {
      const shown = await h.call('GET', `/v1/oauth-clients/${BUILTIN_CLIENT_ID}`);
      expect(shown.status, shown.text).toBe(200);
      expect(shown.body).toEqual({
        client_id: 'custos-cli', name: 'Custos CLI', source: 'builtin',
        redirect_uris: ['http://127.0.0.1/callback', 'http://[::1]/callback'],
        grant_types: ['authorization_code', 'refresh_token', DEVICE], scope: null, created_at: null, created_by: null,
      });
      const found = await clients.find('custos-cli');
      expect(found).toMatchObject({ clientId: 'custos-cli', source: 'builtin', scope: null });
      expect(redirectUriMatches(found!.redirectUris, 'http://127.0.0.1:53127/callback')).toBe(true);
      expect(redirectUriMatches(found!.redirectUris, 'http://[::1]:8080/callback')).toBe(true);
      expect(redirectUriMatches(found!.redirectUris, 'http://localhost:53127/callback')).toBe(false);
      // A caller changing what find() returned changes nothing for the next caller.
      found!.redirectUris.push('https://evil.example/cb');
      expect((await clients.find('custos-cli'))!.redirectUris).toEqual(['http://127.0.0.1/callback', 'http://[::1]/callback']);
      expect((await h.call('GET', '/v1/oauth-clients')).body.items[0].client_id).toBe('custos-cli');

      const seq = await lastSeq(h);
      const patched = await h.call('PATCH', '/v1/oauth-clients/custos-cli', { redirect_uris: ['https://evil.example/cb'] });
      expect([patched.status, patched.body.code, patched.headers['content-type']]).toEqual([409, 'builtin_client', 'application/problem+json; charset=utf-8']);
      const deleted = await h.call('DELETE', '/v1/oauth-clients/custos-cli');
      expect([deleted.status, deleted.body.code]).toEqual([409, 'builtin_client']);
      expect(await lastSeq(h)).toBe(seq);
      expect((await h.call('GET', '/v1/oauth-clients/custos-cli')).body.redirect_uris).toEqual(['http://127.0.0.1/callback', 'http://[::1]/callback']);
    });

    it.runIf(enabled)('registers, lists, shows, changes and deletes a client, each change audited', async () => {
      const seq = await lastSeq(h);
      const made = await h.call('POST', '/v1/oauth-clients', {
        name: 'Model Console', redirect_uris: ['https://console.example.com/callback', 'http://127.0.0.1/cb', 'https://console.example.com/callback'],
        scope: ['models:read', 'models:invoke'], reason: 'new console',
      });
      expect(made.status, made.text).toBe(201);
      expect(made.body).toEqual({
        client_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/), name: 'Model Console', source: 'registered',
        redirect_uris: ['https://console.example.com/callback', 'http://127.0.0.1/cb'], grant_types: ['authorization_code', 'refresh_token'],
        scope: ['models:read', 'models:invoke'], created_at: h.clock.now().toISOString(), created_by: adminId,
      });
      const id = made.body.client_id as string;
      expect(await h.cp.db.kysely.selectFrom('oauth_clients').selectAll().where('client_id', '=', id).executeTakeFirst()).toEqual({
        client_id: id, name: 'Model Console', kind: 'registered', redirect_uris: '["https://console.example.com/callback","http://127.0.0.1/cb"]',
        grant_types: '["authorization_code","refresh_token"]', scope: 'models:read models:invoke', created_at: made.body.created_at, created_by: adminId,
      });
      expect((await h.call('GET', `/v1/oauth-clients/${id}`)).body).toEqual(made.body);
      expect(await clients.find(id)).toEqual({
        clientId: id, name: 'Model Console', source: 'registered', redirectUris: ['https://console.example.com/callback', 'http://127.0.0.1/cb'],
        grantTypes: ['authorization_code', 'refresh_token'], scope: ['models:read', 'models:invoke'],
      });

      const kiosk = await h.call('POST', '/v1/oauth-clients', { name: 'Kiosk', redirect_uris: [], grant_types: [DEVICE, 'refresh_token'] });
      expect(kiosk.status, kiosk.text).toBe(201);
      expect(kiosk.body).toMatchObject({ redirect_uris: [], grant_types: [DEVICE, 'refresh_token'], scope: null });

      // Pages: the built-in client first, then creation order, with cursors that carry on exactly.
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { status: number; body: { items: Array<{ client_id: string }>; next_cursor: string | null } } =
          await h.call('GET', `/v1/oauth-clients?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(1);
        seen.push(...page.body.items.map((c) => c.client_id));
        cursor = page.body.next_cursor;
        pages += 1;
      } while (cursor && pages < 20);
      expect(seen.slice(0, 1)).toEqual(['custos-cli']);
      expect(seen.filter((c) => c === id || c === kiosk.body.client_id)).toEqual([id, kiosk.body.client_id]);
      expect(new Set(seen).size).toBe(seen.length);
      const registeredOnly = await h.call('GET', '/v1/oauth-clients?source=registered&limit=500');
      expect(registeredOnly.body.items.every((c: { source: string }) => c.source === 'registered')).toBe(true);
      expect(registeredOnly.body.items.map((c: { client_id: string }) => c.client_id)).toEqual(expect.arrayContaining([id, kiosk.body.client_id]));
      expect((await h.call('GET', '/v1/oauth-clients?source=builtin')).body).toEqual({ items: [expect.objectContaining({ client_id: 'custos-cli' })], next_cursor: null });
      expect((await h.call('GET', '/v1/oauth-clients?cursor=forged.cursor')).body.code).toBe('invalid_cursor');

      const patched = await h.call('PATCH', `/v1/oauth-clients/${id}`, { name: 'Model Console 2', redirect_uris: ['https://console.example.com/cb2'], reason: 'moved' });
      expect(patched.status, patched.text).toBe(200);
      expect(patched.body).toMatchObject({ name: 'Model Console 2', redirect_uris: ['https://console.example.com/cb2'], scope: ['models:read', 'models:invoke'] });
      const anyScope = await h.call('PATCH', `/v1/oauth-clients/${id}`, { scope: null });
      expect(anyScope.body.scope).toBeNull();
      expect((await clients.find(id))!.scope).toBeNull();

      expect((await h.call('DELETE', `/v1/oauth-clients/${id}?reason=retired`)).status).toBe(204);
      expect((await h.call('GET', `/v1/oauth-clients/${id}`)).body.code).toBe('not_found');
      expect((await h.call('DELETE', `/v1/oauth-clients/${id}`)).status).toBe(404);
      expect((await h.call('PATCH', `/v1/oauth-clients/${id}`, { name: 'x' })).status).toBe(404);
      expect(await clients.find(id)).toBeUndefined();
      expect((await h.call('GET', '/v1/oauth-clients/not-a-client')).status).toBe(404);
      expect(await clients.find('https://app.example.com/client.json')).toBeUndefined();

      const events = (await eventsSince(h, seq)).filter((e) => e.type.startsWith('signin.client.'));
      expect(events.map((e) => [e.type, e.target?.id, e.actor.principal_id])).toEqual([
        ['signin.client.registered', id, adminId], ['signin.client.registered', kiosk.body.client_id, adminId],
        ['signin.client.updated', id, adminId], ['signin.client.updated', id, adminId], ['signin.client.deleted', id, adminId],
      ]);
      expect(events[0]!.details).toEqual({
        source: 'registered', redirect_uris: ['https://console.example.com/callback', 'http://127.0.0.1/cb'],
        grant_types: ['authorization_code', 'refresh_token'], scope: ['models:read', 'models:invoke'], reason: 'new console',
      });
      expect(events[2]!.details).toEqual({
        source: 'registered', changed: ['name', 'redirect_uris'], reason: 'moved',
        before: { name: 'Model Console', redirect_uris: ['https://console.example.com/callback', 'http://127.0.0.1/cb'] },
        after: { name: 'Model Console 2', redirect_uris: ['https://console.example.com/cb2'] },
      });
      expect(events[3]!.details).toMatchObject({ changed: ['scope'], before: { scope: ['models:read', 'models:invoke'] }, after: { scope: null } });
      expect(events[4]!.details).toEqual({ source: 'registered', reason: 'retired' });
      expect(events[4]!.target?.name).toBe('Model Console 2');
      expect((await h.call('DELETE', `/v1/oauth-clients/${kiosk.body.client_id}`)).status).toBe(204);
    });

    it.runIf(enabled)('refuses bad input with a stable problem code and writes nothing', async () => {
      const base = { name: 'Bad', redirect_uris: ['https://bad.example.com/cb'] };
      const existing = await h.call('POST', '/v1/oauth-clients', { name: 'Stable', redirect_uris: ['https://stable.example.com/cb'] });
      expect(existing.status).toBe(201);
      const rows = await storedClients(h);
      const seq = await lastSeq(h);
      const cases: Array<[string, string, unknown, string, string | undefined]> = [
        ['POST', '/v1/oauth-clients', { ...base, redirect_uris: ['https://bad.example.com/cb#frag'] }, 'invalid_client_metadata', 'redirect_uris'],
        ['POST', '/v1/oauth-clients', { ...base, redirect_uris: ['http://bad.example.com/cb'] }, 'invalid_client_metadata', 'redirect_uris'],
        ['POST', '/v1/oauth-clients', { ...base, redirect_uris: ['https://ok.example.com/cb', 'javascript:alert(1)'] }, 'invalid_client_metadata', 'redirect_uris'],
        ['POST', '/v1/oauth-clients', { ...base, redirect_uris: [] }, 'invalid_client_metadata', 'redirect_uris'],
        ['POST', '/v1/oauth-clients', { ...base, grant_types: ['refresh_token'] }, 'invalid_client_metadata', 'grant_types'],
        ['POST', '/v1/oauth-clients', { ...base, name: 'custos cli' }, 'invalid_client_metadata', 'name'],
        ['POST', '/v1/oauth-clients', { ...base, grant_types: ['client_credentials'] }, 'validation_failed', undefined],
        ['POST', '/v1/oauth-clients', { ...base, grant_types: ['implicit', 'authorization_code'] }, 'validation_failed', undefined],
        ['POST', '/v1/oauth-clients', { ...base, client_secret: 'x' }, 'validation_failed', undefined],
        ['POST', '/v1/oauth-clients', { ...base, scope: ['has space'] }, 'validation_failed', undefined],
        ['POST', '/v1/oauth-clients', { ...base, name: 'Bad\u202Ename' }, 'validation_failed', undefined],
        ['POST', '/v1/oauth-clients', { redirect_uris: ['https://bad.example.com/cb'] }, 'validation_failed', undefined],
        ['PATCH', `/v1/oauth-clients/${existing.body.client_id}`, { redirect_uris: ['https://stable.example.com/cb#x'] }, 'invalid_client_metadata', 'redirect_uris'],
        ['PATCH', `/v1/oauth-clients/${existing.body.client_id}`, { grant_types: ['refresh_token'] }, 'invalid_client_metadata', 'grant_types'],
        ['PATCH', `/v1/oauth-clients/${existing.body.client_id}`, { redirect_uris: [] }, 'invalid_client_metadata', 'redirect_uris'],
        ['PATCH', `/v1/oauth-clients/${existing.body.client_id}`, { kind: 'dynamic' }, 'validation_failed', undefined],
      ];
      for (const [method, url, body, code, field] of cases) {
        const r = await h.call(method, url, body);
        const what = `${method} ${JSON.stringify(body)}`;
        expect(r.status, what).toBe(400);
        expect(r.headers['content-type'], what).toBe('application/problem+json; charset=utf-8');
        expect(r.body.code, what).toBe(code);
        if (field) expect(r.body.field, what).toBe(field);
      }
      expect(await storedClients(h)).toBe(rows);
      expect(await lastSeq(h)).toBe(seq);
      expect((await h.call('GET', `/v1/oauth-clients/${existing.body.client_id}`)).body.redirect_uris).toEqual(['https://stable.example.com/cb']);
    });

    it.runIf(enabled)('client.read for every reading role, client.write for admins only', async () => {
      const auditor = await h.operator(`aud-${backend}`, 'auditor');
      const security = await h.operator(`sec-${backend}`, 'security');
      const owner = await h.operator(`own-${backend}`, 'owner');
      const rows = await storedClients(h);
      for (const token of [auditor, security]) {
        expect((await h.call('GET', '/v1/oauth-clients', undefined, token)).status).toBe(200);
        expect((await h.call('GET', '/v1/oauth-clients/custos-cli', undefined, token)).status).toBe(200);
      }
      for (const token of [auditor, security, owner]) {
        expect((await h.call('POST', '/v1/oauth-clients', { name: 'Nope', redirect_uris: ['https://nope.example.com/cb'] }, token)).status).toBe(403);
      }
      expect((await h.call('GET', '/v1/oauth-clients', undefined, owner)).status).toBe(403);
      expect((await h.call('GET', '/v1/oauth-clients', undefined, null)).status).toBe(401);
      expect(await storedClients(h)).toBe(rows);
    });

    it.runIf(enabled)('dynamic registration (RFC 7591): an MCP client registers without a token, stored as dynamic, audited as anonymous', async () => {
      const seq = await lastSeq(h);
      const r = await register(h, {
        client_name: 'Claude Desktop', redirect_uris: ['http://127.0.0.1/callback', 'http://localhost:6274/oauth/callback'],
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', scope: 'models:read models:invoke',
        logo_uri: 'https://example.com/logo.png', software_id: 'x', 'client_name#fr': 'Bureau', contacts: ['a@example.com'],
      }, { 'x-request-id': 'dcr-req-1' });
      expect(r.status, r.text).toBe(201);
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.body).toEqual({
        client_id: expect.stringMatching(/^[0-9a-f-]{36}$/), client_id_issued_at: Math.floor(h.clock.now().getTime() / 1000),
        client_name: 'Claude Desktop', redirect_uris: ['http://127.0.0.1/callback', 'http://localhost:6274/oauth/callback'],
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', scope: 'models:read models:invoke',
      });
      expect(r.text).not.toContain('secret');
      const id = r.body.client_id as string;
      expect(await clients.find(id)).toEqual({
        clientId: id, name: 'Claude Desktop', source: 'dynamic', redirectUris: ['http://127.0.0.1/callback', 'http://localhost:6274/oauth/callback'],
        grantTypes: ['authorization_code', 'refresh_token'], scope: ['models:read', 'models:invoke'],
      });
      expect((await h.call('GET', `/v1/oauth-clients/${id}`)).body).toMatchObject({ source: 'dynamic', created_by: null });
      expect((await h.call('GET', '/v1/oauth-clients?source=dynamic')).body.items.map((c: { client_id: string }) => c.client_id)).toContain(id);

      const events = (await eventsSince(h, seq)).filter((e) => e.type.startsWith('signin.client.')) as any[];
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'signin.client.registered', target: { type: 'oauth_client', id, name: 'Claude Desktop' },
        actor: { principal_id: null, principal_name: null, credential_id: null, role: null, auth_method: 'none' },
        provenance: { request_id: 'dcr-req-1', user_agent: 'mcp-client/1.0', source_ip: '127.0.0.1' },
        details: { source: 'dynamic', grant_types: ['authorization_code', 'refresh_token'], scope: ['models:read', 'models:invoke'] },
      });

      // Defaults: grant authorization_code only, auth method none, the name from where the codes go.
      const bare = await register(h, { redirect_uris: ['https://tool.example.com:8443/cb'] });
      expect(bare.status, bare.text).toBe(201);
      expect(bare.body).toMatchObject({ client_name: 'tool.example.com:8443', grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none' });
      expect(bare.body).not.toHaveProperty('scope');
      const app = await register(h, { redirect_uris: ['com.example.tool:/cb'], grant_types: ['authorization_code', 'refresh_token'] });
      expect(app.body).toMatchObject({ client_name: 'com.example.tool', grant_types: ['authorization_code', 'refresh_token'] });
      // The device grant is for clients an administrator registers (device-code phishing, RFC 8628 §5.4).
      const device = await register(h, { redirect_uris: ['com.example.tool:/cb'], grant_types: ['authorization_code', DEVICE] });
      expect(device.body.error).toBe('invalid_client_metadata');

      // The admin can remove a dynamic client like any other.
      expect((await h.call('DELETE', `/v1/oauth-clients/${bare.body.client_id}`)).status).toBe(204);
    });

    it.runIf(enabled)('dynamic registration refuses in the RFC 7591 §3.2.2 shape and writes nothing', async () => {
      const rows = await storedClients(h);
      const seq = await lastSeq(h);
      const ok = { redirect_uris: ['http://127.0.0.1/callback'], client_name: 'Tool' };
      const cases: Array<[unknown, string, number]> = [
        [{ ...ok, token_endpoint_auth_method: 'client_secret_basic' }, 'invalid_client_metadata', 400],
        [{ ...ok, token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata', 400],
        [{ ...ok, redirect_uris: ['https://tool.example.com/cb#fragment'] }, 'invalid_redirect_uri', 400],
        [{ ...ok, redirect_uris: ['http://tool.example.com/cb'] }, 'invalid_redirect_uri', 400],
        [{ ...ok, redirect_uris: 'https://tool.example.com/cb' }, 'invalid_redirect_uri', 400],
        [{ client_name: 'Tool' }, 'invalid_redirect_uri', 400],
        [{ ...ok, response_types: ['token'] }, 'invalid_client_metadata', 400],
        [{ ...ok, response_types: ['code'], grant_types: [DEVICE] }, 'invalid_client_metadata', 400],
        [{ ...ok, grant_types: ['client_credentials'] }, 'invalid_client_metadata', 400],
        [{ ...ok, grant_types: ['refresh_token'] }, 'invalid_client_metadata', 400],
        [{ ...ok, scope: 'a "b"' }, 'invalid_client_metadata', 400],
        [{ ...ok, client_name: 42 }, 'invalid_client_metadata', 400],
        [{ ...ok, client_name: 'Custos CLI' }, 'invalid_client_metadata', 400],
        [{ ...ok, client_name: 'Tool\u202E' }, 'invalid_client_metadata', 400],
        [[ok], 'invalid_client_metadata', 400],
        ['{"redirect_uris": [', 'invalid_client_metadata', 400],
        [{ ...ok, padding: 'x'.repeat(DCR_BODY_LIMIT) }, 'invalid_client_metadata', 413],
      ];
      for (const [body, error, status] of cases) {
        const r = await register(h, body);
        const what = JSON.stringify(body).slice(0, 120);
        expect(r.status, what).toBe(status);
        expect(r.headers['content-type'], what).toBe('application/json; charset=utf-8');
        expect(r.headers['cache-control'], what).toBe('no-store');
        expect(Object.keys(r.body).sort(), what).toEqual(['error', 'error_description']);
        expect(r.body.error, what).toBe(error);
        expect(r.body.error_description, what).toEqual(expect.any(String));
      }
      const form = await h.cp.http.inject({ method: 'POST', url: '/oauth/register', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'redirect_uris=https://a.example/cb' });
      expect([form.statusCode, JSON.parse(form.body).error]).toEqual([400, 'invalid_client_metadata']);
      expect(await storedClients(h)).toBe(rows);
      expect(await lastSeq(h)).toBe(seq);
    });

    it.runIf(enabled)('dynamic registration is bounded, and does not exist when disabled', async () => {
      const present = (await h.cp.db.kysely.selectFrom('oauth_clients').select('client_id').where('kind', '=', 'dynamic').execute()).length;
      const limited = createOAuthClientService({ db: h.cp.db, audit: h.cp.audit, clock: h.clock, newId, maxDynamicClients: present + 1 });
      const app: HttpApp = await createHttpApp({ logger: silent(), version: 'test', pipeline: async () => { throw errors.unauthenticated(); } });
      registerDynamicRegistrationRoute(app, limited, { enabled: true });
      await app.ready();
      const off: HttpApp = await createHttpApp({ logger: silent(), version: 'test', pipeline: async () => { throw errors.unauthenticated(); } });
      registerDynamicRegistrationRoute(off, limited, { enabled: false });
      await off.ready();
      try {
        const post = (a: HttpApp) => a.inject({ method: 'POST', url: '/oauth/register', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'] }) });
        expect((await post(app)).statusCode).toBe(201);
        const rows = await storedClients(h);
        const seq = await lastSeq(h);
        const full = await post(app);
        expect(full.statusCode).toBe(403);
        expect(JSON.parse(full.body)).toEqual({ error: 'access_denied', error_description: expect.stringContaining(`${present + 1} dynamically registered clients`) });
        await expect(limited.registerDynamic(systemActor(), { name: 'x', redirectUris: ['http://127.0.0.1/cb'] }))
          .rejects.toBeInstanceOf(DynamicClientLimit);
        // Admin registrations are not dynamic ones: the bound does not stop them.
        expect((await h.call('POST', '/v1/oauth-clients', { name: 'Admin-made', redirect_uris: ['https://admin.example.com/cb'] })).status).toBe(201);
        expect(await storedClients(h)).toBe(rows + 1);
        expect(await lastSeq(h)).toBe(seq + 1);

        const disabled = await post(off);
        expect([disabled.statusCode, JSON.parse(disabled.body).code]).toEqual([404, 'route_not_found']);
        expect(off.hasRoute({ method: 'POST', url: '/oauth/register' })).toBe(false);
      } finally {
        await app.close();
        await off.close();
      }
    });
  });
}

describe('custos oauth-client (CLI) against a running server', () => {
  let h: Harness;
  let url: string;
  beforeAll(async () => {
    h = await startHarness('sqlite');
    withRoutes(h, createOAuthClientService({ db: h.cp.db, audit: h.cp.audit, clock: h.clock, newId }));
    url = await h.cp.listen();
  });
  afterAll(async () => { await h?.close(); });

  it('registers, lists, shows and removes clients; a refused one exits 1 with its code; custos-cli stays', async () => {
    let out = '';
    let err = '';
    const io = {
      stdout: { write: (s: string) => { out += s; return true; } } as unknown as NodeJS.WritableStream,
      stderr: { write: (s: string) => { err += s; return true; } } as unknown as NodeJS.WritableStream,
      stdoutIsTTY: false,
      env: { CUSTOS_SERVER: url, CUSTOS_TOKEN: h.adminToken, CUSTOS_DATA_DIR: '/nonexistent' },
    };
    // The program's own tree once src/cli/program.ts registers the noun; until then the noun is added here.
    // Exit codes as runCommands gives them: 0, 1 for a refused request, 2 for usage.
    const run = async (args: string[]): Promise<number> => {
      out = '';
      err = '';
      const program = buildProgram(io);
      if (!program.commands.some((c) => c.name() === 'oauth-client')) registerOAuthClientCommands(program, io);
      for (const cmd of allCommands(program)) cmd.exitOverride();
      try {
        await program.parseAsync(args, { from: 'user' });
        return 0;
      } catch (error) {
        if (error instanceof CommanderError) return 2;
        io.stderr.write(`custos: ${(error as Error).message.split('\n')[0]}\n`);
        return error instanceof CliError ? error.exitCode : 1;
      }
    };

    expect(await run(['oauth-client', 'register', 'Model Console', '--redirect-uri', 'https://console.example.com/callback', '--redirect-uri', 'http://127.0.0.1/cb',
      '--grant', 'authorization_code,refresh_token,device_code', '--scope', 'models:read models:invoke', '--reason', 'cli']), err).toBe(0);
    const id = /client_id (\S+)\n$/.exec(out)?.[1];
    expect(out).toMatch(/^registered 'Model Console': client_id [0-9a-f-]{36}\n$/);
    expect(await run(['oauth-client', 'list'])).toBe(0);
    expect(out).toMatch(/custos-cli\s+│\s+Custos CLI\s+│\s+builtin\s+│\s+authorization_code,refresh_token,device_code/);
    expect(out).toMatch(new RegExp(`${id}\\s+│\\s+Model Console\\s+│\\s+registered`));
    expect(await run(['oauth-client', 'show', id!])).toBe(0);
    expect(out).toMatch(/^grant_types +authorization_code,refresh_token,device_code$/m);
    expect(out).toMatch(/^scope +models:read models:invoke$/m);
    expect(out).toContain('redirect_uri  http://127.0.0.1/cb\n');
    expect(await run(['--json', 'oauth-client', 'show', 'custos-cli'])).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ client_id: 'custos-cli', source: 'builtin', scope: null });

    expect(await run(['oauth-client', 'register', 'Bad', '--redirect-uri', 'http://bad.example.com/cb'])).toBe(1);
    expect(err).toMatch(/^custos: redirect_uris\[0\] must use https.*\(invalid_client_metadata\)\n$/);
    expect(await run(['oauth-client', 'register', 'Bad', '--grant', 'client_credentials'])).toBe(2);
    expect(await run(['oauth-client', 'remove', 'custos-cli'])).toBe(1);
    expect(err).toMatch(/\(builtin_client\)\n$/);
    expect(await run(['oauth-client', 'remove', id!, '--reason', 'done'])).toBe(0);
    expect(out).toBe(`removed OAuth client ${id}\n`);
    expect(await run(['oauth-client', 'remove', id!])).toBe(1);
    expect(err).toMatch(/\(not_found\)\n$/);
  });
});
