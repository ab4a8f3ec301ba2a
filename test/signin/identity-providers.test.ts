import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTeam } from '../../src/identity/teams.repo.js';
import { createKeyRing, parseMasterKey, type KeyRing } from '../../src/platform/keys.js';
import type { Database } from '../../src/platform/store/db.js';
import { UpstreamRefused, type IdentityProviderRecord, type IdpClient } from '../../src/signin/contracts.js';
import { grantsFromGroups } from '../../src/signin/group-mapping.js';
import { createIdpClient, UpstreamInvalid } from '../../src/signin/idp-client.js';
import { createIdentityProviderService, type IdentityProviderService, type TeamResolver } from '../../src/signin/identity-providers.service.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { signInAtIdp, startTestIdp, type TestIdp } from '../support/idp.js';
import { eventsSince, lastSeq } from '../identity/store-probe.js';

// The organisation's identity providers: configured over /v1/identity-providers (on both stores; secrets sealed,
// never shown, every change audited, bad settings refused with nothing written), and Custos as their OIDC relying
// party end to end against a real oidc-provider: sign-in with PKCE, state, nonce and the RFC 9207 iss parameter,
// groups from the ID token or userinfo, refresh with re-read groups, refusals, and all three client
// authentication methods (private_key_jwt with the key pair Custos made).

const REDIRECT = 'http://127.0.0.1:9/signin/callback';

/** Identity's teams, read from the store: the TeamResolver the composition root will pass. */
function teamResolverOver(db: Database): TeamResolver {
  return {
    async teamsByRef(refs, trx) {
      const out = new Map<string, { id: string; name: string }>();
      for (const ref of refs) {
        const team = await findTeam(trx ?? db.kysely, ref);
        if (team) out.set(ref, { id: team.id, name: team.name });
      }
      return out;
    },
  };
}

async function count(h: Harness, table: 'identity_providers' | 'audit_events'): Promise<number> {
  const r = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(h.cp.db.kysely);
  return Number(r.rows[0]!.n);
}

