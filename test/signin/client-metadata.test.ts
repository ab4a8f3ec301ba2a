import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/platform/clock.js';
import {
  CLIENT_METADATA_DEFAULTS, cacheLifetimeSeconds, clientIdUrlProblem, createClientMetadataFetcher, parseClientMetadataDocument,
} from '../../src/signin/clients/client-metadata.js';
import type { HostLookup, ResolvedAddress } from '../../src/signin/clients/outbound-guard.js';
import { ClientMetadataError } from '../../src/signin/contracts.js';

// Client ID Metadata Documents fetched from a real HTTP server on 127.0.0.1 (allowed through allowPrivate, as
// `--cimd-allow-private 127.0.0.1` would), and the SSRF rules proven by what that server never sees.

const MARKER = 'BODY-MARKER-7f3a'; // in every served body: no error message may contain it

let server: http.Server;
let port: number;
let base: string;
const hits: { path: string; host: string | undefined; accept: string | undefined }[] = [];

function doc(clientId: string, extra: Record<string, unknown> = {}) {
  return { client_id: clientId, client_name: 'Example MCP Client', redirect_uris: ['http://127.0.0.1:3000/callback'], note: MARKER, ...extra };
}

function sendJson(res: http.ServerResponse, value: unknown, headers: Record<string, string> = {}) {
  const body = JSON.stringify(value);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers }).end(body);
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    hits.push({ path, host: req.headers.host, accept: req.headers.accept });
    const self = `http://${req.headers.host}${req.url}`; // the URL the client asked for, so client_id matches it
    switch (path) {
      case '/ok.json': return sendJson(res, doc(self, {
        client_uri: 'https://app.example.com', logo_uri: 'https://app.example.com/logo.png', scope: 'openid models:read',
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none',
      }));
      case '/plain.json': return sendJson(res, { client_id: self, redirect_uris: ['https://app.example.com/cb'] });
      case '/max-age.json': return sendJson(res, doc(self), { 'cache-control': 'public, max-age=3600' });
      case '/short-max-age.json': return sendJson(res, doc(self), { 'cache-control': 'max-age=5' });
      case '/vendor-type.json': return sendJson(res, doc(self), { 'content-type': 'application/client-metadata+json; charset=utf-8' });
      case '/mismatch.json': return sendJson(res, doc('https://someone-else.example/client.json'));
      case '/secret-basic.json': return sendJson(res, doc(self, { token_endpoint_auth_method: 'client_secret_basic' }));
      case '/big.json': return sendJson(res, doc(self, { pad: 'x'.repeat(CLIENT_METADATA_DEFAULTS.maxBytes) }));
      case '/big-chunked.json': {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(JSON.stringify(doc(self)).slice(0, -1) + ',"pad":"');
        for (let i = 0; i < 8; i++) res.write('x'.repeat(1024));
        return res.end('"}');
      }
      case '/slow.json': return undefined; // never answers
      case '/slow-body.json': {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.write('{"client_id":'); // and never finishes
      }
      case '/redirect.json': return res.writeHead(302, { location: `${base}/ok.json` }).end();
      case '/html.json': return res.writeHead(200, { 'content-type': 'text/html' }).end(`<html>${MARKER}</html>`);
      case '/not-json.json': return res.writeHead(200, { 'content-type': 'application/json' }).end(`{not json ${MARKER}`);
      case '/array.json': return sendJson(res, [doc(self)]);
      case '/gzip.json': return res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end('xx');
      case '/missing.json': return res.writeHead(404, { 'content-type': 'application/json' }).end(`{"error":"${MARKER}"}`);
      default: return res.writeHead(500).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => { hits.length = 0; });

const paths = () => hits.map((h) => h.path);

async function refusal(promise: Promise<unknown>): Promise<ClientMetadataError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ClientMetadataError);
    const e = error as ClientMetadataError;
    expect(e.message).not.toContain(MARKER);
    expect(e.message).not.toContain('\n');
    return e;
  }
  throw new Error('expected the fetch to be refused');
}

