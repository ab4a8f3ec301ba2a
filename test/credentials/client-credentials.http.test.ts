import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { exportJWK, generateKeyPair } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/output.js';
import { runCommands } from '../../src/cli/program.js';
import { parseCustosToken } from '../../src/platform/credential-format.js';
import { CLIENT_CREDENTIALS_ROUTE_CASES } from '../operators/cases/client-credentials.cases.js';
import { buildWorld, ROLES, type World } from '../operators/route-cases.js';
import { startClientCredentials, type ClientCredentials } from './client-credentials.fixture.js';

// /v1/client-keys and /v1/client-secrets over HTTP with real operator tokens: the role matrix of their cases,
// problem+json answers, pagination, and the `custos client-key` / `custos client-secret` commands in-process
// against the same server. (The stores are covered on both backends in client-material.test.ts.)

let c: ClientCredentials;
let w: World;
let url: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-client-cli-'));

async function materialCounts(): Promise<{ keys: number; secrets: number }> {
  const n = async (t: 'client_keys' | 'client_secrets') => Number((await sql<{ n: number | string }>`select count(*) as n from ${sql.table(t)}`.execute(c.h.cp.db.kysely)).rows[0]!.n);
  return { keys: await n('client_keys'), secrets: await n('client_secrets') };
}

async function custos(args: string[], token = c.h.adminToken) {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) => new Writable({ write(chunk, _enc, done) { append(String(chunk)); done(); } });
  const io: CliIo = { stdout: sink((s) => { out += s; }), stderr: sink((s) => { err += s; }), stdoutIsTTY: false, env: { CUSTOS_SERVER: url, CUSTOS_TOKEN: token, CUSTOS_DATA_DIR: '/nonexistent' } };
  const code = await runCommands(args, io);
  return { code, stdout: out, stderr: err };
}

function write(name: string, content: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, content);
  return file;
}

async function jwk(alg = 'EdDSA'): Promise<Record<string, unknown>> {
  const { publicKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(publicKey)) };
}

