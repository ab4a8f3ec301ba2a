import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toReportBody } from '../../src/findings/report-body.js';
import { scanDirectory } from '../../src/scanner/index.js';
import { startHarness, type Harness } from '../support/harness.js';
import { BACKENDS } from '../support/backends.js';
import { dpopKey, dpopProof, nowOf } from '../support/oauth.js';
import { authorizeUrl, createBrowser, csrfOf, pkcePair, signInWithOperatorToken, tokenRequest, type AuthorizeOptions } from '../support/signin.js';

// The authorization endpoint for people end to end over HTTP (inject): authorize → sign in (operator token, the
// embedded default's way) → consent → code → tokens → refresh with rotation; and the refusals RFC 6749, 7636,
// 8252, 9207 and 9700 ask for.

const REDIRECT = 'http://127.0.0.1:53682/callback';

for (const backend of BACKENDS) {
  describe(`authorization code + PKCE for people (${backend})`, () => {
    let h: Harness;
    beforeAll(async () => { h = await startHarness(backend); });
    afterAll(async () => { await h?.close(); });

    async function codeFor(token = h.adminToken, o: AuthorizeOptions = {}) {
      const pkce = pkcePair();
      const back = await signInWithOperatorToken(h, createBrowser(h), token, { ...o, challenge: pkce.challenge });
      return { pkce, back, code: back.searchParams.get('code')! };
    }

    it('signs a person in and gives the client a code with state and iss, then tokens that act with their role', async () => {
      const { pkce, back, code } = await codeFor();
      expect(back.origin + back.pathname).toBe(REDIRECT);
      expect(back.searchParams.get('state')).toBe('state-1');
      expect(back.searchParams.get('iss')).toBe(h.cp.issuer());
      const tokens = await tokenRequest(h, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier });
      expect(tokens.status).toBe(200);
      expect(tokens.body.token_type).toBe('Bearer');
      expect(tokens.body.expires_in).toBe(900);
      expect(tokens.body.refresh_token).toMatch(/^custos_rt_/);
      const me = await h.call('GET', '/v1/whoami', undefined, tokens.body.access_token);
      expect(me.status).toBe(200);
      expect(me.body.role).toBe('admin');
      const sessions = await h.call('GET', '/v1/sessions?active=true');
      expect(sessions.body.items.at(-1)).toMatchObject({ principal: { name: 'bootstrap-admin' }, client_id: 'custos-cli', auth_method: 'operator_token', role: 'admin', revoked_at: null });
      // The role acts: an admin-only route works with the person's access token.
      expect((await h.call('GET', '/v1/identity-providers', undefined, tokens.body.access_token)).status).toBe(200);
    });

    it('refuses a reused code and revokes what the first redemption started', async () => {
      const { pkce, code } = await codeFor();
      const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier };
      const first = await tokenRequest(h, form);
      expect(first.status).toBe(200);
      const again = await tokenRequest(h, form);
      expect(again.status).toBe(400);
      expect(again.body.error).toBe('invalid_grant');
      expect((await h.call('GET', '/v1/whoami', undefined, first.body.access_token)).status).toBe(401);
      const refreshed = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: 'custos-cli' });
      expect(refreshed.body.error).toBe('invalid_grant');
    });

    it('refuses a wrong verifier, another redirect URI and another client, and the code survives those attempts', async () => {
      const { pkce, code } = await codeFor();
      const base = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier };
      expect((await tokenRequest(h, { ...base, code_verifier: pkcePair().verifier })).body.error).toBe('invalid_grant');
      expect((await tokenRequest(h, { ...base, redirect_uri: 'http://127.0.0.1:53682/callbacK' })).body.error).toBe('invalid_grant');
      expect((await tokenRequest(h, { ...base, client_id: 'someone-else' })).body.error).toBe('invalid_grant');
      const missing = { ...base } as Record<string, string>;
      delete missing.code_verifier;
      expect((await tokenRequest(h, missing)).body.error).toBe('invalid_grant');
      expect((await tokenRequest(h, base)).status).toBe(200);
    });

    it('resource at the token endpoint may narrow to the consented audience, never go outside it (RFC 8707 §2.2)', async () => {
      expect((await h.call('POST', '/v1/resources', { name: 'chat-model', kind: 'model', owner: 'bootstrap-admin', uri: 'https://models.example/chat' })).status).toBe(201);
      const { pkce, code } = await codeFor(h.adminToken, { resource: [h.cp.issuer(), 'https://models.example/chat'] });
      const base = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier };
      const outside = await tokenRequest(h, { ...base, resource: 'https://elsewhere.example/api' });
      expect(outside.body.error).toBe('invalid_target');
      const narrowed = await tokenRequest(h, { ...base, resource: 'https://models.example/chat' });
      expect(narrowed.status, JSON.stringify(narrowed.body)).toBe(200);
      const claims = JSON.parse(Buffer.from(narrowed.body.access_token.split('.')[1], 'base64url').toString());
      expect(claims.aud).toBe('https://models.example/chat');
      expect(claims.roles).toBeUndefined();
      // The session keeps the whole consent: a refresh may ask for the management API.
      const refreshed = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: narrowed.body.refresh_token, client_id: 'custos-cli', resource: h.cp.issuer() });
      expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
      expect((await h.call('GET', '/v1/whoami', undefined, refreshed.body.access_token)).body.role).toBe('admin');
    });

    it('a token addressed to the management API and a resource too never carries the role (a resource server could replay it)', async () => {
      if ((await h.call('GET', '/v1/resources/chat-model')).status === 404) {
        expect((await h.call('POST', '/v1/resources', { name: 'chat-model', kind: 'model', owner: 'bootstrap-admin', uri: 'https://models.example/chat' })).status).toBe(201);
      }
      const { pkce, code } = await codeFor(h.adminToken, { resource: [h.cp.issuer(), 'https://models.example/chat'] });
      const t = await tokenRequest(h, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier });
      const claims = JSON.parse(Buffer.from(t.body.access_token.split('.')[1], 'base64url').toString());
      expect(claims.aud).toEqual([h.cp.issuer(), 'https://models.example/chat']);
      expect(claims.roles).toBeUndefined();
      const me = await h.call('GET', '/v1/whoami', undefined, t.body.access_token);
      expect(me.body.role).toBeNull();
      expect((await h.call('GET', '/v1/identity-providers', undefined, t.body.access_token)).status).toBe(403);
    });

    it('refuses an expired code', async () => {
      const { pkce, code } = await codeFor();
      h.clock.advance(61_000);
      const res = await tokenRequest(h, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier });
      expect(res.body.error).toBe('invalid_grant');
      expect(res.body.error_description).toMatch(/expired/);
    });

    it('rotates refresh tokens; reusing a rotated one revokes the whole family', async () => {
      const { pkce, code } = await codeFor();
      const first = await tokenRequest(h, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier });
      const second = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: 'custos-cli' });
      expect(second.status).toBe(200);
      expect(second.body.refresh_token).not.toBe(first.body.refresh_token);
      const third = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: second.body.refresh_token, client_id: 'custos-cli' });
      expect(third.status).toBe(200);
      // The first refresh token again: reuse.
      const reuse = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: 'custos-cli' });
      expect(reuse.body.error).toBe('invalid_grant');
      // Everything of the family is dead: the latest refresh token and every access token.
      expect((await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: third.body.refresh_token, client_id: 'custos-cli' })).body.error).toBe('invalid_grant');
      for (const t of [first, second, third]) expect((await h.call('GET', '/v1/whoami', undefined, t.body.access_token)).status).toBe(401);
      const events = await h.call('GET', '/v1/audit/events?type=signin.session.reuse_detected');
      expect(events.body.items.length).toBeGreaterThan(0);
    });

    it('binds a public client\'s tokens and refresh tokens to its DPoP key (RFC 9449 §5)', async () => {
      const { pkce, code } = await codeFor();
      const key = await dpopKey();
      const other = await dpopKey();
      const htu = `${h.cp.issuer()}/oauth/token`;
      const proof = async (k = key) => ({ dpop: await dpopProof(k, 'POST', htu, nowOf(h)) });
      const first = await tokenRequest(h, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier }, await proof());
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      expect(first.body.token_type).toBe('DPoP');
      const refreshForm = { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: 'custos-cli' };
      expect((await tokenRequest(h, refreshForm)).body.error).toBe('invalid_grant');
      expect((await tokenRequest(h, refreshForm, await proof(other))).body.error).toBe('invalid_grant');
      const next = await tokenRequest(h, refreshForm, await proof());
      expect(next.status, JSON.stringify(next.body)).toBe(200);
      expect(next.body.token_type).toBe('DPoP');
    });

    it('a refresh re-decides what the person may hold: lost scopes are dropped, a resource above their ceiling ends the session', async () => {
      const token = await h.operator('scoped-person', 'auditor');
      expect((await h.call('PATCH', '/v1/principals/scoped-person', { scopes: ['models:read', 'models:write'] })).status).toBe(200);
      if ((await h.call('GET', '/v1/resources/internal-model')).status === 404) {
        expect((await h.call('POST', '/v1/resources', { name: 'internal-model', kind: 'model', owner: 'bootstrap-admin', uri: 'https://models.example/internal', classification: 'internal' })).status).toBe(201);
      }
      const { pkce, code } = await codeFor(token, { resource: ['https://models.example/internal'], scope: 'models:read models:write' });
      const t = await tokenRequest(h, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier });
      expect(t.body.scope).toBe('models:read models:write');
      expect((await h.call('PATCH', '/v1/principals/scoped-person', { scopes: ['models:read'] })).status).toBe(200);
      const narrowed = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: t.body.refresh_token, client_id: 'custos-cli' });
      expect(narrowed.status, JSON.stringify(narrowed.body)).toBe(200);
      expect(narrowed.body.scope).toBe('models:read');
      expect((await h.call('PATCH', '/v1/principals/scoped-person', { data_ceiling: 'public' })).status).toBe(200);
      const ended = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: narrowed.body.refresh_token, client_id: 'custos-cli' });
      expect(ended.body.error).toBe('invalid_grant');
      expect(ended.body.error_description).toMatch(/data ceiling/);
    });

    it('refuses a refresh from another client', async () => {
      const { pkce, code } = await codeFor();
      const first = await tokenRequest(h, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier });
      expect((await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: 'other' })).body.error).toBe('invalid_grant');
    });

    it('suspending the person revokes their sessions at once', async () => {
      const token = await h.operator('suspend-me', 'auditor');
      const { pkce, code } = await codeFor(token);
      const t = await tokenRequest(h, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier });
      expect((await h.call('GET', '/v1/whoami', undefined, t.body.access_token)).body.role).toBe('auditor');
      expect((await h.call('POST', '/v1/principals/suspend-me/suspend', { reason: 'left' })).status).toBe(200);
      expect((await h.call('GET', '/v1/whoami', undefined, t.body.access_token)).status).toBe(401);
      expect((await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: t.body.refresh_token, client_id: 'custos-cli' })).body.error).toBe('invalid_grant');
    });

    it('revoking the operator token a person pasted to sign in ends the sessions started with it at once', async () => {
      const token = await h.operator('pasted-admin', 'admin');
      const { pkce, code } = await codeFor(token);
      const t = await tokenRequest(h, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier });
      expect((await h.call('GET', '/v1/whoami', undefined, t.body.access_token)).body.role).toBe('admin');
      const id = /^custos_op_([a-z2-7]{16})_/.exec(token)![1];
      expect((await h.call('POST', `/v1/operator-tokens/${id}/revoke`, { reason: 'leaked' })).status).toBe(200);
      expect((await h.call('GET', '/v1/whoami', undefined, t.body.access_token)).status).toBe(401);
      expect((await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: t.body.refresh_token, client_id: 'custos-cli' })).body.error).toBe('invalid_grant');
    });

    it('a session started with an operator token ends when the token expires', async () => {
      const p = await h.call('POST', '/v1/principals', { name: 'short-lived', kind: 'human' });
      expect(p.status).toBe(201);
      const minted = await h.call('POST', '/v1/operator-tokens', { principal: 'short-lived', role: 'auditor', ttl_seconds: 300 });
      expect(minted.status, minted.text).toBe(201);
      const { pkce, code } = await codeFor(minted.body.token);
      const t = await tokenRequest(h, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier });
      expect(t.body.expires_in).toBeLessThanOrEqual(300);
      const sessions = await h.call('GET', `/v1/sessions?principal=${p.body.id}`);
      expect(Date.parse(sessions.body.items[0].expires_at)).toBeLessThanOrEqual(Date.parse(minted.body.expires_at));
    });

    it('a logout (RFC 7009 revocation of the refresh token by the public client) ends the session', async () => {
      const { pkce, code } = await codeFor();
      const t = await tokenRequest(h, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier });
      const res = await h.cp.http.inject({ method: 'POST', url: '/oauth/revoke', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ token: t.body.refresh_token, client_id: 'custos-cli' }).toString() });
      expect(res.statusCode).toBe(200);
      expect((await h.call('GET', '/v1/whoami', undefined, t.body.access_token)).status).toBe(401);
      expect((await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: t.body.refresh_token, client_id: 'custos-cli' })).body.error).toBe('invalid_grant');
    });

    it('a refresh token found by a secret scan and reported ends its session', async () => {
      const { pkce, code } = await codeFor();
      const t = await tokenRequest(h, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-rt-leak-'));
      fs.writeFileSync(path.join(dir, 'session.json'), JSON.stringify({ refresh_token: t.body.refresh_token }));
      const scan = await scanDirectory(dir, { gitignore: false });
      fs.rmSync(dir, { recursive: true, force: true });
      expect(scan.findings.map((f) => f.ruleId)).toContain('custos-refresh-token');
      const body = toReportBody(scan, {}, 'test');
      expect(JSON.stringify(body)).not.toContain(t.body.refresh_token);
      const report = await h.call('POST', '/v1/findings/report', body);
      expect(report.status, report.text).toBeLessThan(300);
      expect(report.body.revoked).toHaveLength(1);
      expect((await h.call('GET', '/v1/whoami', undefined, t.body.access_token)).status).toBe(401);
      expect((await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: t.body.refresh_token, client_id: 'custos-cli' })).body.error).toBe('invalid_grant');
    });

    describe('authorization request refusals', () => {
      it('missing PKCE, plain PKCE and a missing state go back to the client as invalid_request with iss', async () => {
        const b = createBrowser(h);
        const pkce = pkcePair();
        for (const o of [{ method: null }, { method: 'plain', challenge: pkce.verifier }, { extra: {}, state: '' }]) {
          const res = await b.get(authorizeUrl({ challenge: pkce.challenge, ...o } as never));
          expect(res.status).toBe(303);
          const to = new URL(res.location!);
          expect(to.searchParams.get('error')).toBe('invalid_request');
          expect(to.searchParams.get('iss')).toBe(h.cp.issuer());
        }
        const noChallenge = await b.get(authorizeUrl({ challenge: pkce.challenge }).replace(/&code_challenge=[^&]+/, ''));
        expect(new URL(noChallenge.location!).searchParams.get('error_description')).toMatch(/PKCE is required/);
      });

      it('a redirect URI one character off, or an unknown client, is never redirected to', async () => {
        const b = createBrowser(h);
        const pkce = pkcePair();
        for (const url of [authorizeUrl({ challenge: pkce.challenge, redirectUri: 'http://127.0.0.1:53682/callbac' }), authorizeUrl({ challenge: pkce.challenge, clientId: 'nobody' })]) {
          const res = await b.get(url);
          expect(res.status).toBe(400);
          expect(res.location).toBeUndefined();
          expect(res.headers['content-type']).toMatch(/text\/html/);
          expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
        }
      });

      it('bounds the requests anyone may start: beyond 10,000 running at once, new ones are refused', async () => {
        const now = h.clock.now();
        const rows = Array.from({ length: 10_000 }, (_, i) => ({
          id: `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`, kind: 'authorize' as const, client_id: 'custos-cli', request: '{}', browser_hash: null,
          upstream_sealed: null, principal_id: null, auth: null, upstream_refresh_sealed: null, status: 'pending' as const, code_hash: null, device_code_hash: null,
          user_code: null, last_polled_at: null, session_id: null, requester: `198.51.100.${i % 250}`, created_at: now.toISOString(), expires_at: new Date(now.getTime() + 60_000).toISOString(),
        }));
        for (let i = 0; i < rows.length; i += 500) await h.cp.db.kysely.insertInto('signin_requests').values(rows.slice(i, i + 500)).execute();
        const b = createBrowser(h);
        const refused = await b.get(authorizeUrl({ challenge: pkcePair().challenge }));
        expect(refused.status).toBe(503);
        const device = await h.cp.http.inject({ method: 'POST', url: '/oauth/device_authorization', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'client_id=custos-cli' });
        expect(JSON.parse(device.body).error).toBe('temporarily_unavailable');
        h.clock.advance(61_000);
        expect((await b.get(authorizeUrl({ challenge: pkcePair().challenge }))).status).toBe(303);
      });

      it('one address may have at most 50 requests running; others are not locked out by it', async () => {
        h.clock.advance(601_000); // every earlier request of this file (all from this address) has expired
        const b = createBrowser(h);
        let last = 0;
        for (let i = 0; i < 50; i++) last = (await b.get(authorizeUrl({ challenge: pkcePair().challenge }))).status;
        expect(last).toBe(303);
        const refused = await b.get(authorizeUrl({ challenge: pkcePair().challenge }));
        expect(refused.status).toBe(503);
        expect(refused.body).toMatch(/from your address/);
        h.clock.advance(601_000);
        expect((await b.get(authorizeUrl({ challenge: pkcePair().challenge }))).status).toBe(303);
      });

      it('finished sign-ins do not count against that bound: a person may sign in again and again', async () => {
        h.clock.advance(601_000);
        for (let i = 0; i < 55; i++) {
          const { pkce, code } = await codeFor();
          const t = await tokenRequest(h, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier });
          expect(t.status).toBe(200);
        }
      });

      it('loopback redirects may use any port (RFC 8252 §7.3)', async () => {
        const b = createBrowser(h);
        const res = await b.get(authorizeUrl({ challenge: pkcePair().challenge, redirectUri: 'http://127.0.0.1:1/callback' }));
        expect(res.status).toBe(303);
        expect(res.location).toMatch(/^\/signin\//);
      });
    });

    describe('pages', () => {
      it('a consent post from another origin, without the CSRF token, or from another browser is refused', async () => {
        const pkce = pkcePair();
        const b = createBrowser(h);
        const start = await b.get(authorizeUrl({ challenge: pkce.challenge }));
        const signin = await b.get(start.location!);
        await b.post(`${start.location}/token`, { csrf: csrfOf(signin.body), token: h.adminToken });
        const consent = await b.get(`${start.location}/consent`);
        const csrf = csrfOf(consent.body);
        expect(consent.headers['content-security-policy']).toMatch(/form-action 'self' http:\/\/127\.0\.0\.1:53682/);
        const crossSite = await b.post(`${start.location}/consent`, { csrf, decision: 'approve' }, { origin: 'https://evil.example' });
        expect(crossSite.status).toBe(400);
        expect((await b.post(`${start.location}/consent`, { csrf: 'x'.repeat(43), decision: 'approve' })).status).toBe(400);
        const other = createBrowser(h);
        expect((await other.post(`${start.location}/consent`, { csrf, decision: 'approve' })).status).toBe(400);
        // The real browser still can.
        const ok = await b.post(`${start.location}/consent`, { csrf, decision: 'approve' });
        expect(ok.status).toBe(303);
        expect(new URL(ok.location!).searchParams.get('code')).toBeTruthy();
      });

      it('deny sends access_denied to the client', async () => {
        const b = createBrowser(h);
        const start = await b.get(authorizeUrl({ challenge: pkcePair().challenge }));
        const signin = await b.get(start.location!);
        await b.post(`${start.location}/token`, { csrf: csrfOf(signin.body), token: h.adminToken });
        const consent = await b.get(`${start.location}/consent`);
        const res = await b.post(`${start.location}/consent`, { csrf: csrfOf(consent.body), decision: 'deny' });
        expect(new URL(res.location!).searchParams.get('error')).toBe('access_denied');
      });

      it('a wrong operator token is refused on the page', async () => {
        const b = createBrowser(h);
        const start = await b.get(authorizeUrl({ challenge: pkcePair().challenge }));
        const signin = await b.get(start.location!);
        const res = await b.post(`${start.location}/token`, { csrf: csrfOf(signin.body), token: 'custos_op_nope' });
        expect(res.status).toBe(400);
        expect(res.body).toMatch(/not accepted/);
      });
    });

    it('metadata advertises the authorization endpoint, code, S256 and CIMD support', async () => {
      const meta = await h.call('GET', '/.well-known/oauth-authorization-server', undefined, null);
      expect(meta.body.authorization_endpoint).toBe(`${h.cp.issuer()}/oauth/authorize`);
      expect(meta.body.response_types_supported).toEqual(['code']);
      expect(meta.body.code_challenge_methods_supported).toEqual(['S256']);
      expect(meta.body.client_id_metadata_document_supported).toBe(true);
      expect(meta.body.authorization_response_iss_parameter_supported).toBe(true);
      expect(meta.body.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code']));
    });
  });
}
