import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt, exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCustos } from '../support/cli-process.js';
import { startHarness, type Harness } from '../support/harness.js';

// `custos token issue|exchange|inspect|revoke` as an agent runs them: its own process, a PEM private key on
// disk, no operator token for issue and exchange (the key authenticates the client with private_key_jwt).

let h: Harness;
let url: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-cli-token-'));

function keyFile(name: string): { file: string; publicKey: crypto.KeyObject } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const file = path.join(tmp, `${name}.pem`);
  fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return { file, publicKey };
}

async function agentWithKey(name: string, fields: Record<string, unknown> = {}): Promise<string> {
  const p = await h.call('POST', '/v1/principals', { name, kind: 'agent', owner: 'cli-owner', status: 'active', scopes: ['models:invoke', 'tools:call'], purposes: ['support'], ...fields });
  expect(p.status, p.text).toBe(201);
  const { file, publicKey } = keyFile(name);
  const k = await h.call('POST', '/v1/client-keys', { principal: name, jwk: { ...(await exportJWK(publicKey)), alg: 'EdDSA' } });
  expect(k.status, k.text).toBe(201);
  return file;
}

const agentEnv = () => ({ CUSTOS_SERVER: url, CUSTOS_DATA_DIR: '/nonexistent' });

beforeAll(async () => {
  h = await startHarness('sqlite');
  url = await h.cp.listen();
  h.clock.set(new Date());
  await h.call('POST', '/v1/principals', { name: 'cli-owner', kind: 'human' });
});
afterAll(async () => {
  await h.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('custos token for agents', () => {
  it('issue: private_key_jwt with no operator token prints only the token on stdout', async () => {
    const key = await agentWithKey('cli-bot');
    const r = await runCustos(['token', 'issue', '--principal', 'cli-bot', '--private-key', key, '--scope', 'models:invoke', '--expires-in', '600'], agentEnv());
    expect(r.code, r.stderr).toBe(0);
    const token = r.stdout.trim();
    expect(decodeJwt(token)).toMatchObject({ scope: 'models:invoke', purpose: 'support', client_id: expect.any(String) });
    expect(decodeJwt(token).exp! - decodeJwt(token).iat!).toBe(600);
    expect(r.stderr).toMatch(/Bearer token for .* expires in 600 s/);
    const both = await runCustos(['token', 'issue', '--principal', 'cli-bot', '--private-key', key, '--scope', 'models:invoke,tools:call'], agentEnv());
    expect(decodeJwt(both.stdout.trim()).scope).toBe('models:invoke tools:call');

    const dpop = keyFile('dpop').file;
    const bound = await runCustos(['token', 'issue', '--principal', 'cli-bot', '--private-key', key, '--dpop-key', dpop, '--json'], agentEnv());
    expect(bound.code, bound.stderr).toBe(0);
    const body = JSON.parse(bound.stdout);
    expect(body.token_type).toBe('DPoP');
    expect(decodeJwt(body.access_token).cnf).toHaveProperty('jkt');

    // whoami with the agent's own token, and a bound token used with a proof the CLI made (as with curl).
    const me = await runCustos(['whoami'], { ...agentEnv(), CUSTOS_TOKEN: token });
    expect(me.code, me.stderr).toBe(0);
    expect(me.stdout).toMatch(/^cli-bot via access token \S+ \(private_key_jwt, purpose support\), expires \d{4}-/);
    const proof = await runCustos(['token', 'proof', '--dpop-key', dpop, '--url', `${url}/v1/whoami`, '--access-token', body.access_token], agentEnv());
    expect(proof.code, proof.stderr).toBe(0);
    h.clock.set(new Date()); // the CLI signs with the real clock; the harness's stands still otherwise
    const res = await fetch(`${url}/v1/whoami`, { headers: { authorization: `DPoP ${body.access_token}`, dpop: proof.stdout.trim() } });
    expect(res.status, `${res.headers.get('www-authenticate')} ${await res.clone().text()}`).toBe(200);
    expect(((await res.json()) as { dpop_jkt: string }).dpop_jkt).toBe((decodeJwt(body.access_token).cnf as { jkt: string }).jkt);
    const replayed = await fetch(`${url}/v1/whoami`, { headers: { authorization: `DPoP ${body.access_token}`, dpop: proof.stdout.trim() } });
    expect(replayed.status).toBe(401);
  });

  it('issue: a wrong key or an unapproved scope is a one-line error and a non-zero exit', async () => {
    await agentWithKey('cli-bot-2');
    const stranger = keyFile('stranger').file;
    const wrongKey = await runCustos(['token', 'issue', '--principal', 'cli-bot-2', '--private-key', stranger], agentEnv());
    expect(wrongKey.code).toBe(3);
    expect(wrongKey.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrongKey.stderr).toContain('invalid_client');
    const scope = await runCustos(['token', 'issue', '--principal', 'cli-bot-2', '--private-key', path.join(tmp, 'cli-bot-2.pem'), '--scope', 'admin'], agentEnv());
    expect([scope.code, scope.stderr.includes('invalid_scope')]).toEqual([1, true]);
    const notAKey = path.join(tmp, 'not-a-key.pem');
    fs.writeFileSync(notAKey, 'hello');
    expect((await runCustos(['token', 'issue', '--principal', 'cli-bot-2', '--private-key', notAKey], agentEnv())).code).toBe(2);
    expect((await runCustos(['token', 'issue', '--principal', 'cli-bot-2'], agentEnv())).code).toBe(2);
  });

  it('exchange, inspect and revoke: the delegated token names its actor; revoking the parent kills it', async () => {
    const workerKey = await agentWithKey('cli-worker', { scopes: ['models:invoke'] });
    const plannerKey = await agentWithKey('cli-planner', { may_delegate_to: ['cli-worker'] });
    const parent = (await runCustos(['token', 'issue', '--principal', 'cli-planner', '--private-key', plannerKey], agentEnv())).stdout.trim();
    const ex = await runCustos(['token', 'exchange', '--subject-token', parent, '--principal', 'cli-worker', '--private-key', workerKey], agentEnv());
    expect(ex.code, ex.stderr).toBe(0);
    const child = ex.stdout.trim();
    const otherPurpose = await runCustos(['token', 'exchange', '--subject-token', parent, '--principal', 'cli-worker', '--private-key', workerKey, '--purpose', 'research'], agentEnv());
    expect([otherPurpose.code, otherPurpose.stderr.includes('invalid_request')]).toEqual([1, true]);
    expect(decodeJwt(child)).toMatchObject({ sub: decodeJwt(parent).sub, act: { sub: expect.any(String) }, scope: 'models:invoke' });

    const operator = { ...agentEnv(), CUSTOS_TOKEN: h.adminToken };
    const inspected = await runCustos(['token', 'inspect', child, '--json'], operator);
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(JSON.parse(inspected.stdout)).toMatchObject({ header: { typ: 'at+jwt' }, introspection: { active: true, act: { sub: expect.any(String) } } });
    const offline = await runCustos(['token', 'inspect', child, '--offline'], agentEnv());
    expect(offline.stdout).toMatch(/active\s+\(not asked\)/);

    const revoked = await runCustos(['token', 'revoke', parent, '--reason', 'test'], operator);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(/revoked access token .* and 1 derived from it/);
    const after = await runCustos(['token', 'inspect', child, '--json'], operator);
    expect(JSON.parse(after.stdout).introspection).toEqual({ active: false });
    expect((await runCustos(['token', 'inspect', 'not-a-jwt'], agentEnv())).code).toBe(2);
  });
});