function fetcher(options: { allowPrivate?: string[]; timeoutMs?: number; lookup?: HostLookup; failureHoldSeconds?: number } = {}) {
  const clock = manualClock();
  const f = createClientMetadataFetcher({ allowPrivate: options.allowPrivate ?? ['127.0.0.1'], clock, ...options });
  return { f, clock };
}

function dns(answers: (hostname: string, call: number) => string[]): HostLookup & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname);
    return answers(hostname, calls.length).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(fn, { calls });
}

describe('fetching a Client ID Metadata Document from a real server', () => {
  it('accepts a valid document, maps it, and asks for JSON', async () => {
    const { f } = fetcher();
    const id = `${base}/ok.json`;
    expect(f.isMetadataUrl(id)).toBe(true);
    expect(await f.fetch(id)).toEqual({
      clientId: id,
      name: 'Example MCP Client',
      source: 'metadata_document',
      redirectUris: ['http://127.0.0.1:3000/callback'],
      grantTypes: ['authorization_code', 'refresh_token'],
      scope: ['openid', 'models:read'],
      clientUri: 'https://app.example.com',
      logoUri: 'https://app.example.com/logo.png',
    });
    expect(hits).toEqual([{ path: '/ok.json', host: `127.0.0.1:${port}`, accept: 'application/json' }]);
  });

  it('defaults: grant authorization_code, no scope limit, the URL host as the name', async () => {
    const { f } = fetcher();
    expect(await f.fetch(`${base}/plain.json`)).toMatchObject({
      name: `127.0.0.1:${port}`, grantTypes: ['authorization_code'], scope: null, clientUri: null, logoUri: null,
    });
  });

  it('caches a document: the second fetch does not reach the server; after the TTL it is fetched again', async () => {
    const { f, clock } = fetcher();
    const id = `${base}/plain.json`;
    await f.fetch(id);
    const again = await f.fetch(id);
    expect(again.clientId).toBe(id);
    expect(paths()).toEqual(['/plain.json']);
    clock.advance((CLIENT_METADATA_DEFAULTS.cacheTtlSeconds - 1) * 1000);
    await f.fetch(id);
    expect(paths()).toEqual(['/plain.json']);
    clock.advance(2000);
    await f.fetch(id);
    expect(paths()).toEqual(['/plain.json', '/plain.json']);
  });

  it('a cached client cannot be changed through a returned copy', async () => {
    const { f } = fetcher();
    const id = `${base}/plain.json`;
    (await f.fetch(id)).redirectUris.push('https://attacker.example/cb');
    expect((await f.fetch(id)).redirectUris).toEqual(['https://app.example.com/cb']);
  });

  it('honours Cache-Control max-age, within the bounds (a 5 s max-age is kept 60 s)', async () => {
    const { f, clock } = fetcher();
    await f.fetch(`${base}/max-age.json`);
    await f.fetch(`${base}/short-max-age.json`);
    clock.advance(59_000);
    await f.fetch(`${base}/short-max-age.json`);
    expect(paths()).toEqual(['/max-age.json', '/short-max-age.json']);
    clock.advance(2_000);
    await f.fetch(`${base}/short-max-age.json`);
    clock.advance(3_000_000); // 3061 s: inside the 3600 s max-age
    await f.fetch(`${base}/max-age.json`);
    expect(paths()).toEqual(['/max-age.json', '/short-max-age.json', '/short-max-age.json']);
    clock.advance(600_000);
    await f.fetch(`${base}/max-age.json`);
    expect(paths()).toEqual(['/max-age.json', '/short-max-age.json', '/short-max-age.json', '/max-age.json']);
  });

  it('concurrent fetches of one client_id make one request', async () => {
    const { f } = fetcher();
    const id = `${base}/plain.json`;
    const all = await Promise.all([f.fetch(id), f.fetch(id), f.fetch(id)]);
    expect(all.map((c) => c.clientId)).toEqual([id, id, id]);
    expect(paths()).toEqual(['/plain.json']);
  });

  it('accepts an application/<something>+json content type', async () => {
    const { f } = fetcher();
    expect((await f.fetch(`${base}/vendor-type.json`)).name).toBe('Example MCP Client');
  });

  it('refuses a document whose client_id is not the URL it was fetched from', async () => {
    const { f } = fetcher();
    const e = await refusal(f.fetch(`${base}/mismatch.json`));
    expect(e.reason).toBe('invalid_document');
    expect(e.message).toMatch(/client_id does not match/);
  });

  it('refuses token_endpoint_auth_method client_secret_basic (public clients only)', async () => {
    const { f } = fetcher();
    const e = await refusal(f.fetch(`${base}/secret-basic.json`));
    expect(e.reason).toBe('invalid_document');
    expect(e.message).toMatch(/token_endpoint_auth_method: must be "none"/);
  });

  it('refuses a body larger than the limit, declared or streamed', async () => {
    const { f } = fetcher();
    for (const path of ['/big.json', '/big-chunked.json']) {
      const e = await refusal(f.fetch(`${base}${path}`));
      expect(e.reason, path).toBe('fetch_failed');
      expect(e.message).toMatch(/larger than 5120 bytes/);
    }
  });

  it('gives up on a server that does not answer, or stops half-way through the body', async () => {
    const { f } = fetcher({ timeoutMs: 200 });
    for (const path of ['/slow.json', '/slow-body.json']) {
      const e = await refusal(f.fetch(`${base}${path}`));
      expect(e.reason, path).toBe('fetch_failed');
      expect(e.message).toMatch(/did not arrive in time/);
    }
  });

  it('does not follow a redirect', async () => {
    const { f } = fetcher();
    const e = await refusal(f.fetch(`${base}/redirect.json`));
    expect(e.reason).toBe('fetch_failed');
    expect(e.message).toMatch(/redirected \(HTTP 302\); redirects are not followed/);
    expect(paths()).toEqual(['/redirect.json']);
  });

  it('refuses what is not a JSON object: another content type, bad JSON, an array, a compressed body', async () => {
    const { f } = fetcher();
    expect(await refusal(f.fetch(`${base}/html.json`))).toMatchObject({ reason: 'invalid_document', message: expect.stringMatching(/not served as JSON/) });
    expect(await refusal(f.fetch(`${base}/not-json.json`))).toMatchObject({ reason: 'invalid_document', message: expect.stringMatching(/not valid JSON/) });
    expect(await refusal(f.fetch(`${base}/array.json`))).toMatchObject({ reason: 'invalid_document', message: expect.stringMatching(/not a JSON object/) });
    expect(await refusal(f.fetch(`${base}/gzip.json`))).toMatchObject({ reason: 'fetch_failed', message: expect.stringMatching(/compressed/) });
  });

  it('refuses any status but 200', async () => {
    const { f } = fetcher();
    expect(await refusal(f.fetch(`${base}/missing.json`))).toMatchObject({ reason: 'fetch_failed', message: expect.stringMatching(/HTTP 404/) });
  });

  it('holds a failure for 30 s: the same client_id fails again without a request, then is retried', async () => {
    const { f, clock } = fetcher();
    const id = `${base}/mismatch.json`;
    const first = await refusal(f.fetch(id));
    const second = await refusal(f.fetch(id));
    expect([second.reason, second.message]).toEqual([first.reason, first.message]);
    expect(paths()).toEqual(['/mismatch.json']);
    clock.advance(CLIENT_METADATA_DEFAULTS.failureHoldSeconds * 1000 + 1);
    await refusal(f.fetch(id));
    expect(paths()).toEqual(['/mismatch.json', '/mismatch.json']);
  });

  it('failureHoldSeconds 0 retries every time', async () => {
    const { f } = fetcher({ failureHoldSeconds: 0 });
    await refusal(f.fetch(`${base}/missing.json`));
    await refusal(f.fetch(`${base}/missing.json`));
    expect(paths()).toEqual(['/missing.json', '/missing.json']);
  });
});