/** The rejection of `p` (fails the test if it resolved). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error, 'expected a refusal, but it succeeded').toBeInstanceOf(Error);
  return error as Error;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

for (const backend of BACKENDS) {
  describe(`identity providers on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    const masterKey = crypto.randomBytes(32).toString('base64');
    let h: Harness;
    let keys: KeyRing;
    let idps: IdentityProviderService;
    let teamId: string;

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend, { masterKey });
      keys = createKeyRing(parseMasterKey(masterKey, 'test'));
      idps = createIdentityProviderService({ db: h.cp.db, audit: h.cp.audit, keys, clock: h.clock, teams: teamResolverOver(h.cp.db), issuer: () => h.cp.issuer() });
      // The app's own routes; the service here shares the store and the master key with the app's, so either reads
      // what the other wrote.
      const t = await h.call('POST', '/v1/teams', { name: 'ml-platform' });
      expect(t.status, t.text).toBe(201);
      teamId = t.body.id;
    });
    afterAll(async () => { await h?.close(); });

    describe('configuration over /v1/identity-providers', () => {
      const secret = `idp-secret-${crypto.randomBytes(12).toString('hex')}`;

      it.runIf(enabled)('adds, lists, shows, changes and removes a provider; the secret is sealed and never shown; each change audited', async () => {
        const seq = await lastSeq(h);
        const created = await h.call('POST', '/v1/identity-providers', {
          name: 'okta', display_name: 'Okta', issuer: 'https://example.okta.com', client_id: 'custos-app', client_secret: secret,
          groups_claim: 'groups', group_roles: { 'custos-admins': 'admin', auditors: 'auditor' }, group_teams: { 'ml-eng': 'ml-platform' }, reason: 'sso',
        });
        expect(created.status, created.text).toBe(201);
        const v = created.body;
        expect(v).toMatchObject({
          name: 'okta', display_name: 'Okta', issuer: 'https://example.okta.com', client_id: 'custos-app', client_auth: 'client_secret_basic',
          client_secret_set: true, public_jwk: null, jwks_uri: null, scopes: ['openid', 'email', 'profile'], subject_claim: 'sub', groups_claim: 'groups',
          group_roles: { 'custos-admins': 'admin', auditors: 'auditor' }, group_teams: { 'ml-eng': { id: teamId, name: 'ml-platform' } },
          new_principal_status: 'proposed',
        });
        expect(created.text).not.toContain(secret);
        expect(Object.keys(v)).not.toContain('client_secret');

        // At rest: sealed under this provider's context, never in clear.
        const row = await h.cp.db.kysely.selectFrom('identity_providers').selectAll().where('id', '=', v.id).executeTakeFirstOrThrow();
        expect(JSON.stringify(row)).not.toContain(secret);
        expect(keys.open(row.client_secret_sealed!, `idp-client-secret:${v.id}`).toString()).toBe(secret);
        expect(() => keys.open(row.client_secret_sealed!, 'idp-client-secret:another')).toThrow();
        expect(row.group_teams).toBe(JSON.stringify({ 'ml-eng': teamId }));

        // Read by name and id, listed page by page.
        expect((await h.call('GET', '/v1/identity-providers/okta')).body).toEqual(v);
        expect((await h.call('GET', `/v1/identity-providers/${v.id}`)).body).toEqual(v);
        const other = await h.call('POST', '/v1/identity-providers', { name: 'keycloak', issuer: 'https://sso.example.com/realms/corp', client_id: 'custos', client_secret: 'kc-secret' });
        expect(other.status, other.text).toBe(201);
        const page1 = await h.call('GET', '/v1/identity-providers?limit=1');
        expect(page1.body.items.map((i: { name: string }) => i.name)).toEqual(['okta']);
        const page2 = await h.call('GET', `/v1/identity-providers?limit=1&cursor=${encodeURIComponent(page1.body.next_cursor)}`);
        expect(page2.body).toMatchObject({ items: [{ name: 'keycloak', display_name: null }], next_cursor: null });
        expect(page1.text + page2.text).not.toContain(secret);
        expect(await idps.listForSignin()).toEqual([{ name: 'keycloak', displayName: 'keycloak' }, { name: 'okta', displayName: 'Okta' }]);

        // The sign-in flow's view: secrets opened, mappings by team id.
        const rec = await idps.load('okta');
        expect(rec).toMatchObject({ id: v.id, clientSecret: secret, privateKey: null, groupRoles: { 'custos-admins': 'admin' }, groupTeams: { 'ml-eng': teamId } });
        expect(await idps.load('nobody')).toBeUndefined();

        // Change: a new secret and new mappings; the old secret is gone.
        const secret2 = `${secret}-2`;
        const changed = await h.call('PATCH', '/v1/identity-providers/okta', {
          client_secret: secret2, group_roles: { 'sec-team': 'security' }, group_teams: {}, display_name: null, new_principal_status: 'active', reason: 'rotate',
        });
        expect(changed.status, changed.text).toBe(200);
        expect(changed.body).toMatchObject({ display_name: null, group_roles: { 'sec-team': 'security' }, group_teams: {}, new_principal_status: 'active', client_secret_set: true });
        expect(changed.text).not.toContain(secret);
        expect((await idps.load('okta'))!.clientSecret).toBe(secret2);

        // Remove.
        const removed = await h.call('DELETE', '/v1/identity-providers/keycloak?reason=unused');
        expect(removed.status, removed.text).toBe(204);
        expect((await h.call('GET', '/v1/identity-providers/keycloak')).body.code).toBe('not_found');

        const events = await eventsSince(h, seq);
        const mine = events.filter((e) => e.type.startsWith('signin.idp.'));
        expect(mine.map((e) => `${e.type} ${e.target?.name}`)).toEqual([
          'signin.idp.created okta', 'signin.idp.created keycloak', 'signin.idp.updated okta', 'signin.idp.deleted keycloak',
        ]);
        expect(mine[0]!.details).toMatchObject({ issuer: 'https://example.okta.com', client_auth: 'client_secret_basic', client_secret_set: true, group_teams: { 'ml-eng': teamId }, reason: 'sso' });
        expect(mine[2]!.details).toMatchObject({ client_secret: 'replaced', reason: 'rotate' });
        expect(mine[2]!.details.changed).toEqual(expect.arrayContaining(['client_secret', 'group_roles', 'group_teams', 'display_name', 'new_principal_status']));
        expect(mine[3]!.details).toMatchObject({ issuer: 'https://sso.example.com/realms/corp', reason: 'unused' });
        expect(JSON.stringify(events)).not.toContain(secret);
      });

      it.runIf(enabled)('private_key_jwt: Custos makes the key pair, shows and serves only the public key, seals the private one', async () => {
        const seq = await lastSeq(h);
        const created = await h.call('POST', '/v1/identity-providers', { name: 'entra', issuer: 'https://login.example.com/tenant/v2.0', client_id: 'custos-pk', client_auth: 'private_key_jwt' });
        expect(created.status, created.text).toBe(201);
        const v = created.body;
        expect(v).toMatchObject({ client_auth: 'private_key_jwt', client_secret_set: false, jwks_uri: `${h.cp.issuer()}/oauth/idp/entra/jwks.json` });
        expect(v.public_jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
        expect(v.public_jwk.kid).toEqual(expect.any(String));
        expect(v.public_jwk.d).toBeUndefined();

        const rec = (await idps.load('entra'))!;
        expect(rec.privateKey).toMatchObject({ kty: 'EC', kid: v.public_jwk.kid, x: v.public_jwk.x });
        const d = rec.privateKey!.d!;
        expect(d).toEqual(expect.any(String));

        // The public JWKS route needs no token and serves exactly the public key.
        const jwks = await h.call('GET', '/oauth/idp/entra/jwks.json', undefined, null);
        expect(jwks.status, jwks.text).toBe(200);
        expect(jwks.headers['content-type']).toContain('application/jwk-set+json');
        expect(jwks.body).toEqual({ keys: [v.public_jwk] });
        expect((await h.call('GET', '/oauth/idp/okta/jwks.json', undefined, null)).status).toBe(404);
        expect((await h.call('GET', '/oauth/idp/nobody/jwks.json', undefined, null)).status).toBe(404);

        // Rotation replaces the pair; switching to a secret method forgets the key.
        const rotated = await h.call('PATCH', '/v1/identity-providers/entra', { rotate_key: true });
        expect(rotated.status, rotated.text).toBe(200);
        expect(rotated.body.public_jwk.kid).not.toBe(v.public_jwk.kid);
        const toSecret = await h.call('PATCH', '/v1/identity-providers/entra', { client_auth: 'client_secret_post', client_secret: 'now-a-secret' });
        expect(toSecret.status, toSecret.text).toBe(200);
        expect(toSecret.body).toMatchObject({ client_auth: 'client_secret_post', client_secret_set: true, public_jwk: null, jwks_uri: null });
        expect(await idps.load('entra')).toMatchObject({ privateKey: null, clientSecret: 'now-a-secret' });
        const row = await h.cp.db.kysely.selectFrom('identity_providers').selectAll().where('name', '=', 'entra').executeTakeFirstOrThrow();
        expect(row.private_key_sealed).toBeNull();

        const events = await eventsSince(h, seq);
        expect(events.filter((e) => e.type.startsWith('signin.idp.')).map((e) => e.type)).toEqual(['signin.idp.created', 'signin.idp.updated', 'signin.idp.updated']);
        expect(events[0]!.details.key_id).toBe(v.public_jwk.kid);
        expect(JSON.stringify(events)).not.toContain(d);
        expect(JSON.stringify(events)).not.toContain('now-a-secret');
        expect((await h.call('DELETE', '/v1/identity-providers/entra')).status).toBe(204);
      });

      it.runIf(enabled)('bad settings are refused with a stable code, as problem+json, and write nothing', async () => {
        const base = { issuer: 'https://bad.example.com', client_id: 'c', client_secret: 's' };
        const cases: Array<[string, string, string, Record<string, unknown>, number, string, string?]> = [
          ['POST', '/v1/identity-providers', 'plain http to a non-loopback host', { ...base, name: 'b1', issuer: 'http://idp.example.com' }, 422, 'invalid_identity_provider', 'https'],
          ['POST', '/v1/identity-providers', 'an issuer with a query', { ...base, name: 'b2', issuer: 'https://idp.example.com/?tenant=1' }, 422, 'invalid_identity_provider', 'query'],
          ['POST', '/v1/identity-providers', 'an issuer with a fragment', { ...base, name: 'b3', issuer: 'https://idp.example.com/#x' }, 422, 'invalid_identity_provider', 'fragment'],
          ['POST', '/v1/identity-providers', 'the discovery URL instead of the issuer', { ...base, name: 'b4', issuer: 'https://idp.example.com/.well-known/openid-configuration' }, 422, 'invalid_identity_provider', 'discovery'],
          ['POST', '/v1/identity-providers', 'credentials in the issuer', { ...base, name: 'b5', issuer: 'https://u:p@idp.example.com' }, 422, 'invalid_identity_provider', 'password'],
          ['POST', '/v1/identity-providers', 'not a URL', { ...base, name: 'b6', issuer: 'idp.example.com' }, 422, 'invalid_identity_provider', 'absolute URL'],
          ['POST', '/v1/identity-providers', 'a secret method without a secret', { name: 'b7', issuer: 'https://b7.example.com', client_id: 'c' }, 422, 'invalid_identity_provider', 'client_secret'],
          ['POST', '/v1/identity-providers', 'private_key_jwt with a secret', { ...base, name: 'b8', client_auth: 'private_key_jwt' }, 422, 'invalid_identity_provider', 'no client_secret'],
          ['POST', '/v1/identity-providers', 'scopes without openid', { ...base, name: 'b9', scopes: ['email', 'profile'] }, 422, 'invalid_identity_provider', 'openid'],
          ['POST', '/v1/identity-providers', 'group mappings without a groups claim', { ...base, name: 'b10', group_roles: { admins: 'admin' } }, 422, 'invalid_identity_provider', 'groups_claim'],
          ['POST', '/v1/identity-providers', 'a team that does not exist', { ...base, name: 'b11', groups_claim: 'groups', group_teams: { g: 'no-such-team' } }, 422, 'team_not_found', 'no-such-team'],
          ['POST', '/v1/identity-providers', 'an issuer already configured', { ...base, name: 'b12', issuer: 'https://example.okta.com' }, 422, 'invalid_identity_provider', 'already configured'],
          ['POST', '/v1/identity-providers', 'a name taken', { ...base, name: 'okta', issuer: 'https://b13.example.com' }, 409, 'name_taken'],
          ['POST', '/v1/identity-providers', 'an unknown role', { ...base, name: 'b14', groups_claim: 'groups', group_roles: { g: 'root' } }, 400, 'validation_failed'],
          ['POST', '/v1/identity-providers', 'a name that is not a slug', { ...base, name: 'Bad Name' }, 400, 'validation_failed'],
          ['POST', '/v1/identity-providers', 'an unknown field', { ...base, name: 'b15', client_secret_hash: 'x' }, 400, 'validation_failed'],
          ['POST', '/v1/identity-providers', 'an unknown subject claim', { ...base, name: 'b16', subject_claim: 'preferred_username' }, 400, 'validation_failed'],
          ['POST', '/v1/identity-providers', 'a scope with a space', { ...base, name: 'b17', scopes: ['openid email'] }, 400, 'validation_failed'],
          ['PATCH', '/v1/identity-providers/okta', 'changing the issuer', { issuer: 'https://elsewhere.example.com' }, 400, 'validation_failed'],
          ['PATCH', '/v1/identity-providers/okta', 'rotate_key on a secret method', { rotate_key: true }, 422, 'invalid_identity_provider', 'rotate_key'],
          ['PATCH', '/v1/identity-providers/okta', 'removing the groups claim while mappings remain', { groups_claim: null }, 422, 'invalid_identity_provider', 'groups_claim'],
          ['PATCH', '/v1/identity-providers/okta', 'a secret with private_key_jwt', { client_auth: 'private_key_jwt', client_secret: 'x' }, 422, 'invalid_identity_provider', 'no client_secret'],
          ['PATCH', '/v1/identity-providers/okta', 'an unknown team', { group_teams: { g: 'nope' } }, 422, 'team_not_found'],
          ['PATCH', '/v1/identity-providers/nobody', 'an unknown provider', { display_name: 'x' }, 404, 'not_found'],
          ['DELETE', '/v1/identity-providers/nobody', 'an unknown provider', {}, 404, 'not_found'],
        ];
        const before = { idps: await count(h, 'identity_providers'), events: await count(h, 'audit_events') };
        const rowBefore = await h.cp.db.kysely.selectFrom('identity_providers').selectAll().where('name', '=', 'okta').executeTakeFirstOrThrow();
        for (const [method, url, what, body, status, code, detail] of cases) {
          const r = await h.call(method, url, method === 'DELETE' ? undefined : body);
          expect(r.status, `${what}: ${r.text}`).toBe(status);
          expect(r.headers['content-type'], what).toContain('application/problem+json');
          expect(r.body.code, what).toBe(code);
          if (detail) expect(r.body.detail, what).toContain(detail);
          expect(r.text, what).not.toContain('"s"');
        }
        expect({ idps: await count(h, 'identity_providers'), events: await count(h, 'audit_events') }).toEqual(before);
        expect(await h.cp.db.kysely.selectFrom('identity_providers').selectAll().where('name', '=', 'okta').executeTakeFirstOrThrow()).toEqual(rowBefore);
      });

      it.runIf(enabled)('reading needs idp.read, changing idp.write: an auditor reads, cannot change; an owner sees nothing', async () => {
        const auditor = await h.operator('idp-auditor', 'auditor');
        const owner = await h.operator('idp-owner', 'owner');
        expect((await h.call('GET', '/v1/identity-providers/okta', undefined, auditor)).status).toBe(200);
        const write = await h.call('PATCH', '/v1/identity-providers/okta', { display_name: 'x' }, auditor);
        expect([write.status, write.body.code]).toEqual([403, 'forbidden']);
        expect((await h.call('GET', '/v1/identity-providers', undefined, owner)).status).toBe(403);
        expect((await h.call('GET', '/v1/identity-providers', undefined, null)).status).toBe(401);
      });
    });

    describe('the relying party against a real OpenID Provider', () => {
      let idp: TestIdp;
      let client: IdpClient;
      const users = [
        { sub: 'alice-1', email: 'alice@corp.example', name: 'Alice', groups: ['custos-admins', 'ml-eng'], password: 'alice-pw' },
        { sub: 'bob-2', email: 'bob@corp.example', name: 'Bob', groups: ['auditors'], password: 'bob-pw' },
        { sub: 'carol-3', email: 'carol@corp.example', name: 'Carol', groups: [], password: 'carol-pw', emailVerified: false },
        { sub: 'dan-4', email: 'alice@corp.example', name: 'Not Alice', groups: [], password: 'dan-pw', emailVerified: null },
      ];
      /** The provider as the sign-in flow loads it (secrets opened). */
      const record = async (): Promise<IdentityProviderRecord> => (await idps.load('corp'))!;
      async function signIn(rec: IdentityProviderRecord, login = 'alice-1', password = 'alice-pw') {
        const started = await client.begin(rec, REDIRECT);
        const callback = await signInAtIdp(started.url, { login, password });
        return { started, callback };
      }

      beforeAll(async () => {
        if (!enabled) return;
        idp = await startTestIdp({
          users,
          clients: [
            { client_id: 'custos-basic', client_secret: 'basic-secret', redirect_uris: [REDIRECT] },
            { client_id: 'custos-post', client_secret: 'post-secret', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_post' },
          ],
        });
        client = createIdpClient({ fetchTimeoutMs: 5000 });
        const created = await h.call('POST', '/v1/identity-providers', {
          name: 'corp', display_name: 'Corp SSO', issuer: idp.issuer, client_id: 'custos-basic', client_secret: 'basic-secret',
          groups_claim: 'groups', group_roles: { 'custos-admins': 'admin', auditors: 'auditor' }, group_teams: { 'ml-eng': 'ml-platform' },
        });
        expect(created.status, created.text).toBe(201);
      });
      afterAll(async () => { await idp?.close(); });

      it.runIf(enabled)('begin → sign in at the IdP → complete: PKCE S256, state, nonce; the person with email, name, groups and a refresh token', async () => {
        const rec = await record();
        const { started, callback } = await signIn(rec);
        const auth = new URL(started.url);
        expect(auth.origin).toBe(idp.issuer);
        expect(Object.fromEntries(auth.searchParams)).toMatchObject({
          response_type: 'code', client_id: 'custos-basic', redirect_uri: REDIRECT, scope: 'openid email profile',
          code_challenge_method: 'S256', state: started.state, nonce: started.nonce,
        });
        expect(auth.searchParams.get('code_challenge')).not.toBe(started.codeVerifier);
        expect(started.state).not.toBe(started.nonce);
        // The IdP redirects back with the code, our state and its issuer (RFC 9207).
        expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT);
        expect(callback.searchParams.get('state')).toBe(started.state);
        expect(callback.searchParams.get('iss')).toBe(idp.issuer);

        const person = await client.complete(rec, REDIRECT, callback, started);
        expect(person).toMatchObject({ subject: 'alice-1', email: 'alice@corp.example', name: 'Alice', groups: ['custos-admins', 'ml-eng'] });
        expect(person.refreshToken).toEqual(expect.any(String));
        expect(person.authTime).toBeGreaterThan(0);
        expect(grantsFromGroups(rec, person.groups)).toEqual({ role: 'admin', teamIds: [teamId] });

        // A second begin gets fresh values; the same callback cannot be used twice (the IdP refuses the used code).
        const again = await client.begin(rec, REDIRECT);
        expect([again.state, again.nonce, again.codeVerifier]).not.toEqual([started.state, started.nonce, started.codeVerifier]);
        const replay = await rejection(client.complete(rec, REDIRECT, callback, started));
        expect(replay).toBeInstanceOf(UpstreamRefused);
      });

      it.runIf(enabled)('refuses a wrong state, a wrong nonce, an altered or missing iss, and a wrong PKCE verifier', async () => {
        const rec = await record();
        {
          const { started, callback } = await signIn(rec);
          const e = await rejection(client.complete(rec, REDIRECT, callback, { ...started, state: 'another-state' }));
          expect(e, e.message).toBeInstanceOf(UpstreamInvalid);
          expect(e.message).toContain('state');
        }
        {
          const { started, callback } = await signIn(rec);
          const e = await rejection(client.complete(rec, REDIRECT, callback, { ...started, nonce: 'another-nonce' }));
          expect(e, e.message).toBeInstanceOf(UpstreamInvalid);
        }
        {
          const { started, callback } = await signIn(rec);
          const altered = new URL(callback);
          altered.searchParams.set('iss', 'http://127.0.0.1:1');
          const e = await rejection(client.complete(rec, REDIRECT, altered, started));
          expect(e, e.message).toBeInstanceOf(UpstreamInvalid);
          expect(e.message).toContain('iss');
          // The IdP advertises authorization_response_iss_parameter_supported: a callback without iss is refused too.
          const stripped = new URL(callback);
          stripped.searchParams.delete('iss');
          expect(await rejection(client.complete(rec, REDIRECT, stripped, started))).toBeInstanceOf(UpstreamInvalid);
          // The untouched callback still works: nothing above consumed the code.
          expect((await client.complete(rec, REDIRECT, callback, started)).subject).toBe('alice-1');
        }
        {
          const { started, callback } = await signIn(rec);
          const e = await rejection(client.complete(rec, REDIRECT, callback, { ...started, codeVerifier: `${started.codeVerifier.slice(0, -4)}AAAA` }));
          expect(e, e.message).toBeInstanceOf(UpstreamRefused);
        }
        {
          // The IdP's own refusal (an error in the callback) is UpstreamRefused, not a check failure.
          const started = await client.begin(rec, REDIRECT);
          const denied = new URL(REDIRECT);
          denied.search = new URLSearchParams({ error: 'access_denied', state: started.state, iss: idp.issuer }).toString();
          const e = await rejection(client.complete(rec, REDIRECT, denied, started));
          expect(e).toBeInstanceOf(UpstreamRefused);
          expect(e).not.toBeInstanceOf(UpstreamInvalid);
          expect(e.message).toContain('access_denied');
        }
      });

      it.runIf(enabled)('refresh re-reads groups; a disabled person is refused (UpstreamRefused)', async () => {
        const rec = await record();
        const { started, callback } = await signIn(rec, 'bob@corp.example', 'bob-pw');
        const bob = await client.complete(rec, REDIRECT, callback, started);
        expect(bob).toMatchObject({ subject: 'bob-2', groups: ['auditors'] });
        expect(grantsFromGroups(rec, bob.groups).role).toBe('auditor');

        idp.setGroups('bob-2', ['custos-admins', 'ml-eng']);
        const refreshed = await client.refresh(rec, bob.refreshToken!);
        expect(refreshed).toMatchObject({ subject: 'bob-2', email: 'bob@corp.example', groups: ['custos-admins', 'ml-eng'] });
        expect(refreshed.refreshToken).toEqual(expect.any(String));
        expect(refreshed.refreshToken).not.toBe(bob.refreshToken); // the test IdP rotates refresh tokens
        expect(grantsFromGroups(rec, refreshed.groups)).toEqual({ role: 'admin', teamIds: [teamId] });

        // The rotated-away refresh token is refused by the IdP.
        expect(await rejection(client.refresh(rec, bob.refreshToken!))).toBeInstanceOf(UpstreamRefused);

        const { started: s2, callback: c2 } = await signIn(rec);
        const alice = await client.complete(rec, REDIRECT, c2, s2);
        idp.disable('alice-1');
        const e = await rejection(client.refresh(rec, alice.refreshToken!));
        expect(e).toBeInstanceOf(UpstreamRefused);
        expect(e).not.toBeInstanceOf(UpstreamInvalid);
        expect(e.message).toContain('invalid_grant');
        expect(e.message).not.toContain(alice.refreshToken!);
        await expect(signIn(rec)).rejects.toThrow(/disabled/);
      });

      it.runIf(enabled)('groups from userinfo when the ID token lacks the claim, on sign-in and on refresh', async () => {
        const rec = await record();
        idp.setGroups('bob-2', ['auditors']);
        idp.setGroupsInIdToken(false);
        try {
          const { started, callback } = await signIn(rec, 'bob-2', 'bob-pw');
          const bob = await client.complete(rec, REDIRECT, callback, started);
          expect(bob.groups).toEqual(['auditors']);
          idp.setGroups('bob-2', ['sec', 'auditors']);
          expect((await client.refresh(rec, bob.refreshToken!)).groups).toEqual(['sec', 'auditors']);
        } finally {
          idp.setGroupsInIdToken(true);
        }
      });

      it.runIf(enabled)('subject_claim email: the person is named by a verified email; an unverified one names nobody', async () => {
        expect((await h.call('PATCH', '/v1/identity-providers/corp', { subject_claim: 'email' })).status).toBe(200);
        try {
          const rec = await record();
          const { started, callback } = await signIn(rec, 'bob-2', 'bob-pw');
          expect(await client.complete(rec, REDIRECT, callback, started)).toMatchObject({ subject: 'bob@corp.example', email: 'bob@corp.example' });
          const carol = await signIn(rec, 'carol-3', 'carol-pw');
          const e = await rejection(client.complete(rec, REDIRECT, carol.callback, carol.started));
          expect(e).toBeInstanceOf(UpstreamInvalid);
          expect(e.message).toContain('verified email');
          // No email_verified claim at all is not verification: Dan claims Alice's address and names nobody.
          const dan = await signIn(rec, 'dan-4', 'dan-pw');
          expect(await rejection(client.complete(rec, REDIRECT, dan.callback, dan.started))).toBeInstanceOf(UpstreamInvalid);
        } finally {
          expect((await h.call('PATCH', '/v1/identity-providers/corp', { subject_claim: 'sub' })).status).toBe(200);
        }
        // With sub, Carol signs in, but her unverified email is not passed on.
        const rec = await record();
        const carol = await signIn(rec, 'carol-3', 'carol-pw');
        expect(await client.complete(rec, REDIRECT, carol.callback, carol.started)).toMatchObject({ subject: 'carol-3', email: null, name: 'Carol' });
      });

      it.runIf(enabled)('client authentication: client_secret_post, a wrong secret refused, and private_key_jwt with the key Custos made', async () => {
        const patch = async (body: Record<string, unknown>) => {
          const r = await h.call('PATCH', '/v1/identity-providers/corp', body);
          expect(r.status, r.text).toBe(200);
          return r.body;
        };
        await patch({ client_id: 'custos-post', client_auth: 'client_secret_post', client_secret: 'post-secret' });
        let rec = await record();
        let flow = await signIn(rec, 'bob-2', 'bob-pw');
        expect((await client.complete(rec, REDIRECT, flow.callback, flow.started)).subject).toBe('bob-2');

        await patch({ client_secret: 'not-the-secret' });
        rec = await record();
        flow = await signIn(rec, 'bob-2', 'bob-pw');
        const wrong = await rejection(client.complete(rec, REDIRECT, flow.callback, flow.started));
        expect(wrong).toBeInstanceOf(UpstreamRefused);
        expect(wrong.message).toContain('invalid_client');
        expect(wrong.message).not.toContain('not-the-secret');

        // private_key_jwt: register the generated public key at the IdP, as an admin would.
        const view = await patch({ client_id: 'custos-pkjwt', client_auth: 'private_key_jwt' });
        await idp.addClient({ client_id: 'custos-pkjwt', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [view.public_jwk] } });
        rec = await record();
        expect(rec.privateKey?.kid).toBe(view.public_jwk.kid);
        flow = await signIn(rec, 'bob-2', 'bob-pw');
        const bob = await client.complete(rec, REDIRECT, flow.callback, flow.started);
        expect(bob.subject).toBe('bob-2');
        expect((await client.refresh(rec, bob.refreshToken!)).subject).toBe('bob-2');

        // A rotated key the IdP does not know is refused there.
        await patch({ rotate_key: true });
        rec = await record();
        flow = await signIn(rec, 'bob-2', 'bob-pw');
        const stale = await rejection(client.complete(rec, REDIRECT, flow.callback, flow.started));
        expect(stale).toBeInstanceOf(UpstreamRefused);
        expect(stale.message).toContain('invalid_client');
      });

      it.runIf(enabled)('an unreachable IdP is a plain error (the caller answers 503), never a refusal', async () => {
        const rec = { ...(await record()), issuer: `http://127.0.0.1:${await closedPort()}` };
        const down = await rejection(client.begin(rec, REDIRECT));
        expect(down).not.toBeInstanceOf(UpstreamRefused);
        // A provider that was discovered and then went away: refresh fails the same way.
        const other = await startTestIdp({ users, clients: [{ client_id: 'c', client_secret: 's', redirect_uris: [REDIRECT] }] });
        const otherRec = { ...(await record()), issuer: other.issuer, clientId: 'c', clientAuth: 'client_secret_basic' as const, clientSecret: 's', privateKey: null };
        const flow = await client.begin(otherRec, REDIRECT);
        const person = await client.complete(otherRec, REDIRECT, await signInAtIdp(flow.url, { login: 'bob-2', password: 'bob-pw' }), flow);
        await other.close();
        const gone = await rejection(client.refresh(otherRec, person.refreshToken!));
        expect(gone).not.toBeInstanceOf(UpstreamRefused);
        expect(gone.message).not.toContain(person.refreshToken!);
      });
    });
  });
}
