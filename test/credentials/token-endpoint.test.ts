import { calculateJwkThumbprint, createLocalJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toReportBody } from '../../src/findings/index.js';
import { scanDirectory } from '../../src/scanner/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { clientAssertion, createAgent, dpopKey, dpopProof, form, issuerOf, nowOf, tokenFor, type TestAgent } from '../support/oauth.js';

// The token endpoint over HTTP against a real control plane: client authentication, grants, narrowing,
// DPoP binding, revocation in cascade and introspection, each answered in the RFCs' own error shape.

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const AT = 'urn:ietf:params:oauth:token-type:access_token';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

const bearer = (h: Harness, token: string, url = '/v1/whoami', headers: Record<string, string> = {}) =>
  h.cp.http.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } });

describe.each(BACKENDS)('token endpoint (%s)', (backend) => {
  let h: Harness;
  let agent: TestAgent;

  beforeAll(async () => {
    h = await startHarness(backend);
    agent = await createAgent(h, 'support-bot');
  });
  afterAll(async () => h?.close());

  it('publishes RFC 8414 metadata naming every endpoint and capability', async () => {
    const res = await h.call('GET', '/.well-known/oauth-authorization-server', undefined, null);
    expect(res.status).toBe(200);
    const issuer = issuerOf(h);
    expect(res.body).toMatchObject({
      issuer, token_endpoint: `${issuer}/oauth/token`, jwks_uri: `${issuer}/.well-known/jwks.json`,
      revocation_endpoint: `${issuer}/oauth/revoke`, introspection_endpoint: `${issuer}/oauth/introspect`,
      response_types_supported: expect.any(Array),
    });
    expect(res.body.grant_types_supported).toEqual(expect.arrayContaining(['client_credentials', EXCHANGE, 'urn:ietf:params:oauth:grant-type:jwt-bearer']));
    expect(res.body.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['private_key_jwt', 'client_secret_basic', 'client_secret_post']));
    expect(res.body.dpop_signing_alg_values_supported).toContain('EdDSA');
  });

  it('issues an RFC 9068 access token for private_key_jwt, verifiable with the published JWKS, audited', async () => {
    const res = await tokenFor(h, agent);
    expect(res.status, res.text).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'models:invoke tools:call' });
    const header = decodeProtectedHeader(res.body.access_token);
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'EdDSA' });
    const jwks = (await h.call('GET', '/.well-known/jwks.json', undefined, null)).body;
    const { payload } = await jwtVerify(res.body.access_token, createLocalJWKSet(jwks), { issuer: issuerOf(h), audience: issuerOf(h), typ: 'at+jwt', currentDate: h.clock.now() });
    expect(payload).toMatchObject({ sub: agent.id, client_id: agent.id, scope: 'models:invoke tools:call', purpose: 'support' });
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(typeof payload.jti).toBe('string');
    expect(typeof payload.auth_time).toBe('number');
    const events = await h.call('GET', `/v1/audit/events?type=credential.token.issued&target=${payload.jti}`);
    expect(events.body.items).toHaveLength(1);
    expect(JSON.stringify(events.body.items[0])).not.toContain(res.body.access_token);
  });

  it('caps the lifetime by risk tier and says so in expires_in; refuses less than a minute', async () => {
    const long = await tokenFor(h, agent, { expires_in: '7200' });
    expect(long.body.expires_in).toBe(3600);
    const short = await tokenFor(h, agent, { expires_in: '30' });
    expect(short.status).toBe(400);
    expect(short.body.error).toBe('invalid_request');
  });

  it('accepts an assertion without kid (tries each registered key) and refuses replays, wrong audience, expiry and unknown keys', async () => {
    const issuer = issuerOf(h);
    const now = nowOf(h);
    const noKid = await clientAssertion(agent, `${issuer}/oauth/token`, now, { kid: null });
    const ok = await form(h, '/oauth/token', { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: noKid });
    expect(ok.status, ok.text).toBe(200);
    const replay = await form(h, '/oauth/token', { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: noKid });
    expect([replay.status, replay.body.error]).toEqual([401, 'invalid_client']);
    for (const assertion of [
      await clientAssertion(agent, 'https://elsewhere.example', now),
      await clientAssertion(agent, issuer, now, { exp: now - 60 }),
      await clientAssertion(agent, issuer, now, { exp: now + 3600 }),
      await clientAssertion(agent, issuer, now, { kid: 'nope' }),
    ]) {
      const res = await form(h, '/oauth/token', { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion });
      expect([res.status, res.body.error], res.text).toEqual([401, 'invalid_client']);
    }
    const stranger = { ...agent, privateKey: (await generateKeyPair('EdDSA', { crv: 'Ed25519' })).privateKey };
    const forged = await form(h, '/oauth/token', { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(stranger, issuer, now) });
    expect(forged.body.error).toBe('invalid_client');
  });

  it('spends an assertion once when it is presented many times at once: one token, one record, one audit event', async () => {
    const issuer = issuerOf(h);
    const assertion = await clientAssertion(agent, `${issuer}/oauth/token`, nowOf(h));
    const rows = () => h.cp.db.kysely.selectFrom('oauth_tokens').select('jti').where('principal_id', '=', agent.id).execute();
    const before = new Set((await rows()).map((r) => r.jti));
    const answers = await Promise.all(Array.from({ length: 8 }, () =>
      form(h, '/oauth/token', { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401, 401, 401, 401, 401, 401]);
    for (const refused of answers.filter((a) => a.status === 401)) {
      expect(refused.body).toEqual({ error: 'invalid_client', error_description: 'client assertion refused: jti was used before (replay)' });
    }
    const issued = answers.find((a) => a.status === 200)!;
    const added = (await rows()).map((r) => r.jti).filter((jti) => !before.has(jti));
    expect(added).toEqual([decodeJwt(issued.body.access_token).jti]);
    const events = await h.call('GET', `/v1/audit/events?type=credential.token.issued&target=${added[0]}`);
    expect(events.body.items).toHaveLength(1);
  });

  it('spends an assertion whose request its grant refused: presented again with a good request, it is a replay', async () => {
    const issuer = issuerOf(h);
    const assertion = await clientAssertion(agent, `${issuer}/oauth/token`, nowOf(h));
    const params = { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion };
    const refused = await form(h, '/oauth/token', { ...params, scope: 'not:granted' });
    expect([refused.status, refused.body.error], refused.text).toEqual([400, 'invalid_scope']);
    const again = await form(h, '/oauth/token', params);
    expect([again.status, again.body.error_description]).toEqual([401, 'client assertion refused: jti was used before (replay)']);
    // A fresh assertion still works, so the refusal was the replay and nothing else.
    expect((await tokenFor(h, agent)).status).toBe(200);
  });

  it('authenticates client_secret_basic and client_secret_post, and challenges a refused Basic client', async () => {
    const created = await h.call('POST', '/v1/client-secrets', { principal: agent.name, description: 'legacy client' });
    expect(created.status, created.text).toBe(201);
    expect(created.body.description).toBe('legacy client');
    const listed = await h.call('GET', `/v1/client-secrets?principal=${agent.name}`);
    expect(listed.body.items.find((i: { id: string }) => i.id === created.body.id).description).toBe('legacy client');
    const secret: string = created.body.secret;
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(agent.id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
    const viaBasic = await form(h, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic });
    expect(viaBasic.status, viaBasic.text).toBe(200);
    expect(decodeJwt(viaBasic.body.access_token).amr).toEqual(['client_secret']);
    const viaPost = await form(h, '/oauth/token', { grant_type: 'client_credentials', client_id: agent.name, client_secret: secret });
    expect(viaPost.status, viaPost.text).toBe(200);
    const wrong = await form(h, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from(`${agent.id}:wrong`).toString('base64')}` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    expect(wrong.headers['www-authenticate']).toMatch(/^Basic/);
    const both = await form(h, '/oauth/token', { grant_type: 'client_credentials', client_id: agent.id, client_secret: secret }, { authorization: basic });
    expect(both.body.error).toBe('invalid_request');
    const none = await form(h, '/oauth/token', { grant_type: 'client_credentials', client_id: agent.id });
    expect([none.status, none.body.error]).toEqual([401, 'invalid_client']);
    // Revoking the secret revokes the tokens obtained with it, at once.
    expect((await bearer(h, viaPost.body.access_token)).statusCode).toBe(200);
    const revoked = await h.call('POST', `/v1/client-secrets/${created.body.id}/revoke`, { reason: 'leaked' });
    expect(revoked.status, revoked.text).toBe(200);
    expect((await bearer(h, viaPost.body.access_token)).statusCode).toBe(401);
    expect((await bearer(h, viaBasic.body.access_token)).statusCode).toBe(401);
    expect((await form(h, '/oauth/token', { grant_type: 'client_credentials', client_id: agent.name, client_secret: secret })).body.error).toBe('invalid_client');
  });

  it('a client secret leaked into a scanned file and reported is revoked at once, with the tokens obtained with it', async () => {
    const created = await h.call('POST', '/v1/client-secrets', { principal: agent.name });
    const secret: string = created.body.secret;
    const issued = await form(h, '/oauth/token', { grant_type: 'client_credentials', client_id: agent.id, client_secret: secret });
    expect(issued.status, issued.text).toBe(200);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-cs-leak-'));
    fs.writeFileSync(path.join(dir, '.env'), `CLIENT_SECRET=${secret}\n`);
    const scanned = await scanDirectory(dir, { gitignore: false });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(scanned.findings.map((f) => f.ruleId)).toContain('custos-client-secret');
    const body = toReportBody(scanned, {}, 'test');
    expect(JSON.stringify(body)).not.toContain(secret);
    const report = await h.call('POST', '/v1/findings/report', body);
    expect(report.status, report.text).toBe(200);
    expect(report.body.revoked.map((r: { credential_id: string }) => r.credential_id)).toEqual([created.body.id]);
    expect((await form(h, '/oauth/token', { grant_type: 'client_credentials', client_id: agent.id, client_secret: secret })).body.error).toBe('invalid_client');
    expect((await bearer(h, issued.body.access_token)).statusCode).toBe(401);
  });

  it('binds purpose, scope and audience as registered and refuses what is not', async () => {
    expect((await tokenFor(h, agent, { purpose: 'training' })).body.error).toBe('invalid_request');
    expect((await tokenFor(h, agent, { scope: 'models:invoke admin' })).body.error).toBe('invalid_scope');
    expect((await tokenFor(h, agent, { resource: 'https://not-registered.example' })).body.error).toBe('invalid_target');
    const r = await h.call('POST', '/v1/resources', { name: 'gpt-gw', kind: 'endpoint', owner: 'agent-owner', classification: 'internal', risk_tier: 'medium', uri: 'https://gw.example.com' });
    expect(r.status, r.text).toBe(201);
    await h.call('POST', '/v1/resources', { name: 'train-set', kind: 'dataset', owner: 'agent-owner', classification: 'internal', risk_tier: 'medium', purposes: ['training'] });
    const narrowed = await tokenFor(h, agent, { scope: 'models:invoke', resource: ['https://gw.example.com', 'gpt-gw'] });
    expect(narrowed.status, narrowed.text).toBe(200);
    expect(decodeJwt(narrowed.body.access_token)).toMatchObject({ aud: 'https://gw.example.com', scope: 'models:invoke' });
    expect((await tokenFor(h, agent, { resource: 'train-set' })).body.error).toBe('invalid_target');
  });

  it('gives nothing to a suspended principal: its keys and tokens are revoked with it', async () => {
    const sleeper = await createAgent(h, 'sleeper-bot');
    const before = await tokenFor(h, sleeper);
    expect(before.status).toBe(200);
    expect((await bearer(h, before.body.access_token)).statusCode).toBe(200);
    expect((await h.call('POST', '/v1/principals/sleeper-bot/suspend', { reason: 'test' })).status).toBe(200);
    const refused = await tokenFor(h, sleeper);
    expect([refused.status, refused.body.error]).toEqual([401, 'invalid_client']);
    expect((await bearer(h, before.body.access_token)).statusCode).toBe(401);
    const proposed = await h.call('POST', '/v1/principals', { name: 'proposed-bot', kind: 'agent', owner: 'agent-owner' });
    expect(proposed.body.status).toBe('proposed');
    const key = await h.call('POST', '/v1/client-keys', { principal: 'proposed-bot', jwk: sleeper.publicJwk });
    expect(key.status).toBe(422);
  });

  it('answers malformed requests in the RFC 6749 shape', async () => {
    const unsupported = await form(h, '/oauth/token', { grant_type: 'password' });
    expect([unsupported.status, unsupported.body.error]).toEqual([400, 'unsupported_grant_type']);
    const twice = await h.cp.http.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials&grant_type=client_credentials' });
    expect(JSON.parse(twice.body).error).toBe('invalid_request');
    const json = await h.cp.http.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/json' }, payload: '{"grant_type":"client_credentials"}' });
    expect(json.statusCode).toBe(400);
    expect(JSON.parse(json.body).error).toBe('invalid_request');
    const missing = await form(h, '/oauth/token', {});
    expect(missing.body.error).toBe('invalid_request');
  });

  it('accepts its access tokens on the management API for self-service only', async () => {
    const token = (await tokenFor(h, agent)).body.access_token;
    const me = await bearer(h, token);
    expect(me.statusCode, me.body).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ principal_id: agent.id, role: null, credential_kind: 'access_token', purpose: 'support' });
    expect((await bearer(h, token, '/v1/principals')).statusCode).toBe(403);
    // Listing its own credentials takes the custos:self (or custos:credentials.read) scope; nothing opens management.
    const noScope = await bearer(h, token, '/v1/credentials');
    expect([noScope.statusCode, JSON.parse(noScope.body).code]).toEqual([403, 'insufficient_scope']);
    expect(noScope.headers['www-authenticate']).toBe('Bearer error="insufficient_scope"');
    expect(JSON.parse(noScope.body).detail).toContain('custos:self');
    const selfish = await createAgent(h, 'selfish-bot', { scopes: ['models:invoke', 'custos:self', 'constructor'] });
    const selfToken = (await tokenFor(h, selfish, { scope: 'custos:self' })).body.access_token;
    const mine = await bearer(h, selfToken, '/v1/credentials');
    expect(mine.statusCode, mine.body).toBe(200);
    expect(JSON.parse(mine.body).items.every((i: { principal: { id: string } }) => i.principal.id === selfish.id)).toBe(true);
    expect((await bearer(h, selfToken, '/v1/principals')).statusCode).toBe(403);
    const odd = (await tokenFor(h, selfish, { scope: 'constructor' })).body.access_token;
    expect((await bearer(h, odd, '/v1/credentials')).statusCode).toBe(403);
    const gatewayOnly = (await tokenFor(h, agent, { resource: 'https://gw.example.com' })).body.access_token;
    const refused = await bearer(h, gatewayOnly);
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toContain('invalid_token');
  });

  it('binds a token to a DPoP key: the proof is required on every use and a bound token is no Bearer token', async () => {
    const key = await dpopKey();
    const issuer = issuerOf(h);
    const res = await tokenFor(h, agent, {}, { dpop: await dpopProof(key, 'POST', `${issuer}/oauth/token`, nowOf(h)) });
    expect(res.status, res.text).toBe(200);
    expect(res.body.token_type).toBe('DPoP');
    const token = res.body.access_token;
    expect(decodeJwt(token).cnf).toEqual({ jkt: await calculateJwkThumbprint(key.publicJwk) });
    const ath = crypto.createHash('sha256').update(token).digest('base64url');
    const ok = await h.cp.http.inject({ method: 'GET', url: '/v1/whoami', headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', `${issuer}/v1/whoami`, nowOf(h), { ath }) } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(JSON.parse(ok.body).dpop_jkt).toBe(await calculateJwkThumbprint(key.publicJwk));
    const asBearer = await bearer(h, token);
    expect(asBearer.statusCode).toBe(401);
    expect(asBearer.headers['www-authenticate']).toContain('invalid_dpop_proof');
    const noProof = await h.cp.http.inject({ method: 'GET', url: '/v1/whoami', headers: { authorization: `DPoP ${token}` } });
    expect(noProof.statusCode).toBe(401);
    const badProof = await form(h, '/oauth/token', { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(agent, issuer, nowOf(h)) }, { dpop: 'not-a-proof' });
    expect(badProof.body.error).toBe('invalid_dpop_proof');
  });

  describe('token exchange (delegation)', () => {
    let planner: TestAgent;
    let worker: TestAgent;
    let helper: TestAgent;

    beforeAll(async () => {
      worker = await createAgent(h, 'worker-bot', { scopes: ['models:invoke'] });
      helper = await createAgent(h, 'helper-bot', { scopes: ['models:invoke', 'tools:call'] });
      planner = await createAgent(h, 'planner-bot', { may_delegate_to: ['worker-bot'] });
      const w = await h.call('PATCH', '/v1/principals/worker-bot', { may_delegate_to: ['kind:agent'] });
      expect(w.status, w.text).toBe(200);
    });

    async function exchange(actor: TestAgent, subjectToken: string, params: Record<string, string> = {}) {
      const now = nowOf(h);
      return form(h, '/oauth/token', {
        grant_type: EXCHANGE, client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(actor, issuerOf(h), now),
        subject_token: subjectToken, subject_token_type: AT, actor_token: await clientAssertion(actor, issuerOf(h), now), actor_token_type: JWT, ...params,
      });
    }

    it('narrows: sub stays the delegator, act names the actor, scope is the intersection, exp within the subject\'s', async () => {
      const subject = (await tokenFor(h, planner)).body.access_token;
      const res = await exchange(worker, subject);
      expect(res.status, res.text).toBe(200);
      expect(res.body.issued_token_type).toBe(AT);
      const claims = decodeJwt(res.body.access_token);
      const parent = decodeJwt(subject);
      expect(claims).toMatchObject({ sub: planner.id, client_id: worker.id, act: { sub: worker.id }, scope: 'models:invoke', purpose: 'support', aud: parent.aud });
      expect(claims.exp!).toBeLessThanOrEqual(parent.exp!);
      const grand = await exchange(helper, res.body.access_token);
      expect(grand.status, grand.text).toBe(200);
      expect(decodeJwt(grand.body.access_token).act).toEqual({ sub: helper.id, act: { sub: worker.id } });
      expect(decodeJwt(grand.body.access_token).scope).toBe('models:invoke');
    });

    it('refuses what would widen, change purpose, skip the actor token, or a delegation the delegator does not allow', async () => {
      const subject = (await tokenFor(h, planner)).body.access_token;
      expect((await exchange(worker, subject, { scope: 'tools:call' })).body.error).toBe('invalid_scope');
      expect((await exchange(worker, subject, { resource: 'https://gw.example.com' })).body.error).toBe('invalid_target');
      expect((await exchange(worker, subject, { purpose: 'training' })).body.error).toBe('invalid_request');
      expect((await exchange(helper, subject)).body.error).toBe('unauthorized_client');
      const noActor = await form(h, '/oauth/token', {
        grant_type: EXCHANGE, client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(worker, issuerOf(h), nowOf(h)), subject_token: subject, subject_token_type: AT,
      });
      expect(noActor.body.error).toBe('invalid_request');
      const noClient = await form(h, '/oauth/token', { grant_type: EXCHANGE, subject_token: subject, subject_token_type: AT });
      expect(noClient.body.error).toBe('invalid_client');
      const otherActor = await exchange(worker, subject, { actor_token: await clientAssertion(helper, issuerOf(h), nowOf(h)) });
      expect(otherActor.body.error).toBe('invalid_grant');
      const tampered = subject.slice(0, subject.lastIndexOf('.') + 1) + 'AAAA';
      expect((await exchange(worker, tampered)).body.error).toBe('invalid_grant');
    });

    it('keeps proof of possession through delegation: a bound subject token needs a proof by its key, and the result stays bound to it', async () => {
      const key = await dpopKey();
      const tokenUrl = `${issuerOf(h)}/oauth/token`;
      const bound = (await tokenFor(h, planner, {}, { dpop: await dpopProof(key, 'POST', tokenUrl, nowOf(h)) })).body.access_token;
      const jkt = (decodeJwt(bound).cnf as { jkt: string }).jkt;
      const naked = await exchange(worker, bound);
      expect([naked.status, naked.body.error]).toEqual([400, 'invalid_dpop_proof']);
      const now = nowOf(h);
      const viaOtherKey = await form(h, '/oauth/token', {
        grant_type: EXCHANGE, client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(worker, issuerOf(h), now),
        subject_token: bound, subject_token_type: AT, actor_token: await clientAssertion(worker, issuerOf(h), now), actor_token_type: JWT,
      }, { dpop: await dpopProof(await dpopKey(), 'POST', tokenUrl, now) });
      expect(viaOtherKey.body.error).toBe('invalid_dpop_proof');
      const proven = await form(h, '/oauth/token', {
        grant_type: EXCHANGE, client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(worker, issuerOf(h), now),
        subject_token: bound, subject_token_type: AT, actor_token: await clientAssertion(worker, issuerOf(h), now), actor_token_type: JWT,
      }, { dpop: await dpopProof(key, 'POST', tokenUrl, now) });
      expect(proven.status, proven.text).toBe(200);
      expect(proven.body.token_type).toBe('DPoP');
      expect(decodeJwt(proven.body.access_token).cnf).toEqual({ jkt });
    });

    it('holds the actor to its own limits: its purposes and data ceiling apply to what it inherits', async () => {
      await h.call('POST', '/v1/resources', { name: 'secret-ds', kind: 'dataset', owner: 'agent-owner', classification: 'restricted', risk_tier: 'high' });
      const boss = await createAgent(h, 'boss-bot', { may_delegate_to: ['kind:agent'] });
      const low = await createAgent(h, 'low-bot', { data_ceiling: 'internal' });
      const elsewhere = await createAgent(h, 'elsewhere-bot', { purposes: ['billing'] });
      const restricted = (await tokenFor(h, boss, { resource: 'secret-ds' })).body.access_token;
      expect(decodeJwt(restricted).aud).toBe('urn:custos:resource:secret-ds');
      const ceiling = await exchange(low, restricted);
      expect([ceiling.body.error, ceiling.body.error_description]).toEqual(['invalid_target', expect.stringMatching(/data ceiling/)]);
      const plain = (await tokenFor(h, boss)).body.access_token;
      expect((await exchange(low, plain)).status).toBe(200);
      const purpose = await exchange(elsewhere, plain);
      expect([purpose.body.error, purpose.body.error_description]).toEqual(['invalid_request', expect.stringMatching(/purpose 'support'/)]);
    });

    it('refuses cycles and chains deeper than the limit', async () => {
      const subject = (await tokenFor(h, planner)).body.access_token;
      const one = (await exchange(worker, subject)).body.access_token;
      // worker acting again on its own delegated token is a cycle
      expect((await exchange(worker, one)).body.error).toBe('invalid_request');
      const two = (await exchange(helper, one)).body.access_token;
      const deep = await createAgent(h, 'deep-bot', { scopes: ['models:invoke'] });
      await h.call('PATCH', '/v1/principals/helper-bot', { may_delegate_to: ['kind:agent'] });
      const three = await exchange(deep, two);
      expect(three.status, three.text).toBe(200);
      const deeper = await createAgent(h, 'deeper-bot', { scopes: ['models:invoke'] });
      await h.call('PATCH', '/v1/principals/deep-bot', { may_delegate_to: ['kind:agent'] });
      const four = await exchange(deeper, three.body.access_token);
      expect(four.body.error).toBe('invalid_request');
      expect(four.body.error_description).toMatch(/depth/);
    });

    it('revoking a parent revokes every descendant at once', async () => {
      const root = (await tokenFor(h, planner)).body.access_token;
      const child = (await exchange(worker, root)).body.access_token;
      const grandchild = (await exchange(helper, child)).body.access_token;
      expect((await bearer(h, grandchild)).statusCode).toBe(200);
      const now = nowOf(h);
      const revoke = await form(h, '/oauth/revoke', { token: root, client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(planner, issuerOf(h), now) });
      expect(revoke.status, revoke.text).toBe(200);
      expect((await bearer(h, grandchild)).statusCode).toBe(401);
      expect((await bearer(h, child)).statusCode).toBe(401);
      const introspected = await form(h, '/oauth/introspect', { token: grandchild }, { authorization: `Bearer ${h.adminToken}` });
      expect(introspected.body).toEqual({ active: false });
      expect((await exchange(helper, child)).body.error).toBe('invalid_grant');
    });
  });

  it('a fleet-wide inventory (no principal named) lists every kind, not only tokens', async () => {
    const key = await h.call('POST', '/v1/api-keys', { principal: agent.name });
    expect(key.status, key.text).toBe(201);
    for (const kind of ['client_key', 'api_key', 'access_token']) {
      const res = await h.call('GET', `/v1/credentials?kind=${kind}&limit=200`);
      expect(res.status, res.text).toBe(200);
      expect(res.body.items.length, kind).toBeGreaterThan(0);
      expect(res.body.items.every((i: { kind: string }) => i.kind === kind)).toBe(true);
    }
    const keys = await h.call('GET', '/v1/credentials?kind=api_key&limit=200');
    expect(keys.body.items.map((i: { id: string }) => i.id)).toContain(key.body.id);
    expect(keys.body.items.find((i: { id: string }) => i.id === key.body.id).principal.name).toBe('support-bot');
  });

  it('introspects for the token\'s own client and for admin operators only', async () => {
    const token = (await tokenFor(h, agent)).body.access_token;
    const own = await form(h, '/oauth/introspect', { token, client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(agent, issuerOf(h), nowOf(h)) });
    expect(own.body).toMatchObject({ active: true, sub: agent.id, client_id: agent.id, scope: 'models:invoke tools:call', token_type: 'Bearer', username: 'support-bot' });
    const other = await createAgent(h, 'nosy-bot');
    const nosy = await form(h, '/oauth/introspect', { token, client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(other, issuerOf(h), nowOf(h)) });
    expect(nosy.body).toEqual({ active: false });
    const admin = await form(h, '/oauth/introspect', { token }, { authorization: `Bearer ${h.adminToken}` });
    expect(admin.body.active).toBe(true);
    const anonymous = await form(h, '/oauth/introspect', { token });
    expect([anonymous.status, anonymous.body.error]).toEqual([401, 'invalid_client']);
    h.clock.advance(16 * 60_000);
    const expired = await form(h, '/oauth/introspect', { token }, { authorization: `Bearer ${h.adminToken}` });
    expect(expired.body).toEqual({ active: false });
  });

  it('federates a workload JWT from a trusted issuer (jwt-bearer) to its mapped principal', async () => {
    const ci = await createAgent(h, 'ci-deployer', { kind: 'workload' });
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'gh-1', alg: 'ES256', use: 'sig' };
    const added = await h.call('POST', '/v1/federation/issuers', {
      name: 'github-actions', issuer: 'https://token.actions.githubusercontent.com', jwks: { keys: [jwk] }, audience: issuerOf(h),
      algorithms: ['ES256'], mappings: [{ principal: 'ci-deployer', claims: { repository: 'acme/app', ref: 'refs/heads/main' } }],
    });
    expect(added.status, added.text).toBe(201);
    const now = nowOf(h);
    const workloadJwt = (claims: Record<string, unknown>) => new SignJWT({ repository: 'acme/app', ref: 'refs/heads/main', jti: crypto.randomUUID(), ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'gh-1' }).setIssuer('https://token.actions.githubusercontent.com').setSubject('repo:acme/app:ref:refs/heads/main')
      .setAudience(issuerOf(h)).setIssuedAt(now).setExpirationTime(now + 300).sign(privateKey);
    const assertion = await workloadJwt({});
    const res = await form(h, '/oauth/token', { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
    expect(res.status, res.text).toBe(200);
    expect(decodeJwt(res.body.access_token)).toMatchObject({ sub: ci.id, amr: ['federated'] });
    const replay = await form(h, '/oauth/token', { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
    expect(replay.body.error).toBe('invalid_grant');
    const otherBranch = await form(h, '/oauth/token', { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: await workloadJwt({ ref: 'refs/heads/feature' }) });
    expect(otherBranch.body.error).toBe('invalid_grant');
  });
});

describe('DPoP server nonces (--require-dpop-nonce true)', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness('sqlite', { settings: { requireDpopNonce: 'true' } }); });
  afterAll(async () => h?.close());

  it('asks for a nonce with use_dpop_nonce and a DPoP-Nonce header, at the token endpoint and on every use', async () => {
    const agent = await createAgent(h, 'nonce-bot');
    const key = await dpopKey();
    const issuer = issuerOf(h);
    const first = await tokenFor(h, agent, {}, { dpop: await dpopProof(key, 'POST', `${issuer}/oauth/token`, nowOf(h)) });
    expect([first.status, first.body.error]).toEqual([400, 'use_dpop_nonce']);
    const nonce = first.headers['dpop-nonce'] as string;
    expect(nonce).toMatch(/^\d+\.[A-Za-z0-9_-]+$/);
    const second = await tokenFor(h, agent, {}, { dpop: await dpopProof(key, 'POST', `${issuer}/oauth/token`, nowOf(h), { nonce }) });
    expect(second.status, second.text).toBe(200);
    const token = second.body.access_token;
    const ath = crypto.createHash('sha256').update(token).digest('base64url');
    const use = (extra: Record<string, unknown>) => dpopProof(key, 'GET', `${issuer}/v1/whoami`, nowOf(h), { ath, ...extra });
    const noNonce = await h.cp.http.inject({ method: 'GET', url: '/v1/whoami', headers: { authorization: `DPoP ${token}`, dpop: await use({}) } });
    expect(noNonce.statusCode).toBe(401);
    expect(noNonce.headers['www-authenticate']).toContain('use_dpop_nonce');
    const fresh = noNonce.headers['dpop-nonce'] as string;
    expect(fresh).toBeTruthy();
    const ok = await h.cp.http.inject({ method: 'GET', url: '/v1/whoami', headers: { authorization: `DPoP ${token}`, dpop: await use({ nonce: fresh }) } });
    expect(ok.statusCode, ok.body).toBe(200);
    h.clock.advance(120_000);
    const stale = await tokenFor(h, agent, {}, { dpop: await dpopProof(key, 'POST', `${issuer}/oauth/token`, nowOf(h), { nonce }) });
    expect(stale.body.error).toBe('use_dpop_nonce');
  });
});