describe('SSRF: what the server never sees', () => {
  it('without the allow list, the same 127.0.0.1 URL is never fetched, over http or https', async () => {
    const { f } = fetcher({ allowPrivate: [] });
    expect(f.isMetadataUrl(`${base}/ok.json`)).toBe(false);
    const http1 = await refusal(f.fetch(`${base}/ok.json`));
    expect(http1.reason).toBe('not_allowed');
    expect(http1.message).toMatch(/https/);
    const https1 = await refusal(f.fetch('https://127.0.0.1/ok.json'));
    expect(https1.reason).toBe('not_allowed');
    expect(https1.message).toMatch(/special-use/);
    expect(hits).toHaveLength(0);
  });

  it('a host name resolving to 127.0.0.1 (DNS rebinding style) is refused and not fetched', async () => {
    const lookup = dns(() => ['127.0.0.1']);
    const { f } = fetcher({ allowPrivate: [], lookup });
    const e = await refusal(f.fetch('https://rebind.example/ok.json'));
    expect(e.reason).toBe('not_allowed');
    expect(lookup.calls).toEqual(['rebind.example']);
    expect(hits).toHaveLength(0);
  });

  it('one loopback address among public ones is enough to refuse', async () => {
    const lookup = dns(() => ['93.184.216.34', '127.0.0.1']);
    const { f } = fetcher({ allowPrivate: [], lookup });
    expect((await refusal(f.fetch('https://mixed.example/ok.json'))).reason).toBe('not_allowed');
    expect(hits).toHaveLength(0);
  });

  it('an https URL whose lookup returns 10.0.0.1 is refused without connecting', async () => {
    const lookup = dns(() => ['10.0.0.1']);
    const { f } = fetcher({ allowPrivate: ['127.0.0.1'], lookup, timeoutMs: 60_000 });
    const e = await refusal(f.fetch('https://internal.example/client.json'));
    // not_allowed comes only from the guard: a connection attempt would end in fetch_failed (refused or timed out).
    expect(e.reason).toBe('not_allowed');
    expect(e.message).toMatch(/internal\.example resolves to a private/);
    expect(lookup.calls).toEqual(['internal.example']);
  });

  it('the connection is pinned to the vetted address: DNS is asked once, Host still names the host', async () => {
    // First answer 127.0.0.1 (where the server is); any later answer 127.0.0.2, where nothing listens. A client
    // that resolved again when connecting would fail.
    const lookup = dns((_host, call) => (call === 1 ? ['127.0.0.1'] : ['127.0.0.2']));
    const { f } = fetcher({ allowPrivate: ['pinned.test'], lookup });
    const id = `http://pinned.test:${port}/plain.json`;
    expect(f.isMetadataUrl(id)).toBe(true);
    expect((await f.fetch(id)).clientId).toBe(id);
    expect(lookup.calls).toEqual(['pinned.test']);
    expect(hits).toEqual([{ path: '/plain.json', host: `pinned.test:${port}`, accept: 'application/json' }]);
  });

  it('a malformed client_id is refused before any lookup', async () => {
    const lookup = dns(() => ['93.184.216.34']);
    const { f } = fetcher({ allowPrivate: [], lookup });
    for (const id of ['https://u:p@app.example.com/c.json', 'https://app.example.com/a/../c.json', 'https://app.example.com/c.json#x', 'https://app.example.com', 'ftp://app.example.com/c']) {
      expect(f.isMetadataUrl(id), id).toBe(false);
      expect((await refusal(f.fetch(id))).reason, id).toBe('not_allowed');
    }
    expect(lookup.calls).toEqual([]);
  });
});

