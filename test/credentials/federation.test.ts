import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, UnsecuredJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialDirectory, CredentialPrincipal } from '../../src/credentials/contracts.js';
import { createFederationService, type FederationService } from '../../src/credentials/federation.service.js';
import { registerFederationRoutes } from '../../src/credentials/federation.routes.js';
import { OAuthError } from '../../src/credentials/oauth-errors.js';
import { createRemoteJwksCache, type RemoteJwksCache } from '../../src/credentials/remote-jwks.js';
import { runCommands } from '../../src/cli/program.js';
import { createIdentityDirectory } from '../../src/identity/index.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { eventsSince, lastSeq } from '../identity/store-probe.js';

// Workload identity federation end to end: trusted issuers managed over /v1/federation/issuers (on both
// stores), and workload JWTs from a local issuer — its own RS256 and ES256 keys, its JWKS served over
// loopback HTTP by a server that counts requests — verified, mapped to principals, or refused.

type JwksMode = 'ok' | 'oversized';

interface LocalIssuer {
  url: string;
  jwksUrl: string;
  jwks: { keys: JWK[] };
  requests: (path?: string) => number;
  setMode(mode: JwksMode): void;
  sign(claims: JWTPayload, opts?: { alg?: 'RS256' | 'ES256'; kid?: string; key?: CryptoKey; header?: Record<string, unknown>; iat?: number; lifetime?: number; omit?: string[] }): Promise<string>;
  stop(): Promise<void>;
  rsa: { publicKey: CryptoKey; privateKey: CryptoKey };
}

