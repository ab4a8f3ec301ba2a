import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { OAuthMetadataSchema } from '@modelcontextprotocol/sdk/shared/auth.js';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { addClientKey, clientSecretFor, createAgent, type TestAgent } from '../support/oauth.js';

// Interoperability with clients nobody here wrote, against a real listening control plane over real HTTP:
// oauth4webapi (discovery, client_credentials with private_key_jwt and DPoP, token exchange, revocation,
// introspection, and its resource-server validateJwtAccessToken), openid-client (discovery by RFC 8414, client
// secrets and private_key_jwt), jose's createRemoteJWKSet in another process, and the MCP SDK's metadata schema.
// Each client is called only through its public API; when a client and the server disagree, the test says
// what the standard expects and stays strict. SQLite only: the store is not what is under test here.

const AT = 'urn:ietf:params:oauth:token-type:access_token';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const REMOTE_JWKS = path.resolve(import.meta.dirname, '../fixtures/verify-remote-jwks.mjs');
const run = promisify(execFile);

// Loopback HTTP only: these clients refuse http:// unless told otherwise.
const insecure = { [oauth.allowInsecureRequests]: true } as const;

let h: Harness;
let issuer: string;
let as: oauth.AuthorizationServer;
let agent: TestAgent;

beforeAll(async () => {
  h = await startHarness('sqlite');
  // Listen before anything is signed: the issuer becomes the bound address.
  await h.cp.listen();
  issuer = h.cp.issuer();
  agent = await createAgent(h, 'interop-bot');
  as = await oauth.processDiscoveryResponse(new URL(issuer), await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2', ...insecure }));
});
afterAll(async () => h?.close());
// The clients sign with the real time; keep the server's manual clock on it.
beforeEach(() => h.clock.set(new Date()));

/** A refusal by the server shows its error and description, so a failing grant says why. */
function explained<T>(p: Promise<T>): Promise<T> {
  return p.catch((error: unknown) => {
    if (error instanceof oauth.ResponseBodyError) throw new Error(`server refused: ${error.error}: ${error.error_description ?? ''}`);
    throw error;
  });
}

/** Captures what a client sends (the `alg` of its assertion and DPoP proof), then sends it. */
function recording(sent: { assertionAlg?: string; dpopAlg?: string }) {
  return async (url: string, init: oauth.CustomFetchOptions<'POST', URLSearchParams>) => {
    const assertion = init.body?.get('client_assertion');
    if (assertion) sent.assertionAlg = decodeProtectedHeader(assertion).alg;
    const proof = new Headers(init.headers).get('dpop');
    if (proof) sent.dpopAlg = decodeProtectedHeader(proof).alg;
    return fetch(url, init as RequestInit);
  };
}

async function verifyInAnotherProcess(token: string, audience: string): Promise<{ ok: boolean; payload?: Record<string, any>; header?: Record<string, any>; code?: string; claim?: string }> {
  const env = { ...process.env, CUSTOS_ISSUER: issuer, CUSTOS_AUDIENCE: audience, CUSTOS_TOKEN: token };
  const out = await run(process.execPath, [REMOTE_JWKS], { env, timeout: 20_000 }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  return JSON.parse(out.stdout.trim());
}

describe('oauth4webapi', () => {
  it('discovers the RFC 8414 metadata and finds every endpoint in it', () => {
    expect(as).toMatchObject({
      issuer, token_endpoint: `${issuer}/oauth/token`, jwks_uri: `${issuer}/.well-known/jwks.json`,
      revocation_endpoint: `${issuer}/oauth/revoke`, introspection_endpoint: `${issuer}/oauth/introspect`,
    });
  });

  it('refuses discovery over http:// without the loopback opt-in (the client\'s rule, not ours)', async () => {
    await expect(oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2' })).rejects.toMatchObject({ code: oauth.HTTP_REQUEST_FORBIDDEN });
  });

  it('client_credentials with PrivateKeyJwt and the agent\'s registered Ed25519 key (assertion alg Ed25519, RFC 9864)', async () => {
    const c: oauth.Client = { client_id: agent.id };
    const sent: { assertionAlg?: string } = {};
    const res = await oauth.clientCredentialsGrantRequest(as, c, oauth.PrivateKeyJwt(agent.privateKey), { scope: 'models:invoke' }, { ...insecure, [oauth.customFetch]: recording(sent) });
    // oauth4webapi names an Ed25519 key's algorithm by its fully-specified identifier, not "EdDSA".
    expect(sent.assertionAlg).toBe('Ed25519');
    const tokens = await explained(oauth.processClientCredentialsResponse(as, c, res));
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'models:invoke', expires_in: 900 });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ iss: issuer, sub: agent.id, client_id: agent.id, aud: issuer, amr: ['private_key_jwt'] });
  });

  it('client_credentials with PrivateKeyJwt and an ES256 key sent with its kid', async () => {
    const es = await addClientKey(h, agent, 'ES256', 'interop-es256');
    const c: oauth.Client = { client_id: agent.id };
    const res = await oauth.clientCredentialsGrantRequest(as, c, oauth.PrivateKeyJwt({ key: es.privateKey, kid: es.kid }), {}, insecure);
    const tokens = await oauth.processClientCredentialsResponse(as, c, res);
    expect(tokens.token_type).toBe('bearer');
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: agent.id, scope: 'models:invoke tools:call', purpose: 'support' });
  });

  it('answers a client it cannot authenticate with invalid_client, which the client surfaces as a ResponseBodyError', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const c: oauth.Client = { client_id: agent.id };
    const res = await oauth.clientCredentialsGrantRequest(as, c, oauth.PrivateKeyJwt(privateKey), {}, insecure);
    const refused = await oauth.processClientCredentialsResponse(as, c, res).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(oauth.ResponseBodyError);
    expect(refused).toMatchObject({ error: 'invalid_client', status: 401 });
  });

  it('binds a token with a DPoP handle (ES256): token_type dpop, cnf.jkt = the handle\'s key thumbprint', async () => {
    const es = await addClientKey(h, agent, 'ES256', 'interop-es256-dpop');
    const keyPair = await oauth.generateKeyPair('ES256');
    const c: oauth.Client = { client_id: agent.id };
    const DPoP = oauth.DPoP(c, keyPair);
    const res = await oauth.clientCredentialsGrantRequest(as, c, oauth.PrivateKeyJwt({ key: es.privateKey, kid: es.kid }), {}, { DPoP, ...insecure });
    const tokens = await oauth.processClientCredentialsResponse(as, c, res);
    expect(tokens.token_type).toBe('dpop');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: await DPoP.calculateThumbprint() });
    expect(await DPoP.calculateThumbprint()).toBe(await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)));
  });

  it('binds a token with a DPoP handle over an Ed25519 key (proofs signed alg Ed25519, RFC 9864)', async () => {
    const keyPair = await oauth.generateKeyPair('Ed25519');
    const c: oauth.Client = { client_id: agent.id };
    const DPoP = oauth.DPoP(c, keyPair);
    const es = await addClientKey(h, agent, 'ES256', 'interop-es256-dpop-ed');
    const sent: { dpopAlg?: string } = {};
    const res = await oauth.clientCredentialsGrantRequest(as, c, oauth.PrivateKeyJwt({ key: es.privateKey, kid: es.kid }), {}, { DPoP, ...insecure, [oauth.customFetch]: recording(sent) });
    expect(sent.dpopAlg).toBe('Ed25519');
    const tokens = await explained(oauth.processClientCredentialsResponse(as, c, res));
    expect(tokens.token_type).toBe('dpop');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: await DPoP.calculateThumbprint() });
  });

  describe('token exchange, revocation and introspection', () => {
    let planner: TestAgent;
    let worker: TestAgent;
    let plannerKey: { privateKey: CryptoKey; kid: string };
    let workerKey: { privateKey: CryptoKey; kid: string };

    beforeAll(async () => {
      planner = await createAgent(h, 'interop-planner');
      worker = await createAgent(h, 'interop-worker', { scopes: ['models:invoke'] });
      const allowed = await h.call('PATCH', `/v1/principals/${planner.name}`, { may_delegate_to: [worker.name] });
      expect(allowed.status, allowed.text).toBe(200);
      // ES256 keys with kids, so these cases do not depend on the Ed25519 alg identifier (tested above).
      plannerKey = await addClientKey(h, planner, 'ES256', 'planner-es256');
      workerKey = await addClientKey(h, worker, 'ES256', 'worker-es256');
    });

    const authOf = (key: { privateKey: CryptoKey; kid: string }) => oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.kid });

    async function tokenOf(who: TestAgent, key: { privateKey: CryptoKey; kid: string }) {
      const c: oauth.Client = { client_id: who.id };
      return oauth.processClientCredentialsResponse(as, c, await oauth.clientCredentialsGrantRequest(as, c, authOf(key), {}, insecure));
    }

    async function exchange(subjectToken: string, actorToken: string) {
      const c: oauth.Client = { client_id: worker.id };
      const res = await oauth.genericTokenEndpointRequest(as, c, authOf(workerKey), EXCHANGE, {
        subject_token: subjectToken, subject_token_type: AT, actor_token: actorToken, actor_token_type: AT,
      }, insecure);
      return oauth.processGenericTokenEndpointResponse(as, c, res);
    }

    async function introspect(who: TestAgent, key: { privateKey: CryptoKey; kid: string }, token: string) {
      const c: oauth.Client = { client_id: who.id };
      return oauth.processIntrospectionResponse(as, c, await oauth.introspectionRequest(as, c, authOf(key), token, insecure));
    }

    it('exchanges the planner\'s token for the worker: sub stays the planner, act names the worker, scope narrows', async () => {
      const subject = await tokenOf(planner, plannerKey);
      const own = await tokenOf(worker, workerKey);
      const delegated = await exchange(subject.access_token, own.access_token);
      expect(delegated).toMatchObject({ token_type: 'bearer', issued_token_type: AT, scope: 'models:invoke' });
      const claims = decodeJwt(delegated.access_token);
      expect(claims).toMatchObject({ iss: issuer, sub: planner.id, client_id: worker.id, act: { sub: worker.id }, scope: 'models:invoke', purpose: 'support' });
      expect(claims.exp!).toBeLessThanOrEqual(decodeJwt(subject.access_token).exp!);
    });

    it('refuses an exchange the delegator does not allow with unauthorized_client', async () => {
      const stranger = await createAgent(h, 'interop-stranger');
      const strangerKey = await addClientKey(h, stranger, 'ES256', 'stranger-es256');
      const subject = await tokenOf(stranger, strangerKey);
      const own = await tokenOf(worker, workerKey);
      const refused = await exchange(subject.access_token, own.access_token).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(oauth.ResponseBodyError);
      expect(refused).toMatchObject({ error: 'unauthorized_client' });
    });

    it('introspects a live token as active with its claims, revokes it, then introspects it as inactive', async () => {
      const issued = await tokenOf(planner, plannerKey);
      const before = await introspect(planner, plannerKey, issued.access_token);
      expect(before).toMatchObject({ active: true, sub: planner.id, client_id: planner.id, iss: issuer, scope: 'models:invoke tools:call', token_type: 'Bearer' });

      const c: oauth.Client = { client_id: planner.id };
      await expect(oauth.processRevocationResponse(await oauth.revocationRequest(as, c, authOf(plannerKey), issued.access_token, insecure))).resolves.toBeUndefined();

      expect(await introspect(planner, plannerKey, issued.access_token)).toEqual({ active: false });
      // Revoking again is 200 with nothing done (RFC 7009 §2.2).
      await expect(oauth.processRevocationResponse(await oauth.revocationRequest(as, c, authOf(plannerKey), issued.access_token, insecure))).resolves.toBeUndefined();
    });

    it('revoking the delegator\'s token revokes the exchanged one too', async () => {
      const subject = await tokenOf(planner, plannerKey);
      const delegated = await exchange(subject.access_token, (await tokenOf(worker, workerKey)).access_token);
      expect((await introspect(worker, workerKey, delegated.access_token)).active).toBe(true);
      const c: oauth.Client = { client_id: planner.id };
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, c, authOf(plannerKey), subject.access_token, insecure));
      expect(await introspect(worker, workerKey, delegated.access_token)).toEqual({ active: false });
    });

    it('refuses to revoke another client\'s token with unauthorized_client', async () => {
      const issued = await tokenOf(planner, plannerKey);
      const c: oauth.Client = { client_id: worker.id };
      const refused = await oauth.processRevocationResponse(await oauth.revocationRequest(as, c, authOf(workerKey), issued.access_token, insecure)).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(oauth.ResponseBodyError);
      expect(refused).toMatchObject({ error: 'unauthorized_client' });
      expect((await introspect(planner, plannerKey, issued.access_token)).active).toBe(true);
    });
  });
});