beforeAll(async () => {
  c = await startClientCredentials('sqlite');
  w = await buildWorld(c.h);
  for (const role of ROLES) await c.h.call('GET', '/v1/whoami', undefined, w.tokens[role]);
  url = await c.h.cp.listen();
});
afterAll(async () => {
  await c?.h.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('role matrix of the client-credential routes', () => {
  for (const role of ROLES) {
    it(`role ${role}: every case answers as its matrix says, and a refused call writes no material`, async () => {
      const failures: string[] = [];
      for (const [key, kase] of Object.entries(CLIENT_CREDENTIALS_ROUTE_CASES)) {
        const req = await kase.build(w, role);
        const before = await materialCounts();
        const res = await c.h.call(req.method, req.url, req.body, w.tokens[role]);
        const want = kase.expect[role];
        const ok = want === 'ok' ? res.status >= 200 && res.status < 300 : want === 'allowed' ? ![401, 403].includes(res.status) && res.status < 500 : res.status === 403;
        if (!ok) failures.push(`${key} as ${role}: wanted ${want}, got ${res.status} ${res.text.slice(0, 160)}`);
        if (want === 'forbidden' && JSON.stringify(await materialCounts()) !== JSON.stringify(before)) failures.push(`${key} as ${role}: refused but material changed`);
      }
      expect(failures).toEqual([]);
    });
  }

  it('publishes every case\'s route, with the codes its rules answer with', async () => {
    const doc = (await c.h.call('GET', '/openapi.json', undefined, null)).body as { paths: Record<string, Record<string, unknown>> };
    for (const key of Object.keys(CLIENT_CREDENTIALS_ROUTE_CASES)) {
      const [method, p] = key.split(' ');
      expect(doc.paths[p!]?.[method!.toLowerCase()], key).toBeDefined();
    }
    expect(JSON.stringify(doc.paths['/v1/client-keys']!.post)).toContain('invalid_jwk');
    expect(JSON.stringify(doc.paths['/v1/client-keys']!.post)).toContain('key_already_registered');
  });

  it('refuses a call without a token before reading its body', async () => {
    const r = await c.h.call('POST', '/v1/client-secrets', { principal: 'x' }, null);
    expect(r.status).toBe(401);
  });
});

describe('/v1/client-keys', () => {
  it('registers, lists page by page, and removes keys; a private key is refused with invalid_jwk', async () => {
    const agent = await c.agent();
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const priv = await c.h.call('POST', '/v1/client-keys', { principal: agent.name, jwk: await exportJWK(privateKey) });
    expect([priv.status, priv.body.code, priv.headers['content-type']]).toEqual([422, 'invalid_jwk', 'application/problem+json; charset=utf-8']);
    expect(priv.body.detail).toMatch(/private key/);
    const both = await c.h.call('POST', '/v1/client-keys', { principal: agent.name, jwk: await jwk(), jwks: { keys: [await jwk()] } });
    expect([both.status, both.body.code]).toEqual([400, 'validation_failed']);
    const neither = await c.h.call('POST', '/v1/client-keys', { principal: agent.name });
    expect([neither.status, neither.body.code]).toEqual([400, 'validation_failed']);

    const added = await c.h.call('POST', '/v1/client-keys', { principal: agent.name, jwks: { keys: [await jwk(), await jwk('ES256'), await jwk('RS256')] } });
    expect(added.status).toBe(201);
    expect(added.body.keys.map((k: { alg: string }) => k.alg)).toEqual(['EdDSA', 'ES256', 'RS256']);
    expect(Object.keys(added.body.keys[0]).sort()).toEqual(['alg', 'created_at', 'created_by', 'description', 'expires_at', 'id', 'jwk', 'kid', 'last_used_at', 'principal', 'removed_at', 'thumbprint']);
    const again = await c.h.call('POST', '/v1/client-keys', { principal: agent.name, jwk: added.body.keys[0].jwk });
    expect([again.status, again.body.code]).toEqual([409, 'key_already_registered']);

    const first = await c.h.call('GET', `/v1/client-keys?principal=${agent.name}&limit=2`);
    expect(first.body.items).toHaveLength(2);
    const second = await c.h.call('GET', `/v1/client-keys?principal=${agent.name}&limit=2&cursor=${encodeURIComponent(first.body.next_cursor)}`);
    expect([...first.body.items, ...second.body.items].map((k: { id: string }) => k.id)).toEqual(added.body.keys.map((k: { id: string }) => k.id));
    expect(second.body.next_cursor).toBeNull();

    const id = added.body.keys[1].id;
    expect((await c.h.call('DELETE', `/v1/client-keys/${id}`)).body.removed_at).not.toBeNull();
    expect((await c.h.call('DELETE', `/v1/client-keys/${id}`)).body.code).toBe('credential_already_revoked');
    expect((await c.h.call('DELETE', '/v1/client-keys/not-a-uuid')).status).toBe(400);
    expect((await c.h.call('GET', `/v1/client-keys?principal=${agent.name}`)).body.items).toHaveLength(2);
    expect((await c.h.call('GET', `/v1/client-keys?principal=${agent.name}&include_removed=true`)).body.items).toHaveLength(3);
  });

  it('an owner-role operator names a principal to list, and another\'s is empty', async () => {
    const r = await c.h.call('GET', '/v1/client-keys', undefined, w.tokens.owner);
    expect([r.status, r.body.code]).toEqual([400, 'validation_failed']);
    const foreign = await c.agent();
    await c.h.call('POST', '/v1/client-keys', { principal: foreign.name, jwk: await jwk() });
    expect((await c.h.call('GET', `/v1/client-keys?principal=${foreign.name}`, undefined, w.tokens.owner)).body.items).toEqual([]);
    expect((await c.h.call('GET', `/v1/client-keys?principal=${foreign.name}`, undefined, w.tokens.auditor)).body.items).toHaveLength(1);
  });
});

describe('/v1/client-secrets', () => {
  it('creates a secret shown once, rotates it and revokes it', async () => {
    const agent = await c.agent();
    const created = await c.h.call('POST', '/v1/client-secrets', { principal: agent.name });
    expect(created.status).toBe(201);
    expect(parseCustosToken(created.body.secret)).toEqual({ kind: 'cs', id: created.body.id });
    expect(Date.parse(created.body.expires_at) - c.h.clock.now().getTime()).toBe(90 * 86_400_000);
    const long = await c.h.call('POST', '/v1/client-secrets', { principal: agent.name, ttl_seconds: 366 * 86_400 });
    expect([long.status, long.body.code]).toEqual([400, 'validation_failed']);
    const listed = await c.h.call('GET', `/v1/client-secrets?principal=${agent.name}`);
    expect(listed.text).not.toContain(created.body.secret);
    expect(listed.body.items.map((s: { id: string }) => s.id)).toEqual([created.body.id]);

    const rotated = await c.h.call('POST', `/v1/client-secrets/${created.body.id}/rotate`, {});
    expect(rotated.status).toBe(201);
    expect(rotated.body.replaces).toMatchObject({ id: created.body.id, replaced_by: rotated.body.id, expires_at: new Date(c.h.clock.now().getTime() + 3_600_000).toISOString() });
    const twice = await c.h.call('POST', `/v1/client-secrets/${created.body.id}/rotate`, { overlap_seconds: 0 });
    expect([twice.status, twice.body.code]).toEqual([409, 'invalid_transition']);
    const tooLong = await c.h.call('POST', `/v1/client-secrets/${rotated.body.id}/rotate`, { overlap_seconds: 7 * 86_400 + 1 });
    expect([tooLong.status, tooLong.body.code]).toEqual([400, 'validation_failed']);

    const revoked = await c.h.call('POST', `/v1/client-secrets/${rotated.body.id}/revoke`, { reason: 'done' });
    expect([revoked.status, revoked.body.revoked_reason]).toEqual([200, 'done']);
    const again = await c.h.call('POST', `/v1/client-secrets/${rotated.body.id}/revoke`, {});
    expect([again.status, again.body.code]).toEqual([409, 'credential_already_revoked']);
    expect((await c.h.call('POST', '/v1/client-secrets/aaaaaaaaaaaaaaaa/revoke', {})).status).toBe(404);
  });

  it('refuses a human', async () => {
    const r = await c.h.call('POST', '/v1/client-secrets', { principal: w.names.auditor });
    expect([r.status, r.body.code]).toEqual([422, 'principal_cannot_hold_credentials']);
  });
});

describe('custos client-key', () => {
  it('adds a PEM public key, a JWK file and a JWKS file; lists and removes them', async () => {
    const agent = await c.agent();
    const { publicKey } = crypto.generateKeyPairSync('ed25519');
    const pem = write('agent.pub.pem', publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const added = await custos(['client-key', 'add', agent.name, '--public-key', pem, '--kid', 'ci-1', '--description', 'from pem']);
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/ci-1\s+│\s+EdDSA/);
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const ecAdded = await custos(['--json', 'client-key', 'add', agent.name, '--public-key', write('ec.pem', ec)]);
    expect(JSON.parse(ecAdded.stdout).keys[0]).toMatchObject({ alg: 'ES384', jwk: { kty: 'EC', crv: 'P-384' } });
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rsaAdded = await custos(['--json', 'client-key', 'add', agent.name, '--public-key', write('rsa.pem', rsa), '--alg', 'PS256']);
    expect(JSON.parse(rsaAdded.stdout).keys[0]).toMatchObject({ alg: 'PS256', jwk: { kty: 'RSA', alg: 'PS256' } });
    expect((await custos(['client-key', 'add', agent.name, '--jwk', write('one.json', JSON.stringify(await jwk('ES256')))])).code).toBe(0);
    const set = await custos(['--json', 'client-key', 'add', agent.name, '--jwks', write('set.json', JSON.stringify({ keys: [await jwk(), await jwk()] })), '--expires-at', '2099-01-01T00:00:00Z']);
    expect(JSON.parse(set.stdout).keys.map((k: { expires_at: string }) => k.expires_at)).toEqual(['2099-01-01T00:00:00.000Z', '2099-01-01T00:00:00.000Z']);

    const list = await custos(['--json', 'client-key', 'list', '--principal', agent.name]);
    const items = JSON.parse(list.stdout).items as Array<{ id: string }>;
    expect(items).toHaveLength(6);
    expect((await custos(['client-key', 'list', '--principal', agent.name])).stdout).toMatch(/ci-1\s+│\s+EdDSA/);
    const removed = await custos(['client-key', 'remove', items[0]!.id]);
    expect([removed.code, removed.stdout]).toEqual([0, `removed ${items[0]!.id} (${agent.name})\n`]);
    const twice = await custos(['client-key', 'remove', items[0]!.id]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/\(credential_already_revoked\)/);
  });

  it('refuses private keys and bad usage before any request, with exit code 2 and one line', async () => {
    const agent = await c.agent();
    const before = await materialCounts();
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const privPem = write('agent.key.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const sec1 = write('agent.ec.pem', privateKey.export({ type: 'sec1', format: 'pem' }).toString());
    const privJwk = write('agent.key.json', JSON.stringify(privateKey.export({ format: 'jwk' })));
    const privSet = write('agent.keys.json', JSON.stringify({ keys: [await jwk(), privateKey.export({ format: 'jwk' })] }));
    const cases: Array<[string[], RegExp]> = [
      [['client-key', 'add', agent.name, '--public-key', privPem], /is a private key; give the public key/],
      [['client-key', 'add', agent.name, '--public-key', sec1], /is a private key/],
      [['client-key', 'add', agent.name, '--jwk', privJwk], /holds a private key \(it has 'd'\)/],
      [['client-key', 'add', agent.name, '--jwks', privSet], /holds a private key/],
      [['client-key', 'add', agent.name, '--public-key', write('junk.pem', 'hello')], /not a PEM public key/],
      [['client-key', 'add', agent.name], /exactly one of --jwk, --jwks or --public-key/],
      [['client-key', 'add', agent.name, '--jwk', privJwk, '--jwks', privSet], /exactly one/],
      [['client-key', 'add', agent.name, '--jwk', path.join(tmp, 'missing.json')], /cannot read a JWK .*ENOENT/],
      [['client-key', 'add', agent.name, '--jwk', write('bad.json', '{')], /is not JSON/],
      [['client-key', 'add', agent.name, '--jwk', write('ok.json', JSON.stringify(await jwk())), '--expires-at', 'soon'], /not an ISO 8601 time/],
      [['client-key', 'remove', 'abcdefghijklmnop'], /not a client key id/],
    ];
    for (const [args, message] of cases) {
      const r = await custos(args);
      expect([r.code, r.stderr.trim().split('\n').length], args.join(' ')).toEqual([2, 1]);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr, args.join(' ')).not.toContain('PRIVATE KEY');
    }
    expect(await materialCounts()).toEqual(before);
  });
});

describe('custos client-secret', () => {
  it('prints a secret on stdout alone, lists without it, rotates and revokes', async () => {
    const agent = await c.agent();
    const created = await custos(['client-secret', 'create', agent.name, '--ttl', '3600', '--description', 'cli']);
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    const parsed = parseCustosToken(secret);
    expect(parsed?.kind).toBe('cs');
    expect(created.stderr).toMatch(new RegExp(`client secret ${parsed!.id} for '${agent.name}', expires .*shown only this once`));
    expect(created.stderr).not.toContain(secret);
    const list = await custos(['client-secret', 'list', '--principal', agent.name]);
    expect(list.stdout).toContain(parsed!.id);
    expect(list.stdout).not.toContain(secret);

    const rotated = await custos(['client-secret', 'rotate', parsed!.id, '--overlap', '60']);
    expect(rotated.code).toBe(0);
    const next = parseCustosToken(rotated.stdout.trim());
    expect(next?.kind).toBe('cs');
    expect(rotated.stderr).toContain(`replaces ${parsed!.id}`);
    const revoked = await custos(['--json', 'client-secret', 'revoke', next!.id, '--reason', 'cli test']);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ id: next!.id, revoked_reason: 'cli test' });
    expect((await custos(['client-secret', 'list', '--principal', agent.name, '--include-revoked'])).stdout).toContain(next!.id);
  });

  it('exits 2 on bad usage before any request and 1 when the server refuses', async () => {
    for (const args of [['client-secret', 'create', 'x', '--ttl', '59'], ['client-secret', 'rotate', 'abcdefghijklmnop', '--overlap', '604801'], ['client-secret', 'revoke', 'NOT-AN-ID']]) {
      expect((await custos(args)).code, args.join(' ')).toBe(2);
    }
    const human = await custos(['client-secret', 'create', w.names.security]);
    expect([human.code, human.stderr]).toEqual([1, expect.stringMatching(/\(principal_cannot_hold_credentials\)\n$/)]);
    const help = await custos(['client-secret', 'rotate', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(/0 to 604800 \(7 days\); default 3600 \(1 hour\)/);
    expect(help.stdout).toMatch(/Example:/);
  });
});