describe('clientIdUrlProblem', () => {
  const none = () => false;
  const allowAll = () => true;

  it('accepts https URLs with a path (and a query); another port only for an allow-listed host', () => {
    for (const ok of ['https://app.example.com/client.json', 'https://app.example.com/', 'https://app.example.com/oauth/client?v=2', 'https://[2606:4700::1]/c', 'https://app.example.com/a%20b']) {
      expect(clientIdUrlProblem(ok, none), ok).toBeUndefined();
    }
    // Any port would make Custos a port-scan oracle for whoever sends a client_id.
    expect(clientIdUrlProblem('https://app.example.com:8443/oauth/client?v=2', none)).toMatch(/443/);
    expect(clientIdUrlProblem('https://app.example.com:8443/oauth/client?v=2', () => true)).toBeUndefined();
  });

  it('refuses what the draft forbids, on the string as given', () => {
    const cases: [string, RegExp][] = [
      ['http://app.example.com/c', /https/],
      ['HTTPS://app.example.com/c', /https/],
      ['https:app.example.com/c', /https/],
      ['https:/app.example.com/c', /https/],
      ['javascript:alert(1)', /https/],
      ['https://app.example.com', /path/],
      ['https://app.example.com?x=1', /path/],
      ['https://user@app.example.com/c', /user name/],
      ['https://user:pw@app.example.com/c', /user name/],
      ['https://@app.example.com/c', /user name/],
      ['https://app.example.com/c#frag', /fragment/],
      ['https://app.example.com/c#', /fragment/],
      ['https://app.example.com/./c', /path segments/],
      ['https://app.example.com/a/../c', /path segments/],
      ['https://app.example.com/a/%2e%2E/c', /path segments/],
      ['https://app.example.com/a/.%2e', /path segments/],
      ['https://app.example.com/a/..', /path segments/],
      ['https://app.exa mple.com/c', /RFC 3986/],
      ['https://app.example.com/c\n', /RFC 3986/],
      ['https://app.example.com\\c', /RFC 3986/],
      ['https://app.exämple.com/c', /RFC 3986/],
      ['https://app.example.com/%zz', /RFC 3986/],
      [`https://app.example.com/${'a'.repeat(2048)}`, /longer than 2048/],
      ['https:///c', /has no host/],
      ['https://ex%41mple.com/c', /DNS name or an IP address/],
      ['https://[fe80::1%25eth0]/c', /valid URL|DNS name/],
      ['https://app.example.com:99999/c', /valid URL|DNS name/],
    ];
    for (const [value, pattern] of cases) expect(clientIdUrlProblem(value, none), value).toMatch(pattern);
  });

  it('plain http only when the host is allowed', () => {
    expect(clientIdUrlProblem('http://127.0.0.1:3000/c.json', none)).toMatch(/https/);
    expect(clientIdUrlProblem('http://127.0.0.1:3000/c.json', allowAll)).toBeUndefined();
    expect(clientIdUrlProblem('http://localhost/a/../c', allowAll)).toMatch(/path segments/);
  });
});