describe('oauth4webapi as a resource server: validateJwtAccessToken', () => {
  async function boundToken() {
    const es = await addClientKey(h, agent, 'ES256', `rs-es256-${Math.random().toString(36).slice(2)}`);
    const keyPair = await oauth.generateKeyPair('ES256');
    const c: oauth.Client = { client_id: agent.id };
    const DPoP = oauth.DPoP(c, keyPair);
    const res = await oauth.clientCredentialsGrantRequest(as, c, oauth.PrivateKeyJwt({ key: es.privateKey, kid: es.kid }), {}, { DPoP, ...insecure });
    const tokens = await oauth.processClientCredentialsResponse(as, c, res);
    return { token: tokens.access_token, DPoP };
  }

  /**
   * Sends a DPoP-protected GET to our own /v1/whoami with oauth4webapi's protectedResourceRequest (so our
   * resource side accepts its proofs too) and keeps a copy of the exact Request it sent.
   */
  async function sendBound(token: string, DPoP: oauth.DPoPHandle): Promise<{ request: Request; response: Response }> {
    let request: Request | undefined;
    const response = await oauth.protectedResourceRequest(token, 'GET', new URL(`${issuer}/v1/whoami`), undefined, undefined, {
      DPoP, ...insecure,
      [oauth.customFetch]: async (url, init) => {
        request = new Request(url, init as RequestInit);
        return fetch(url, init as RequestInit);
      },
    });
    return { request: request!, response };
  }

  it('accepts a DPoP-bound token with its proof (requireDPoP), and our server accepts the same request', async () => {
    const { token, DPoP } = await boundToken();
    const { request, response } = await sendBound(token, DPoP);
    expect(request.headers.get('authorization')).toBe(`DPoP ${token}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ principal_id: agent.id, credential_kind: 'access_token', dpop_jkt: await DPoP.calculateThumbprint() });
    const claims = await oauth.validateJwtAccessToken(as, request, issuer, { requireDPoP: true, ...insecure });
    expect(claims).toMatchObject({ iss: issuer, sub: agent.id, client_id: agent.id, aud: issuer, cnf: { jkt: await DPoP.calculateThumbprint() } });
  });

  it('refuses the same token sent as Bearer, with or without requireDPoP; our server refuses it too', async () => {
    const { token } = await boundToken();
    const asBearer = () => new Request(`${issuer}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
    for (const options of [{ requireDPoP: true, ...insecure }, insecure]) {
      const refused = await oauth.validateJwtAccessToken(as, asBearer(), issuer, options).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(oauth.OperationProcessingError);
      expect((refused as Error).message).toBe('operation indicated DPoP use but the request has no DPoP HTTP Header');
    }
    const ours = await fetch(asBearer());
    expect(ours.status).toBe(401);
    expect(ours.headers.get('www-authenticate')).toMatch(/^(Bearer|DPoP) /);
  });

  it('refuses a token addressed to another audience', async () => {
    const { token, DPoP } = await boundToken();
    const { request } = await sendBound(token, DPoP);
    await expect(oauth.validateJwtAccessToken(as, request, 'https://gateway.example', { requireDPoP: true, ...insecure })).rejects.toMatchObject({ code: oauth.JWT_CLAIM_COMPARISON });
  });
});

describe('openid-client', () => {
  const options = { algorithm: 'oauth2' as const, execute: [client.allowInsecureRequests] };

  it('does not find us by OpenID Connect discovery (we serve RFC 8414 only)', async () => {
    await expect(client.discovery(new URL(issuer), agent.id, undefined, client.None(), { execute: [client.allowInsecureRequests] })).rejects.toThrow();
  });

  it('client_credentials with ClientSecretPost', async () => {
    const secret = await clientSecretFor(h, agent.name);
    const config = await client.discovery(new URL(issuer), agent.id, undefined, client.ClientSecretPost(secret), options);
    expect(config.serverMetadata().token_endpoint).toBe(`${issuer}/oauth/token`);
    const tokens = await client.clientCredentialsGrant(config, { scope: 'tools:call' });
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'tools:call' });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: agent.id, client_id: agent.id, scope: 'tools:call', amr: ['client_secret'] });
  });

  it('client_credentials with ClientSecretBasic, for a resource by its indicator', async () => {
    const secret = await clientSecretFor(h, agent.name);
    const config = await client.discovery(new URL(issuer), agent.id, undefined, client.ClientSecretBasic(secret), options);
    const tokens = await client.clientCredentialsGrant(config, { resource: issuer });
    expect(tokens.token_type).toBe('bearer');
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: agent.id, aud: issuer, amr: ['client_secret'] });
  });

  it('a wrong client secret is 401 invalid_client: a Basic challenge for Basic credentials (RFC 6749 §5.2), the error in the body for a post', async () => {
    const basic = await client.discovery(new URL(issuer), agent.id, undefined, client.ClientSecretBasic('custos_cs_not-the-secret'), options);
    const challenged = await client.clientCredentialsGrant(basic).catch((e: unknown) => e) as client.WWWAuthenticateChallengeError;
    // The client reports the challenge before the body.
    expect(challenged).toBeInstanceOf(client.WWWAuthenticateChallengeError);
    expect(challenged.status).toBe(401);
    expect(challenged.cause.map((c) => c.scheme)).toEqual(['basic']);
    expect(await challenged.response.json()).toMatchObject({ error: 'invalid_client' });
    const post = await client.discovery(new URL(issuer), agent.id, undefined, client.ClientSecretPost('custos_cs_not-the-secret'), options);
    await expect(client.clientCredentialsGrant(post)).rejects.toMatchObject({ error: 'invalid_client', status: 401 });
  });

  it('client_credentials with PrivateKeyJwt (ES256 key with kid)', async () => {
    const es = await addClientKey(h, agent, 'ES256', 'openid-client-es256');
    const config = await client.discovery(new URL(issuer), agent.id, undefined, client.PrivateKeyJwt({ key: es.privateKey, kid: es.kid }), options);
    const tokens = await client.clientCredentialsGrant(config);
    expect(tokens.token_type).toBe('bearer');
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: agent.id, amr: ['private_key_jwt'] });
  });

  it('client_credentials with PrivateKeyJwt and the agent\'s registered Ed25519 key (assertion alg Ed25519, RFC 9864)', async () => {
    const config = await client.discovery(new URL(issuer), agent.id, undefined, client.PrivateKeyJwt(agent.privateKey), options);
    const tokens = await explained(client.clientCredentialsGrant(config));
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: agent.id, amr: ['private_key_jwt'] });
  });

  it('client_credentials with DPoP (its default key pair, ES256): token_type dpop', async () => {
    const es = await addClientKey(h, agent, 'ES256', 'openid-client-es256-dpop');
    const config = await client.discovery(new URL(issuer), agent.id, undefined, client.PrivateKeyJwt({ key: es.privateKey, kid: es.kid }), options);
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair());
    const tokens = await client.clientCredentialsGrant(config, {}, { DPoP });
    expect(tokens.token_type).toBe('dpop');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: await DPoP.calculateThumbprint() });
  });
});

