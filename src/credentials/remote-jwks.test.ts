import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errors as joseErrors, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../platform/clock.js';
import { JwksUnavailable, REMOTE_JWKS_DEFAULTS, createRemoteJwksCache, remoteUrlProblem } from './remote-jwks.js';

// The bounded JWKS cache against a real loopback server that counts what it is asked.

type Mode = 'ok' | 'oversized-declared' | 'oversized-chunked' | 'redirect' | 'error' | 'hang' | 'not-json';

let server: http.Server;
let base: string;
let mode: Mode = 'ok';
const hits: string[] = [];
let jwks: { keys: object[] };

beforeAll(async () => {
  const { publicKey } = await generateKeyPair('ES256');
  jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] };
  server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/elsewhere') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    switch (mode) {
      case 'ok': return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
      case 'oversized-declared': return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: jwks.keys, pad: 'x'.repeat(70_000) }));
      case 'oversized-chunked': {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(`{"keys":${JSON.stringify(jwks.keys)},"pad":"`);
        for (let i = 0; i < 70; i++) res.write('x'.repeat(1024));
        return res.end('"}');
      }
      case 'redirect': return res.writeHead(302, { location: `${base}/elsewhere` }).end();
      case 'error': return res.writeHead(500).end();
      case 'not-json': return res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
      case 'hang': return undefined;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => { mode = 'ok'; hits.length = 0; });

const header = { alg: 'ES256', kid: 'k1' };
const noToken = {} as never;

describe('remoteUrlProblem', () => {
  it('accepts https anywhere and plain http only to loopback hosts', () => {
    for (const ok of ['https://token.actions.githubusercontent.com', 'https://k8s.example/openid/v1/jwks', 'http://127.0.0.1:8080/jwks', 'http://[::1]/jwks', 'http://localhost:9/x']) {
      expect(remoteUrlProblem(ok), ok).toBeUndefined();
    }
    expect(remoteUrlProblem('http://issuer.example/jwks')).toMatch(/https/);
    expect(remoteUrlProblem('http://127.0.0.2/jwks')).toMatch(/https/);
    expect(remoteUrlProblem('ftp://issuer.example/jwks')).toMatch(/https/);
    expect(remoteUrlProblem('file:///etc/passwd')).toMatch(/https/);
    expect(remoteUrlProblem('https://user:pw@issuer.example/')).toMatch(/user name/);
    expect(remoteUrlProblem('https://issuer.example/#x')).toMatch(/fragment/);
    expect(remoteUrlProblem('https://issuer.example/#')).toMatch(/fragment/);
    expect(remoteUrlProblem('/relative')).toMatch(/absolute/);
  });
});

describe('remote JWKS cache', () => {
  it('fetches a key set once, serves it from the cache while fresh, and fetches again after its lifetime', async () => {
    const clock = manualClock();
    const cache = createRemoteJwksCache({ clock, maxAgeMs: 60_000 });
    const keys = cache.resolver(`${base}/jwks`);
    await keys(header, noToken);
    await keys(header, noToken);
    clock.advance(59_999);
    await keys(header, noToken);
    expect(cache.fetchCount(`${base}/jwks`)).toBe(1);
    clock.advance(1);
    await keys(header, noToken);
    expect(cache.fetchCount()).toBe(2);
    expect(hits).toEqual(['/jwks', '/jwks']);
  });

  it('uses the documented defaults: 64 issuers, 10 minutes, 64 KiB, 5 s, no grace beyond the lifetime', () => {
    expect(REMOTE_JWKS_DEFAULTS).toMatchObject({ maxIssuers: 64, maxAgeMs: 600_000, maxBytes: 65_536, timeoutMs: 5_000 });
  });

  it('fails closed once the lifetime is over and the server is gone, and does not retry during the hold', async () => {
    const clock = manualClock();
    const cache = createRemoteJwksCache({ clock, maxAgeMs: 60_000, failureHoldMs: 5_000 });
    const keys = cache.resolver(`${base}/jwks`);
    await keys(header, noToken);
    mode = 'error';
    await keys(header, noToken); // still fresh: no fetch
    clock.advance(60_000);
    await expect(keys(header, noToken)).rejects.toBeInstanceOf(JwksUnavailable);
    expect(cache.fetchCount()).toBe(2);
    mode = 'ok';
    clock.advance(4_999);
    await expect(keys(header, noToken)).rejects.toBeInstanceOf(JwksUnavailable);
    expect(cache.fetchCount()).toBe(2);
    clock.advance(1);
    await keys(header, noToken);
    expect(cache.fetchCount()).toBe(3);
  });

  it('refuses responses over the size limit, declared or streamed', async () => {
    for (const m of ['oversized-declared', 'oversized-chunked'] as const) {
      mode = m;
      const cache = createRemoteJwksCache({ clock: manualClock() });
      const err = await Promise.resolve(cache.resolver(`${base}/jwks`)(header, noToken)).catch((e: unknown) => e);
      expect(err, m).toBeInstanceOf(JwksUnavailable);
      expect((err as Error).message, m).toMatch(/larger than 65536 bytes/);
    }
  });

  it('never follows a redirect, and refuses an error status or a body that is not a JWKS', async () => {
    for (const m of ['redirect', 'error', 'not-json'] as const) {
      mode = m;
      hits.length = 0;
      const cache = createRemoteJwksCache({ clock: manualClock() });
      await expect(cache.resolver(`${base}/jwks`)(header, noToken), m).rejects.toBeInstanceOf(JwksUnavailable);
      expect(hits, m).toEqual(['/jwks']);
    }
  });

  it('gives up after the timeout', async () => {
    mode = 'hang';
    const cache = createRemoteJwksCache({ clock: manualClock(), timeoutMs: 100 });
    await expect(cache.resolver(`${base}/jwks`)(header, noToken)).rejects.toBeInstanceOf(JwksUnavailable);
  });

  it('holds at most maxIssuers key sets, evicting the oldest', async () => {
    const cache = createRemoteJwksCache({ clock: manualClock(), maxIssuers: 2 });
    for (const path of ['/a', '/b', '/c']) await cache.resolver(`${base}${path}`)(header, noToken);
    expect(cache.size()).toBe(2);
    await cache.resolver(`${base}/c`)(header, noToken);
    await cache.resolver(`${base}/b`)(header, noToken);
    expect(cache.fetchCount()).toBe(3);
    await cache.resolver(`${base}/a`)(header, noToken);
    expect(cache.fetchCount(`${base}/a`)).toBe(2);
  });

  it('an unknown kid is the token\'s problem (no matching key), not a fetch failure; invalidate forgets a set', async () => {
    const cache = createRemoteJwksCache({ clock: manualClock() });
    const keys = cache.resolver(`${base}/jwks`);
    await expect(keys({ alg: 'ES256', kid: 'nope' }, noToken)).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
    // Inside the cooldown an unknown kid does not fetch again.
    await expect(keys({ alg: 'ES256', kid: 'other' }, noToken)).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
    expect(cache.fetchCount()).toBe(1);
    cache.invalidate(`${base}/jwks`);
    await keys(header, noToken);
    expect(cache.fetchCount()).toBe(2);
  });

  it('refuses a URL the rules do not allow without fetching', async () => {
    const cache = createRemoteJwksCache({ clock: manualClock() });
    await expect(cache.resolver('http://example.com/jwks')(header, noToken)).rejects.toBeInstanceOf(JwksUnavailable);
    expect(cache.fetchCount()).toBe(0);
  });
});