async function startIssuer(clock: { now(): Date }, pathPrefix = ''): Promise<LocalIssuer> {
  const rsa = await generateKeyPair('RS256');
  const ec = await generateKeyPair('ES256');
  const jwks = {
    keys: [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ],
  };
  const hits: string[] = [];
  let mode: JwksMode = 'ok';
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url !== `${pathPrefix}/.well-known/jwks.json`) return res.writeHead(404).end();
    const body = mode === 'ok' ? JSON.stringify(jwks) : JSON.stringify({ ...jwks, padding: 'x'.repeat(100_000) });
    return res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${pathPrefix}`;
  return {
    url, jwksUrl: `${url}/.well-known/jwks.json`, jwks, rsa,
    requests: (path) => (path === undefined ? hits.length : hits.filter((h) => h === path).length),
    setMode: (m) => { mode = m; },
    async sign(claims, opts = {}) {
      const alg = opts.alg ?? 'RS256';
      const iat = opts.iat ?? Math.floor(clock.now().getTime() / 1000);
      const full: JWTPayload = { iss: url, iat, exp: iat + (opts.lifetime ?? 300), jti: `jti-${Math.random().toString(36).slice(2)}`, ...claims };
      for (const k of opts.omit ?? []) delete full[k];
      return new SignJWT(full)
        .setProtectedHeader({ alg, typ: 'JWT', kid: opts.kid ?? (alg === 'RS256' ? 'rsa-1' : 'ec-1'), ...opts.header })
        .sign(opts.key ?? (alg === 'RS256' ? rsa.privateKey : ec.privateKey));
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Identity's directory, seen as the credentials module's CredentialDirectory (only what federation reads). */
function directoryOf(h: Harness): Pick<CredentialDirectory, 'principal' | 'principalNames'> {
  const identity = createIdentityDirectory({ db: h.cp.db });
  return {
    async principal(ref, trx) {
      const p = await identity.principalByRef(ref, trx);
      return p ? { ...p, scopes: [], purposes: [], riskTier: 'low', mayDelegateTo: [], dataCeiling: null, teamIds: [] } satisfies CredentialPrincipal : undefined;
    },
    principalNames: (ids, trx) => identity.principalNames(ids, trx),
  };
}

/** The management API's federation routes: the app's own once the composition root registers them, else these. */
function withRoutes(h: Harness, federation: FederationService): void {
  if (!h.cp.http.hasRoute({ method: 'POST', url: '/v1/federation/issuers' })) registerFederationRoutes(h.cp.http, federation);
}

/** The OAuth refusal a verification ends in (fails the test if it was accepted or failed otherwise). */
async function refusal(federation: FederationService, assertion: string): Promise<OAuthError> {
  const error = await federation.verifyAssertion(assertion).then(() => undefined, (e: unknown) => e);
  expect(error, 'the assertion was accepted').toBeInstanceOf(OAuthError);
  const e = error as OAuthError;
  expect(e.code).toBe('invalid_grant');
  // The detail never quotes the assertion (nor its signature).
  if (assertion.length > 0) {
    expect(e.message).not.toContain(assertion);
    const signature = assertion.split('.')[2];
    if (signature) expect(e.message).not.toContain(signature);
  }
  return e;
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

for (const backend of BACKENDS) {
  describe(`workload identity federation on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let federation: FederationService;
    let jwks: RemoteJwksCache;
    let gh: LocalIssuer;
    let k8s: LocalIssuer;
    let deployerId: string;
    let builderId: string;
    const AUD = 'https://custos.test';
    const ghClaims = (over: JWTPayload = {}): JWTPayload => ({
      aud: AUD, sub: 'repo:org/app:ref:refs/heads/main', repository: 'org/app', ref: 'refs/heads/main', environment: 'production',
      job_workflow_ref: 'org/app/.github/workflows/deploy.yml@refs/heads/main', ...over,
    });

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      jwks = createRemoteJwksCache({ clock: h.clock, maxAgeMs: 60_000, failureHoldMs: 0 });
      // The service under test has its own JWKS cache (so fetches can be counted); the routes are the app's.
      federation = createFederationService({ db: h.cp.db, audit: h.cp.audit, clock: h.clock, directory: directoryOf(h), jwks });
      withRoutes(h, federation);
      await h.call('POST', '/v1/principals', { name: 'olive', kind: 'human' });
      for (const name of ['ci-deployer', 'ci-tester', 'k8s-builder']) {
        const p = await h.call('POST', '/v1/principals', { name, kind: 'service_account', owner: 'olive', status: 'active' });
        expect(p.status, p.text).toBe(201);
        if (name === 'ci-deployer') deployerId = p.body.id;
        if (name === 'k8s-builder') builderId = p.body.id;
      }
      gh = await startIssuer(h.clock, '/gh');
      k8s = await startIssuer(h.clock, '/k8s');
    });
    afterAll(async () => {
      await gh?.stop();
      await k8s?.stop();
      await h?.close();
    });

    it.runIf(enabled)('trusted issuers: added, listed, shown, changed and removed over the API, each audited, principals shown by name', async () => {
      const seq = await lastSeq(h);
      const add = await h.call('POST', '/v1/federation/issuers', {
        name: 'crud-ci', issuer: 'https://ci.example.com', jwks_url: 'https://ci.example.com/.well-known/jwks', audience: AUD,
        mappings: [{ principal: 'ci-deployer', claims: { repository: 'org/app', ref: ['refs/heads/main', 'refs/heads/release'] } }], reason: 'new CI',
      });
      expect(add.status, add.text).toBe(201);
      expect(add.body).toMatchObject({
        name: 'crud-ci', issuer: 'https://ci.example.com', jwks_url: 'https://ci.example.com/.well-known/jwks', jwks: null, audience: AUD,
        algorithms: ['RS256', 'ES256', 'EdDSA'], max_token_age_seconds: null,
        mappings: [{ principal: { id: deployerId, name: 'ci-deployer' }, claims: { repository: 'org/app', ref: ['refs/heads/main', 'refs/heads/release'] } }],
      });
      const stored = await h.cp.db.kysely.selectFrom('federation_issuers').select('mappings').where('name', '=', 'crud-ci').executeTakeFirstOrThrow();
      expect(JSON.parse(stored.mappings)).toEqual([{ principal_id: deployerId, claims: { repository: 'org/app', ref: ['refs/heads/main', 'refs/heads/release'] } }]);

      expect((await h.call('POST', '/v1/federation/issuers', { ...add.body, id: undefined, mappings: [{ principal: 'ci-deployer', claims: { ref: 'x' } }], issuer: 'https://other.example.com', jwks_url: 'https://other.example.com/jwks', jwks: undefined, algorithms: undefined, max_token_age_seconds: undefined, created_at: undefined, created_by: undefined, updated_at: undefined })).body.code).toBe('name_taken');

      expect((await h.call('GET', '/v1/federation/issuers/crud-ci')).body.id).toBe(add.body.id);
      expect((await h.call('GET', `/v1/federation/issuers/${add.body.id}`)).body.name).toBe('crud-ci');
      expect((await h.call('GET', '/v1/federation/issuers/nope')).status).toBe(404);

      const patched = await h.call('PATCH', '/v1/federation/issuers/crud-ci', {
        audience: 'custom-aud', algorithms: ['ES256'], jwks: { keys: [gh.jwks.keys[1]] }, max_token_age_seconds: 600,
        mappings: [{ principal: 'ci-tester', claims: { 'kubernetes.io.namespace': 'ci' } }], reason: 'rotate',
      });
      expect(patched.status, patched.text).toBe(200);
      expect(patched.body).toMatchObject({
        audience: 'custom-aud', algorithms: ['ES256'], jwks_url: null, jwks: { keys: [gh.jwks.keys[1]] }, max_token_age_seconds: 600,
        mappings: [{ principal: { name: 'ci-tester' }, claims: { 'kubernetes.io.namespace': 'ci' } }],
      });
      const cleared = await h.call('PATCH', '/v1/federation/issuers/crud-ci', { max_token_age_seconds: null, jwks_url: 'https://ci.example.com/jwks' });
      expect(cleared.body).toMatchObject({ max_token_age_seconds: null, jwks_url: 'https://ci.example.com/jwks', jwks: null, audience: 'custom-aud' });

      const second = await h.call('POST', '/v1/federation/issuers', {
        name: 'crud-ci-2', issuer: 'https://ci2.example.com', jwks: { keys: [gh.jwks.keys[0]] }, audience: AUD,
        mappings: [{ principal: builderId, claims: { sub: 'x' } }],
      });
      expect(second.status, second.text).toBe(201);
      const page1 = await h.call('GET', '/v1/federation/issuers?limit=1');
      expect(page1.body.items).toHaveLength(1);
      expect(page1.body.next_cursor).toEqual(expect.any(String));
      const page2 = await h.call('GET', `/v1/federation/issuers?limit=1&cursor=${encodeURIComponent(page1.body.next_cursor)}`);
      expect([...page1.body.items, ...page2.body.items].map((i: { name: string }) => i.name)).toEqual(['crud-ci', 'crud-ci-2']);

      expect((await h.call('DELETE', '/v1/federation/issuers/crud-ci?reason=retired')).status).toBe(204);
      expect((await h.call('DELETE', '/v1/federation/issuers/crud-ci')).status).toBe(404);
      expect((await h.call('DELETE', '/v1/federation/issuers/crud-ci-2')).status).toBe(204);

      const events = (await eventsSince(h, seq)).filter((e) => e.type.startsWith('credential.federation.'));
      expect(events.map((e) => [e.type, e.target?.name])).toEqual([
        ['credential.federation.added', 'crud-ci'], ['credential.federation.updated', 'crud-ci'], ['credential.federation.updated', 'crud-ci'],
        ['credential.federation.added', 'crud-ci-2'], ['credential.federation.removed', 'crud-ci'], ['credential.federation.removed', 'crud-ci-2'],
      ]);
      expect(events[0]!.details).toMatchObject({ issuer: 'https://ci.example.com', audience: AUD, reason: 'new CI', mappings: [{ principal_id: deployerId }] });
      expect(events[1]!.details).toMatchObject({ changed: expect.arrayContaining(['audience', 'algorithms', 'jwks', 'jwks_url', 'mappings', 'max_token_age_seconds']), reason: 'rotate' });
      expect(events[4]!.details).toMatchObject({ reason: 'retired' });
    });

    it.runIf(enabled)('bad settings are refused with invalid_federation saying which, and write nothing', async () => {
      const good = {
        name: 'bad-ci', issuer: 'https://bad.example.com', jwks_url: 'https://bad.example.com/jwks', audience: AUD,
        mappings: [{ principal: 'ci-deployer', claims: { repository: 'org/app' } }],
      };
      const { d: _d, ...ecPublic } = { ...gh.jwks.keys[1]!, d: undefined };
      const ecPrivate = await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey);
      // jose refuses to make a weak key; node:crypto still can.
      const weakRsa = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ issuer: 'http://bad.example.com' }, /issuer must use https/],
        [{ issuer: 'http://127.0.0.2:8080' }, /issuer must use https/],
        [{ issuer: 'not a url' }, /issuer is not an absolute URL/],
        [{ jwks_url: 'http://bad.example.com/jwks' }, /jwks_url must use https/],
        [{ jwks: { keys: [ecPublic] } }, /exactly one of jwks_url or jwks/],
        [{ jwks_url: undefined }, /exactly one of jwks_url or jwks/],
        [{ jwks_url: undefined, jwks: { keys: [ecPrivate] } }, /private key members \(d\)/],
        [{ jwks_url: undefined, jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, /symmetric/],
        [{ jwks_url: undefined, jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }] } }, /not a valid public key/],
        [{ jwks_url: undefined, jwks: { keys: [weakRsa] } }, /under 2048 bits/],
        [{ algorithms: ['RS256', 'HS256'] }, /'HS256' is not accepted/],
        [{ algorithms: ['none'] }, /'none' is not accepted/],
        [{ mappings: [{ principal: 'olive', claims: { repository: 'org/app' } }] }, /'olive' is a human/],
        [{ mappings: [{ principal: 'ghost', claims: { repository: 'org/app' } }] }, /principal 'ghost' does not exist/],
        [{ mappings: [{ principal: 'ci-deployer', claims: {} }] }, /no claim conditions/],
        [{ mappings: [{ principal: 'ci-deployer', claims: { exp: '1' } }] }, /exp cannot be conditions/],
      ];
      const before = await lastSeq(h);
      for (const [change, detail] of cases) {
        const r = await h.call('POST', '/v1/federation/issuers', { ...good, ...change });
        expect([r.status, r.body?.code], JSON.stringify(change)).toEqual([422, 'invalid_federation']);
        expect(r.body.detail, JSON.stringify(change)).toMatch(detail);
      }
      expect((await h.call('POST', '/v1/federation/issuers', { ...good, mappings: [] })).status).toBe(400);
      expect((await h.call('POST', '/v1/federation/issuers', { ...good, name: 'Not_A_Label' })).status).toBe(400);
      // One trusted issuer per iss.
      expect((await h.call('POST', '/v1/federation/issuers', good)).status).toBe(201);
      const clash = await h.call('POST', '/v1/federation/issuers', { ...good, name: 'bad-ci-2' });
      expect([clash.body.code, clash.body.detail]).toEqual(['invalid_federation', "issuer 'https://bad.example.com' is already trusted as 'bad-ci'; change that one instead"]);
      const patch = await h.call('PATCH', '/v1/federation/issuers/bad-ci', { jwks_url: 'https://x.example/jwks', jwks: { keys: [ecPublic] } });
      expect(patch.body.code).toBe('invalid_federation');
      expect((await h.call('PATCH', '/v1/federation/issuers/bad-ci', { algorithms: ['HS512'] })).body.code).toBe('invalid_federation');
      const events = (await eventsSince(h, before)).filter((e) => e.type.startsWith('credential.federation.'));
      expect(events.map((e) => e.type)).toEqual(['credential.federation.added']);
      expect((await h.call('DELETE', '/v1/federation/issuers/bad-ci')).status).toBe(204);
    });

    describe('assertions', () => {
      beforeAll(async () => {
        if (!enabled) return;
        const github = await h.call('POST', '/v1/federation/issuers', {
          name: 'github', issuer: gh.url, jwks_url: gh.jwksUrl, audience: AUD,
          mappings: [
            { principal: 'ci-deployer', claims: { repository: 'org/app', ref: 'refs/heads/main', environment: 'production' } },
            { principal: 'ci-tester', claims: { repository: 'org/app', ref: ['refs/heads/dev', 'refs/heads/test'] } },
          ],
        });
        expect(github.status, github.text).toBe(201);
        const cluster = await h.call('POST', '/v1/federation/issuers', {
          name: 'cluster', issuer: k8s.url, jwks: k8s.jwks, audience: 'custos', algorithms: ['ES256'],
          mappings: [{ principal: 'k8s-builder', claims: { 'kubernetes.io.namespace': 'ci', 'kubernetes.io.serviceaccount.name': 'builder' } }],
        });
        expect(cluster.status, cluster.text).toBe(201);
      });

      it.runIf(enabled)('a GitHub-Actions-shaped token maps to its principal', async () => {
        const token = await gh.sign(ghClaims({ jti: 'gh-run-1' }));
        const now = Math.floor(h.clock.now().getTime() / 1000);
        expect(await federation.verifyAssertion(token)).toEqual({
          principalId: deployerId, issuerName: 'github', issuer: gh.url, subject: 'repo:org/app:ref:refs/heads/main', jti: 'gh-run-1', expiresAt: now + 300,
        });
        const es = await gh.sign(ghClaims({ ref: 'refs/heads/test', sub: 'repo:org/app:ref:refs/heads/test' }), { alg: 'ES256' });
        expect((await federation.verifyAssertion(es)).principalId).not.toBe(deployerId);
      });

      it.runIf(enabled)('a Kubernetes-shaped token (namespace and service account nested under kubernetes.io) maps, from an inline JWKS', async () => {
        const token = await k8s.sign({
          aud: ['custos', 'https://kubernetes.default.svc'], sub: 'system:serviceaccount:ci:builder',
          'kubernetes.io': { namespace: 'ci', serviceaccount: { name: 'builder', uid: 'u-1' }, pod: { name: 'runner-1', uid: 'u-2' } },
        }, { alg: 'ES256' });
        expect(await federation.verifyAssertion(token)).toMatchObject({ principalId: builderId, issuerName: 'cluster', subject: 'system:serviceaccount:ci:builder' });
        expect(k8s.requests()).toBe(0);
        const otherSa = await k8s.sign({ aud: 'custos', sub: 'system:serviceaccount:ci:intruder', 'kubernetes.io': { namespace: 'ci', serviceaccount: { name: 'intruder' } } }, { alg: 'ES256' });
        expect((await refusal(federation, otherSa)).message).toMatch(/no mapping matches/);
        // The cluster accepts ES256 only.
        const rsa = await k8s.sign({ aud: 'custos', sub: 's', 'kubernetes.io': { namespace: 'ci', serviceaccount: { name: 'builder' } } }, { alg: 'RS256' });
        expect((await refusal(federation, rsa)).message).toMatch(/algorithm is not accepted/);
      });

      it.runIf(enabled)('refuses a wrong audience, an untrusted issuer, another key, an expired or too old token, missing claims', async () => {
        expect((await refusal(federation, await gh.sign(ghClaims({ aud: 'https://elsewhere.test' })))).message).toMatch(/aud is not this issuer's configured audience/);
        expect((await refusal(federation, await gh.sign(ghClaims({ iss: 'https://token.actions.githubusercontent.com' })))).message).toMatch(/not a trusted issuer/);
        expect((await refusal(federation, await gh.sign(ghClaims({ iss: `${gh.url}/` })))).message).toMatch(/not a trusted issuer/);
        const stranger = await generateKeyPair('RS256');
        expect((await refusal(federation, await gh.sign(ghClaims(), { key: stranger.privateKey }))).message).toMatch(/signature does not verify/);
        expect((await refusal(federation, await gh.sign(ghClaims(), { key: stranger.privateKey, kid: 'made-up' }))).message).toMatch(/no key of this issuer matches/);
        const now = Math.floor(h.clock.now().getTime() / 1000);
        // exp one second inside the 30 s leeway is accepted; at its edge and beyond it is not.
        expect((await federation.verifyAssertion(await gh.sign(ghClaims(), { iat: now - 329, lifetime: 300 }))).principalId).toBe(deployerId);
        expect((await refusal(federation, await gh.sign(ghClaims(), { iat: now - 330, lifetime: 300 }))).message).toMatch(/has expired/);
        expect((await refusal(federation, await gh.sign(ghClaims(), { iat: now - 331, lifetime: 300 }))).message).toMatch(/has expired/);
        expect((await federation.verifyAssertion(await gh.sign(ghClaims({ nbf: now + 29 })))).principalId).toBe(deployerId);
        expect((await refusal(federation, await gh.sign(ghClaims({ nbf: now + 31 })))).message).toMatch(/not yet valid/);
        expect((await refusal(federation, await gh.sign(ghClaims(), { omit: ['iat'] }))).message).toMatch(/no 'iat' claim/);
        expect((await refusal(federation, await gh.sign(ghClaims(), { omit: ['exp'] }))).message).toMatch(/no 'exp' claim/);
        expect((await refusal(federation, await gh.sign(ghClaims(), { omit: ['sub'] }))).message).toMatch(/no 'sub' claim/);
        expect((await refusal(federation, await gh.sign(ghClaims(), { omit: ['iss'] }))).message).toMatch(/no iss claim/);
        // max_token_age_seconds: an old but unexpired token is refused once a limit is set.
        expect((await h.call('PATCH', '/v1/federation/issuers/github', { max_token_age_seconds: 120 })).status).toBe(200);
        expect((await refusal(federation, await gh.sign(ghClaims(), { iat: now - 200, lifetime: 3600 }))).message).toMatch(/older than this issuer's max_token_age_seconds/);
        expect((await h.call('PATCH', '/v1/federation/issuers/github', { max_token_age_seconds: null })).status).toBe(200);
        expect((await federation.verifyAssertion(await gh.sign(ghClaims(), { iat: now - 200, lifetime: 3600 }))).principalId).toBe(deployerId);
        // No jti means no single use: refused unless the issuer bounds the replay window with max_token_age_seconds.
        expect((await refusal(federation, await gh.sign(ghClaims(), { omit: ['jti'] }))).message).toMatch(/no jti/);
        expect((await h.call('PATCH', '/v1/federation/issuers/github', { max_token_age_seconds: 120 })).status).toBe(200);
        expect(await federation.verifyAssertion(await gh.sign(ghClaims(), { omit: ['jti'] }))).toMatchObject({ principalId: deployerId, jti: null });
        expect((await h.call('PATCH', '/v1/federation/issuers/github', { max_token_age_seconds: null })).status).toBe(200);
      });

      it.runIf(enabled)('refuses alg none in any case, HS256 signed with the issuer\'s public key, a disallowed algorithm, and garbage', async () => {
        const claims = { ...ghClaims(), iss: gh.url, iat: Math.floor(h.clock.now().getTime() / 1000), exp: Math.floor(h.clock.now().getTime() / 1000) + 300 };
        expect((await refusal(federation, new UnsecuredJWT(claims).encode())).message).toMatch(/algorithm is not accepted/);
        for (const alg of ['None', 'NONE', 'nOnE']) {
          expect((await refusal(federation, `${b64({ alg, typ: 'JWT' })}.${b64(claims)}.`)).message, alg).toMatch(/trusted issuer 'github'/);
        }
        const pem = await exportSPKI(gh.rsa.publicKey);
        const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).sign(new TextEncoder().encode(pem));
        expect((await refusal(federation, hs)).message).toMatch(/algorithm is not accepted/);
        const ps = await new SignJWT(claims).setProtectedHeader({ alg: 'PS256', kid: 'rsa-1' }).sign((await generateKeyPair('PS256')).privateKey);
        expect((await refusal(federation, ps)).message).toMatch(/algorithm is not accepted/);
        expect((await refusal(federation, 'not-a-jwt')).message).toMatch(/not a JWT/);
        expect((await refusal(federation, '')).message).toMatch(/no assertion/);
        expect((await refusal(federation, 'a'.repeat(20_000))).message).toMatch(/longer than/);
        const good = await gh.sign(ghClaims());
        const [hd, pl, sig] = good.split('.');
        expect((await refusal(federation, `${hd}.${b64({ ...claims, repository: 'org/app' })}.${sig}`)).message).toMatch(/signature does not verify/);
        expect((await refusal(federation, `${hd}.${pl}.`)).message).toMatch(/trusted issuer 'github'/);
        expect((await refusal(federation, `${hd}.${pl}.${sig}.extra`)).message).toMatch(/not a JWT|malformed/);
      });

      it.runIf(enabled)('keys come only from the configured source: an embedded jwk or a jku is never used or fetched', async () => {
        const attacker = await generateKeyPair('RS256', { extractable: true });
        const jwk = await exportJWK(attacker.publicKey);
        const before = gh.requests('/gh/attacker-jwks');
        const embedded = await gh.sign(ghClaims(), { key: attacker.privateKey, kid: 'rsa-1', header: { jwk } });
        expect((await refusal(federation, embedded)).message).toMatch(/signature does not verify/);
        const jku = await gh.sign(ghClaims(), { key: attacker.privateKey, kid: 'evil', header: { jku: `${gh.url}/attacker-jwks` } });
        expect((await refusal(federation, jku)).message).toMatch(/no key of this issuer matches/);
        expect(gh.requests('/gh/attacker-jwks')).toBe(before);
      });

      it.runIf(enabled)('refuses tokens of another explicit type (an access token, a DPoP proof)', async () => {
        for (const typ of ['at+jwt', 'application/at+jwt', 'dpop+jwt']) {
          expect((await refusal(federation, await gh.sign(ghClaims(), { header: { typ } }))).message, typ).toMatch(/not a workload identity assertion/);
        }
      });

      it.runIf(enabled)('a claim that does not match, or matches two principals, is refused (no mapping / ambiguous)', async () => {
        expect((await refusal(federation, await gh.sign(ghClaims({ ref: 'refs/heads/feature' })))).message).toMatch(/no mapping matches/);
        expect((await refusal(federation, await gh.sign(ghClaims({ environment: 'staging' })))).message).toMatch(/no mapping matches/);
        expect((await refusal(federation, await gh.sign(ghClaims({ repository: 'org/app-fork' })))).message).toMatch(/no mapping matches/);
        expect((await refusal(federation, await gh.sign(ghClaims({ ref: ['refs/heads/main'] as unknown as string })))).message).toMatch(/no mapping matches/);
        const amb = await h.call('POST', '/v1/federation/issuers', {
          name: 'ambiguous-ci', issuer: `${gh.url}/amb`, jwks_url: gh.jwksUrl, audience: AUD,
          mappings: [
            { principal: 'ci-deployer', claims: { repository: 'org/app', ref: 'refs/heads/main' } },
            { principal: 'ci-tester', claims: { repository: 'org/app' } },
          ],
        });
        expect(amb.status, amb.text).toBe(201);
        expect((await refusal(federation, await gh.sign(ghClaims({ iss: `${gh.url}/amb` })))).message).toMatch(/2 different principals \(ambiguous\)/);
        expect((await federation.verifyAssertion(await gh.sign(ghClaims({ iss: `${gh.url}/amb`, ref: 'refs/heads/dev' })))).issuerName).toBe('ambiguous-ci');
        expect((await h.call('DELETE', '/v1/federation/issuers/ambiguous-ci')).status).toBe(204);
        expect((await refusal(federation, await gh.sign(ghClaims({ iss: `${gh.url}/amb` })))).message).toMatch(/not a trusted issuer/);
      });
    });

    it.runIf(enabled)('the JWKS is fetched once and cached, fetched again after its lifetime, and refused (fail closed) when it cannot be', async () => {
      const local = await startIssuer(h.clock, '/cache');
      const cache = createRemoteJwksCache({ clock: h.clock, maxAgeMs: 60_000, failureHoldMs: 0 });
      const svc = createFederationService({ db: h.cp.db, audit: h.cp.audit, clock: h.clock, directory: directoryOf(h), jwks: cache });
      const created = await h.call('POST', '/v1/federation/issuers', {
        name: 'cache-ci', issuer: local.url, jwks_url: local.jwksUrl, audience: AUD, mappings: [{ principal: 'ci-deployer', claims: { repository: 'org/app' } }],
      });
      expect(created.status, created.text).toBe(201);
      const claims = { ...ghClaims(), iss: local.url };
      for (let i = 0; i < 3; i++) expect((await svc.verifyAssertion(await local.sign(claims, { alg: i % 2 ? 'ES256' : 'RS256' }))).principalId).toBe(deployerId);
      expect([local.requests(), cache.fetchCount(local.jwksUrl)]).toEqual([1, 1]);
      h.clock.advance(59_000);
      await svc.verifyAssertion(await local.sign(claims));
      expect(local.requests()).toBe(1);
      h.clock.advance(1_000);
      await svc.verifyAssertion(await local.sign(claims));
      expect(local.requests()).toBe(2);

      // Within the lifetime a stopped server changes nothing; after it, the assertion is refused.
      await local.stop();
      await svc.verifyAssertion(await local.sign(claims));
      h.clock.advance(60_000);
      const e = await refusal(svc, await local.sign(claims));
      expect(e.message).toMatch(/trusted issuer 'cache-ci': its keys are unavailable/);
      expect(cache.fetchCount(local.jwksUrl)).toBe(3);
      expect((await h.call('DELETE', '/v1/federation/issuers/cache-ci')).status).toBe(204);
    });

    it.runIf(enabled)('an oversized JWKS response is refused', async () => {
      const local = await startIssuer(h.clock, '/big');
      local.setMode('oversized');
      const svc = createFederationService({ db: h.cp.db, audit: h.cp.audit, clock: h.clock, directory: directoryOf(h), jwks: createRemoteJwksCache({ clock: h.clock }) });
      expect((await h.call('POST', '/v1/federation/issuers', {
        name: 'big-ci', issuer: local.url, jwks_url: local.jwksUrl, audience: AUD, mappings: [{ principal: 'ci-deployer', claims: { repository: 'org/app' } }],
      })).status).toBe(201);
      const e = await refusal(svc, await local.sign({ ...ghClaims(), iss: local.url }));
      expect(e.message).toMatch(/keys are unavailable \(the JWKS response is larger than 65536 bytes\)/);
      expect(local.requests()).toBe(1);
      await local.stop();
      expect((await h.call('DELETE', '/v1/federation/issuers/big-ci')).status).toBe(204);
    });
  });
}

