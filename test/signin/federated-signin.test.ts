import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { signInAtIdp, startTestIdp, type TestIdp } from '../support/idp.js';
import { authorizeUrl, createBrowser, csrfOf, pkcePair, tokenRequest } from '../support/signin.js';

// A person signs in through the organisation's IdP (a real oidc-provider with users and groups) end to end:
// authorize at Custos → "Sign in with Corp SSO" → the IdP's login → back at Custos's callback → consent → code →
// tokens; groups give the role and team memberships and are re-read at every refresh; a person removed from the
// admin group loses the role at the next refresh; a person the IdP disables loses the session; returning people
// are found by subject only; a provider that creates people as `proposed` lets nobody in until activated.

const REDIRECT = 'http://127.0.0.1:53682/callback';

for (const backend of BACKENDS) {
  describe(`sign-in through the organisation's IdP (${backend})`, () => {
    let h: Harness;
    let idp: TestIdp;
    beforeAll(async () => {
      h = await startHarness(backend);
      idp = await startTestIdp({
        users: [
          { sub: 'u-alice', email: 'alice@corp.example', name: 'Alice Liddell', groups: ['custos-admins', 'ml-eng'], password: 'alice-pw' },
          { sub: 'u-bob', email: 'bob@corp.example', name: 'Bob', groups: ['auditors'], password: 'bob-pw' },
          { sub: 'u-alice-2', email: 'alice@corp.example', name: 'Alice Impostor', groups: [], password: 'imp-pw' },
          { sub: 'u-carol', email: 'carol@corp.example', name: 'Carol', groups: [], password: 'carol-pw' },
          { sub: 'u-dave', email: 'dave@corp.example', name: 'Dave', groups: ['custos-admins'], password: 'dave-pw' },
        ],
        clients: [{ client_id: 'custos', client_secret: 'idp-secret', redirect_uris: [`${h.cp.issuer()}/oauth/callback`] }],
      });
      expect((await h.call('POST', '/v1/teams', { name: 'ml-platform' })).status).toBe(201);
      const created = await h.call('POST', '/v1/identity-providers', {
        name: 'corp', display_name: 'Corp SSO', issuer: idp.issuer, client_id: 'custos', client_secret: 'idp-secret', groups_claim: 'groups',
        group_roles: { 'custos-admins': 'admin', auditors: 'auditor' }, group_teams: { 'ml-eng': 'ml-platform' }, new_principal_status: 'active',
      });
      expect(created.status, created.text).toBe(201);
    });
    afterAll(async () => { await idp?.close(); await h?.close(); });

    /** The whole round trip; returns the token response. */
    async function signIn(login: string, password: string) {
      const provider = 'corp';
      const b = createBrowser(h);
      const pkce = pkcePair();
      const start = await b.get(authorizeUrl({ challenge: pkce.challenge }));
      const page = await b.get(start.location!);
      expect(page.body).toContain(`/idp/${provider}`);
      // With an IdP configured (and the setting at auto) the operator-token form is not offered.
      expect(page.body).not.toContain('name="token"');
      const toIdp = await b.get(`${start.location}/idp/${provider}`);
      expect(toIdp.status).toBe(303);
      expect(toIdp.location!.startsWith(idp.issuer)).toBe(true);
      const callback = await signInAtIdp(toIdp.location!, { login, password });
      expect(callback.searchParams.get('iss')).toBe(idp.issuer);
      const back = await b.get(callback.href);
      if (back.status !== 303) return { refused: back };
      const consent = await b.get(back.location!);
      expect(consent.body).toContain('through corp');
      const approved = await b.post(`${start.location}/consent`, { csrf: csrfOf(consent.body), decision: 'approve' });
      const code = new URL(approved.location!).searchParams.get('code')!;
      const t = await tokenRequest(h, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier });
      expect(t.status, JSON.stringify(t.body)).toBe(200);
      return { tokens: t.body };
    }
    const refresh = (rt: string) => tokenRequest(h, { grant_type: 'refresh_token', refresh_token: rt, client_id: 'custos-cli' });

    it('creates the person at first sign-in, gives the role and team from groups, and re-reads groups at refresh', async () => {
      const { tokens } = await signIn('u-alice', 'alice-pw');
      const me = await h.call('GET', '/v1/whoami', undefined, tokens!.access_token);
      expect(me.body.role).toBe('admin');
      const person = await h.call('GET', '/v1/principals/alice');
      expect(person.body).toMatchObject({ kind: 'human', status: 'active', display_name: 'Alice Liddell' });
      const team = await h.call('GET', '/v1/teams/ml-platform');
      expect(team.body.members.map((m: { name: string }) => m.name)).toContain('alice');

      // Removed from the admin group: the role is gone at the next refresh.
      idp.setGroups('u-alice', ['ml-eng']);
      const r1 = await refresh(tokens!.refresh_token);
      expect(r1.status, JSON.stringify(r1.body)).toBe(200);
      const after = await h.call('GET', '/v1/whoami', undefined, r1.body.access_token);
      expect(after.body.role).toBeNull();
      expect((await h.call('GET', '/v1/identity-providers', undefined, r1.body.access_token)).status).toBe(403);

      // Out of ml-eng: the membership the IdP maintained goes; one added by hand stays.
      expect((await h.call('POST', '/v1/teams', { name: 'by-hand' })).status).toBe(201);
      expect((await h.call('PUT', '/v1/teams/by-hand/members/alice', { role: 'member' })).status).toBe(200);
      idp.setGroups('u-alice', []);
      const r2 = await refresh(r1.body.refresh_token);
      expect(r2.status).toBe(200);
      expect((await h.call('GET', '/v1/teams/ml-platform')).body.members.map((m: { name: string }) => m.name)).not.toContain('alice');
      expect((await h.call('GET', '/v1/teams/by-hand')).body.members.map((m: { name: string }) => m.name)).toContain('alice');

      // The IdP disables the person: the next refresh ends the session.
      idp.disable('u-alice');
      const r3 = await refresh(r2.body.refresh_token);
      expect(r3.body.error).toBe('invalid_grant');
      expect((await h.call('GET', '/v1/whoami', undefined, r2.body.access_token)).status).toBe(401);
    });

    it('an administrator checks a provider: its discovery document now, or why it cannot be read', async () => {
      const ok = await h.call('POST', '/v1/identity-providers/corp/check');
      expect(ok.status, ok.text).toBe(200);
      expect(ok.body).toMatchObject({ ok: true, issuer: idp.issuer, pkce_s256: true, iss_parameter: true, error: null });
      expect(ok.body.authorization_endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      expect((await h.call('POST', '/v1/identity-providers', { name: 'nowhere', issuer: 'https://127.0.0.1:1/nowhere', client_id: 'c', client_secret: 's' })).status).toBe(201);
      const bad = await h.call('POST', '/v1/identity-providers/nowhere/check');
      expect(bad.body.ok).toBe(false);
      expect(bad.body.error).toMatch(/openid-configuration could not be read/);
      expect(bad.body.error).not.toMatch(/(fetch failed).*\1/);
      expect((await h.call('DELETE', '/v1/identity-providers/nowhere')).status).toBe(204);
    });

    it('finds a returning person by subject, and never merges another subject with the same email', async () => {
      const first = await signIn('u-bob', 'bob-pw');
      const second = await signIn('u-bob', 'bob-pw');
      const a = await h.call('GET', '/v1/whoami', undefined, first.tokens!.access_token);
      const b = await h.call('GET', '/v1/whoami', undefined, second.tokens!.access_token);
      expect(a.body.principal_id).toBe(b.body.principal_id);
      expect(a.body.role).toBe('auditor');
      const impostor = await signIn('u-alice-2', 'imp-pw');
      const c = await h.call('GET', '/v1/whoami', undefined, impostor.tokens!.access_token);
      const alice = await h.call('GET', '/v1/principals/alice');
      expect(c.body.principal_id).not.toBe(alice.body.id);
      expect(c.body.principal_name).toMatch(/^alice-\d+$/);
    });

    it('a role held through a sign-in session counts for the role rules: security cannot suspend an IdP admin', async () => {
      const { tokens } = await signIn('u-dave', 'dave-pw');
      expect((await h.call('GET', '/v1/whoami', undefined, tokens!.access_token)).body.role).toBe('admin');
      const security = await h.operator('sec-officer', 'security');
      const refused = await h.call('POST', '/v1/principals/dave/suspend', { reason: 'test' }, security);
      expect(refused.status, refused.text).toBe(403);
      expect((await h.call('GET', '/v1/whoami', undefined, tokens!.access_token)).status).toBe(200);
      expect((await h.call('POST', '/v1/principals/dave/suspend', { reason: 'test' })).status).toBe(200);
      expect((await h.call('GET', '/v1/whoami', undefined, tokens!.access_token)).status).toBe(401);
    });

    it('removing the identity provider ends the sessions started through it at once', async () => {
      const other = await startTestIdp({
        users: [{ sub: 'u-erin', email: 'erin@other.example', name: 'Erin', groups: [], password: 'erin-pw' }],
        clients: [{ client_id: 'custos', client_secret: 'other-secret', redirect_uris: [`${h.cp.issuer()}/oauth/callback`] }],
      });
      try {
        expect((await h.call('POST', '/v1/identity-providers', { name: 'other', issuer: other.issuer, client_id: 'custos', client_secret: 'other-secret', new_principal_status: 'active' })).status).toBe(201);
        const b = createBrowser(h);
        const pkce = pkcePair();
        const start = await b.get(authorizeUrl({ challenge: pkce.challenge }));
        const toIdp = await b.get(`${start.location}/idp/other`);
        const back = await b.get((await signInAtIdp(toIdp.location!, { login: 'u-erin', password: 'erin-pw' })).href);
        const consent = await b.get(back.location!);
        const approved = await b.post(`${start.location}/consent`, { csrf: csrfOf(consent.body), decision: 'approve' });
        const t = await tokenRequest(h, { grant_type: 'authorization_code', code: new URL(approved.location!).searchParams.get('code')!, redirect_uri: REDIRECT, client_id: 'custos-cli', code_verifier: pkce.verifier });
        expect((await h.call('GET', '/v1/whoami', undefined, t.body.access_token)).status).toBe(200);
        expect((await h.call('DELETE', '/v1/identity-providers/other')).status).toBe(204);
        expect((await h.call('GET', '/v1/whoami', undefined, t.body.access_token)).status).toBe(401);
        expect((await refresh(t.body.refresh_token)).body.error).toBe('invalid_grant');
      } finally {
        await other.close();
      }
    });

    it('an error sent to the callback without our state changes nothing; the real answer still completes', async () => {
      const b = createBrowser(h);
      const pkce = pkcePair();
      const start = await b.get(authorizeUrl({ challenge: pkce.challenge }));
      const toIdp = await b.get(`${start.location}/idp/corp`);
      const forged = await b.get(`/oauth/callback?error=access_denied&state=not-ours`);
      expect(forged.status).toBe(400);
      const callback = await signInAtIdp(toIdp.location!, { login: 'u-bob', password: 'bob-pw' });
      const back = await b.get(callback.href);
      expect(back.status).toBe(303);
      expect(back.location).toMatch(/\/consent$/);
    });

    it('a provider that creates people as proposed lets nobody in until an admin activates them', async () => {
      expect((await h.call('PATCH', '/v1/identity-providers/corp', { new_principal_status: 'proposed' })).status).toBe(200);
      const res = await signIn('u-carol', 'carol-pw');
      expect(res.refused?.status).toBe(403);
      expect(res.refused?.body).toMatch(/waits for an administrator/);
      expect((await h.call('GET', '/v1/principals/carol')).body.status).toBe('proposed');
      expect((await h.call('POST', '/v1/principals/carol/activate', { reason: 'hired' })).status).toBe(200);
      const again = await signIn('u-carol', 'carol-pw');
      expect(again.tokens?.access_token).toBeTruthy();
      const events = await h.call('GET', '/v1/audit/events?type=signin.person.refused');
      expect(events.body.items.length).toBeGreaterThan(0);
    });
  });
}