describe('parseClientMetadataDocument', () => {
  const id = 'https://app.example.com/client.json';
  const parse = (extra: Record<string, unknown>) => parseClientMetadataDocument(id, { client_id: id, redirect_uris: ['https://app.example.com/cb'], ...extra });
  const problem = (extra: Record<string, unknown>): string => {
    try {
      parse(extra);
    } catch (error) {
      expect(error).toBeInstanceOf(ClientMetadataError);
      expect((error as ClientMetadataError).reason).toBe('invalid_document');
      return (error as ClientMetadataError).message;
    }
    throw new Error('expected the document to be refused');
  };

  it('accepts https, loopback http and private-use redirect URIs', () => {
    const uris = ['https://app.example.com/cb', 'http://127.0.0.1:3000/callback', 'http://[::1]:8080/cb', 'http://localhost:3000/callback', 'com.example.app:/oauth2redirect', 'com.example.app://callback'];
    expect(parse({ redirect_uris: uris }).redirectUris).toEqual(uris);
  });

  it('refuses other redirect URIs, naming the entry', () => {
    const cases: [string, RegExp][] = [
      ['http://app.example.com/cb', /redirect_uris\[0\]: must use https/],
      ['http://127.0.0.2/cb', /must use https/],
      ['https://app.example.com/cb#x', /fragment/],
      ['javascript:alert(1)', /private-use scheme/],
      ['data:text/html,x', /private-use scheme/],
      ['file:///etc/passwd', /private-use scheme/],
      ['/relative/cb', /absolute/],
      ['https://user:pw@app.example.com/cb', /user name/],
      ['https://app.example.com/c b', /RFC 3986/],
    ];
    for (const [uri, pattern] of cases) expect(problem({ redirect_uris: [uri] }), uri).toMatch(pattern);
    expect(problem({ redirect_uris: ['https://app.example.com/cb', 'http://evil.example/cb'] })).toMatch(/redirect_uris\[1\]/);
    expect(problem({ redirect_uris: [] })).toMatch(/at least one/);
    expect(problem({ redirect_uris: undefined })).toMatch(/redirect_uris/);
    expect(problem({ redirect_uris: Array.from({ length: 21 }, (_, i) => `https://app.example.com/cb${i}`) })).toMatch(/at most 20/);
  });

  it('client_name: trimmed, at most 200 characters, no control or bidi characters; blank falls back to the host', () => {
    expect(parse({ client_name: '  Example  ' }).name).toBe('Example');
    expect(parse({ client_name: '   ' }).name).toBe('app.example.com');
    expect(parse({ client_name: 'é'.repeat(200) }).name).toHaveLength(200);
    expect(problem({ client_name: 'x'.repeat(201) })).toMatch(/longer than 200/);
    for (const bad of ['Evil\u202Eppa', 'a\u0007b', 'two\nlines', 'tab\there', 'iso\u2066late', 'lone\uD800']) {
      expect(problem({ client_name: bad }), JSON.stringify(bad)).toMatch(/client_name contains a control character/);
    }
    expect(problem({ client_name: 42 })).toMatch(/client_name/);
  });

  it('client_uri and logo_uri must be https URLs', () => {
    expect(parse({ client_uri: 'https://app.example.com', logo_uri: 'https://cdn.example.com/l.png' })).toMatchObject({ clientUri: 'https://app.example.com', logoUri: 'https://cdn.example.com/l.png' });
    expect(problem({ client_uri: 'http://app.example.com' })).toMatch(/client_uri: must be an https URL/);
    expect(problem({ logo_uri: 'javascript:alert(1)' })).toMatch(/logo_uri: must be an https URL/);
    expect(problem({ logo_uri: 'https://u:p@cdn.example.com/l.png' })).toMatch(/logo_uri: must not carry/);
  });

  it('grant_types: authorization_code (required) and refresh_token only; response_types only code', () => {
    expect(parse({ grant_types: ['authorization_code', 'authorization_code'] }).grantTypes).toEqual(['authorization_code']);
    expect(problem({ grant_types: ['client_credentials'] })).toMatch(/grant_types: may hold only/);
    expect(problem({ grant_types: ['refresh_token'] })).toMatch(/grant_types: must include authorization_code/);
    expect(problem({ grant_types: ['implicit', 'authorization_code'] })).toMatch(/grant_types/);
    expect(parse({ response_types: ['code'] }).clientId).toBe(id);
    expect(problem({ response_types: ['token'] })).toMatch(/response_types: may only be \["code"\]/);
    expect(problem({ response_types: ['code', 'id_token'] })).toMatch(/response_types/);
  });

  it('only public clients: token_endpoint_auth_method none or absent; no client_secret; no private keys', () => {
    expect(parse({ token_endpoint_auth_method: 'none' }).clientId).toBe(id);
    for (const method of ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt']) {
      expect(problem({ token_endpoint_auth_method: method }), method).toMatch(/token_endpoint_auth_method: must be "none"/);
    }
    expect(problem({ client_secret: 'hunter2' })).toMatch(/client_secret: must not be present/);
    expect(problem({ client_secret_expires_at: 0 })).toMatch(/client_secret_expires_at: must not be present/);
    expect(parse({ jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc' }] } }).clientId).toBe(id);
    expect(problem({ jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc', d: 'secret' }] } })).toMatch(/jwks: must not contain private key material/);
    expect(problem({ jwks: { keys: [{ kty: 'oct', k: 'secret' }] } })).toMatch(/private key material/);
  });

  it('scope: space-separated scope tokens', () => {
    expect(parse({ scope: 'openid models:read openid' }).scope).toEqual(['openid', 'models:read']);
    expect(parse({}).scope).toBeNull();
    for (const bad of ['', ' openid', 'openid  models', 'a"b', 'a\\b', 'tab\tx']) expect(problem({ scope: bad }), JSON.stringify(bad)).toMatch(/scope: must be scope tokens/);
  });

  it('client_id must equal the URL exactly (no normalisation)', () => {
    expect(() => parseClientMetadataDocument(id, { client_id: 'https://app.example.com:443/client.json', redirect_uris: ['https://app.example.com/cb'] })).toThrow(/client_id does not match/);
    expect(() => parseClientMetadataDocument(id, { client_id: 'https://APP.example.com/client.json', redirect_uris: ['https://app.example.com/cb'] })).toThrow(/client_id does not match/);
    expect(() => parseClientMetadataDocument(id, { redirect_uris: ['https://app.example.com/cb'] })).toThrow(/client_id/);
  });

  it('messages never carry a value from the document', () => {
    expect(problem({ client_name: `${MARKER}\u202E` })).not.toContain(MARKER);
    expect(problem({ redirect_uris: [`http://${MARKER}.example/cb`] })).not.toContain(MARKER);
    expect(problem({ token_endpoint_auth_method: MARKER })).not.toContain(MARKER);
    expect(problem({ grant_types: [MARKER] })).not.toContain(MARKER);
  });
});

describe('cacheLifetimeSeconds', () => {
  const bounds = { fallback: 300, min: 60, max: 86_400 };
  it('max-age within [min, max], minus Age; the fallback without one; the minimum for no-store and nonsense', () => {
    expect(cacheLifetimeSeconds(undefined, undefined, bounds)).toBe(300);
    expect(cacheLifetimeSeconds('public', undefined, bounds)).toBe(300);
    expect(cacheLifetimeSeconds('max-age=600', undefined, bounds)).toBe(600);
    expect(cacheLifetimeSeconds('public, Max-Age="900"', undefined, bounds)).toBe(900);
    expect(cacheLifetimeSeconds('max-age=600', '100', bounds)).toBe(500);
    expect(cacheLifetimeSeconds('max-age=600', '1000', bounds)).toBe(60);
    expect(cacheLifetimeSeconds('max-age=5', undefined, bounds)).toBe(60);
    expect(cacheLifetimeSeconds('max-age=31536000', undefined, bounds)).toBe(86_400);
    expect(cacheLifetimeSeconds('max-age=600, max-age=120', undefined, bounds)).toBe(120);
    expect(cacheLifetimeSeconds('no-store', undefined, bounds)).toBe(60);
    expect(cacheLifetimeSeconds('max-age=600, no-cache', undefined, bounds)).toBe(60);
    expect(cacheLifetimeSeconds('max-age=-1', undefined, bounds)).toBe(60);
    expect(cacheLifetimeSeconds('max-age=soon', undefined, bounds)).toBe(60);
  });
});