describe('custos federation (CLI) against a running server', () => {
  let h: Harness;
  let url: string;
  beforeAll(async () => {
    h = await startHarness('sqlite');
    withRoutes(h, createFederationService({ db: h.cp.db, audit: h.cp.audit, clock: h.clock, directory: directoryOf(h) }));
    url = await h.cp.listen();
    await h.call('POST', '/v1/principals', { name: 'olive', kind: 'human' });
    for (const name of ['ci-deployer', 'ci-tester']) await h.call('POST', '/v1/principals', { name, kind: 'service_account', owner: 'olive', status: 'active' });
  });
  afterAll(async () => { await h?.close(); });

  it('adds, lists, shows and removes trusted issuers; a refused setting exits 1 with its code', async () => {
    const AUD = 'https://custos.test';
    let out = '';
    let err = '';
    const io = {
      stdout: { write: (s: string) => { out += s; return true; } } as unknown as NodeJS.WritableStream,
      stderr: { write: (s: string) => { err += s; return true; } } as unknown as NodeJS.WritableStream,
      stdoutIsTTY: false,
      env: { CUSTOS_SERVER: url, CUSTOS_TOKEN: h.adminToken, CUSTOS_DATA_DIR: '/nonexistent' },
    };
    const run = async (args: string[]) => { out = ''; err = ''; return runCommands(args, io); };
    expect(await run(['federation', 'add', 'cli-ci', '--issuer', 'https://cli.example.com', '--jwks-url', 'https://cli.example.com/jwks', '--audience', AUD,
      '--alg', 'RS256,ES256', '--map', 'principal=ci-deployer,repository=org/app,ref=refs/heads/main|refs/heads/release', '--map', 'principal=ci-tester,repository=org/app,ref=refs/heads/dev']), err).toBe(0);
    expect(out).toBe("trusting 'cli-ci' (https://cli.example.com) with 2 mappings\n");
    expect(await run(['federation', 'list'])).toBe(0);
    expect(out).toMatch(/cli-ci\s+│\s+https:\/\/cli\.example\.com\s+│\s+https:\/\/cli\.example\.com\/jwks/);
    expect(out).toContain('ci-deployer ← repository=org/app,ref=refs/heads/main|refs/heads/release');
    expect(await run(['federation', 'show', 'cli-ci'])).toBe(0);
    expect(out).toMatch(/^keys +https:\/\/cli\.example\.com\/jwks$/m);
    expect(out).toContain('mapping  ci-tester ← repository=org/app,ref=refs/heads/dev\n');
    expect(await run(['--json', 'federation', 'show', 'cli-ci'])).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ algorithms: ['RS256', 'ES256'], mappings: [{ principal: { name: 'ci-deployer' }, claims: { ref: ['refs/heads/main', 'refs/heads/release'] } }, { principal: { name: 'ci-tester' } }] });
    expect(await run(['federation', 'add', 'cli-bad', '--issuer', 'http://cli.example.org', '--jwks-url', 'https://cli.example.org/jwks', '--audience', AUD, '--map', 'principal=ci-deployer,repository=org/app'])).toBe(1);
    expect(err).toMatch(/^custos: issuer must use https.*\(invalid_federation\)\n$/);
    expect(await run(['federation', 'remove', 'cli-ci', '--reason', 'done'])).toBe(0);
    expect(out).toBe("no longer trusting 'cli-ci'\n");
    expect(await run(['federation', 'remove', 'cli-ci'])).toBe(1);
  });
});