describe('jose createRemoteJWKSet in another process', () => {
  async function issued(params: Record<string, string> = {}) {
    const c: oauth.Client = { client_id: agent.id };
    const es = await addClientKey(h, agent, 'ES256', `jwks-es256-${Math.random().toString(36).slice(2)}`);
    return (await oauth.processClientCredentialsResponse(as, c, await oauth.clientCredentialsGrantRequest(as, c, oauth.PrivateKeyJwt({ key: es.privateKey, kid: es.kid }), params, insecure))).access_token;
  }

  it('verifies an issued token from the published JWKS: issuer, audience, typ at+jwt, and our claims', async () => {
    const token = await issued();
    const out = await verifyInAnotherProcess(token, issuer);
    expect(out.ok, JSON.stringify(out)).toBe(true);
    expect(out.header).toMatchObject({ typ: 'at+jwt', alg: 'EdDSA', kid: expect.any(String) });
    expect(out.payload).toMatchObject({ iss: issuer, aud: issuer, sub: agent.id, client_id: agent.id, scope: 'models:invoke tools:call', purpose: 'support', jti: decodeJwt(token).jti });
    const jwks = await (await fetch(`${issuer}/.well-known/jwks.json`)).json() as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((k) => k.kid)).toContain(out.header!.kid);
  });

  it('refuses it for another audience, and refuses a token whose signature was altered', async () => {
    const token = await issued();
    expect(await verifyInAnotherProcess(token, 'https://gateway.example')).toMatchObject({ ok: false, code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' });
    const sig = token.slice(token.lastIndexOf('.') + 1);
    const altered = `${token.slice(0, token.lastIndexOf('.') + 1)}${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    expect(await verifyInAnotherProcess(altered, issuer)).toMatchObject({ ok: false, code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
  });
});

describe('MCP TypeScript SDK: OAuthMetadataSchema', () => {
  it('parses our metadata; until people\'s sign-in adds authorization_endpoint, that is the only field it refuses', async () => {
    const res = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    const metadata = await res.json() as Record<string, unknown>;
    const parsed = OAuthMetadataSchema.safeParse(metadata);
    const failing = parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
    if ('authorization_endpoint' in metadata) {
      // The sign-in issue has landed: the MCP SDK must accept the whole document.
      expect(failing).toEqual([]);
    } else {
      // Expected to change to a full pass when the authorization endpoint (people's sign-in) exists.
      expect(failing).toEqual(['authorization_endpoint']);
    }
    // Every other field passes, response_types_supported (REQUIRED) among them.
    const rest = OAuthMetadataSchema.omit({ authorization_endpoint: true }).safeParse(metadata);
    expect(rest.success, JSON.stringify(rest.error?.issues)).toBe(true);
    expect(OAuthMetadataSchema.shape.response_types_supported.safeParse(metadata.response_types_supported).success).toBe(true);
    expect(rest.data).toMatchObject({ issuer, token_endpoint: `${issuer}/oauth/token`, revocation_endpoint: `${issuer}/oauth/revoke`, introspection_endpoint: `${issuer}/oauth/introspect` });
  });
});
