import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevicesPart } from '../../src/authz/devices/index.js';
import { createIdentityDirectory } from '../../src/identity/index.js';
import { newId } from '../../src/platform/ids.js';
import { runCustos, type CliResult } from '../support/cli-process.js';
import { startHarness, type Harness } from '../support/harness.js';

// `custos device …` and `custos posture-issuer …` as a user runs them: a separate process against a real server.

let h: Harness;
let url: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-device-cli-'));

async function custos(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCustos(args, { CUSTOS_SERVER: url, CUSTOS_TOKEN: h.adminToken, CUSTOS_DATA_DIR: '/nonexistent', ...env });
}

beforeAll(async () => {
  h = await startHarness('sqlite');
  // The app's routes once the authz module registers them, else the part's own.
  if (!h.cp.http.hasRoute({ method: 'POST', url: '/v1/devices' })) {
    const identity = createIdentityDirectory({ db: h.cp.db });
    createDevicesPart({ db: h.cp.db, audit: h.cp.audit, clock: h.clock, newId, principals: { principal: (ref) => identity.principalByRef(ref) } }).registerRoutes(h.cp.http);
  }
  url = await h.cp.listen();
  await h.call('POST', '/v1/principals', { name: 'carol', kind: 'human', status: 'active' });
});
afterAll(async () => {
  await h.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('custos device and posture-issuer', () => {
  it('reports, lists, shows and removes device records', async () => {
    const report = await custos(['device', 'report', 'mac-7', '--principal', 'carol', '--posture', 'compliant', '--detail', 'os=macOS 15.5', '--detail', 'disk_encrypted=true', '--valid-for', '3600', '--reason', 'nightly sync']);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/device 'mac-7' of 'carol' is compliant until /);
    const shown = JSON.parse((await custos(['--json', 'device', 'show', 'mac-7'])).stdout);
    expect(shown).toMatchObject({ device_id: 'mac-7', posture: 'compliant', details: { os: 'macOS 15.5', disk_encrypted: true }, current: true });
    expect((await custos(['device', 'list', '--principal', 'carol'])).stdout).toMatch(/mac-7\s+│\s+carol\s+│\s+compliant/);
    expect((await custos(['device', 'list', '--posture', 'noncompliant'])).stdout).toContain('(none)');
    expect((await custos(['device', 'remove', 'mac-7', '--reason', 'wiped'])).stdout).toMatch(/removed device 'mac-7'/);
    const gone = await custos(['device', 'show', 'mac-7']);
    expect([gone.code, /not_found/.test(gone.stderr)]).toEqual([1, true]);
  });

  it('adds, lists, shows and removes posture issuers from a JWKS file or a JWKS URL', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const file = path.join(tmp, 'mdm-keys.json');
    fs.writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }));
    const add = await custos(['posture-issuer', 'add', 'intune', '--issuer', 'https://mdm.cli.test', '--jwks', file, '--max-age', '900']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/trusting posture assertions from 'intune' \(https:\/\/mdm.cli.test\), fresh for 900 s/);
    expect((await custos(['posture-issuer', 'add', 'edr', '--issuer', 'https://edr.cli.test', '--jwks-uri', 'https://edr.cli.test/jwks.json'])).code).toBe(0);
    const list = await custos(['posture-issuer', 'list']);
    expect(list.stdout).toMatch(/intune\s+│\s+https:\/\/mdm\.cli\.test\s+│\s+inline \(1 key\)\s+│\s+900s/);
    expect(list.stdout).toMatch(/edr\s+│\s+https:\/\/edr\.cli\.test\s+│\s+https:\/\/edr\.cli\.test\/jwks\.json/);
    expect(JSON.parse((await custos(['--json', 'posture-issuer', 'show', 'intune'])).stdout)).toMatchObject({ name: 'intune', max_age_seconds: 900 });
    expect((await custos(['posture-issuer', 'remove', 'edr'])).stdout).toMatch(/no longer trusting/);
    expect(JSON.parse((await custos(['--json', 'posture-issuer', 'list'])).stdout).items.map((i: { name: string }) => i.name)).toEqual(['intune']);
  });

  it('refuses bad usage before any request, and shows the server\'s refusal with its code', async () => {
    const down = { CUSTOS_SERVER: 'http://127.0.0.1:9' };
    for (const args of [
      ['device', 'report', 'x', '--principal', 'carol', '--posture', 'great'],
      ['device', 'report', 'x', '--posture', 'compliant'],
      ['device', 'report', 'x', '--principal', 'carol', '--posture', 'compliant', '--valid-for', '10'],
      ['device', 'report', 'x', '--principal', 'carol', '--posture', 'compliant', '--detail', 'novalue'],
      ['posture-issuer', 'add', 'x', '--issuer', 'https://x.test'],
      ['posture-issuer', 'add', 'x', '--issuer', 'https://x.test', '--jwks-uri', 'https://x.test/j', '--max-age', '5'],
      ['posture-issuer', 'add', 'x', '--issuer', 'https://x.test', '--jwks', path.join(tmp, 'missing.json')],
    ]) {
      const r = await custos(args, down);
      expect([r.code, r.stderr.includes('cannot reach')], args.join(' ')).toEqual([2, false]);
    }
    const unknown = await custos(['device', 'report', 'x', '--principal', 'nobody', '--posture', 'compliant']);
    expect([unknown.code, /principal_not_found/.test(unknown.stderr)]).toEqual([1, true]);
    const auditor = await h.operator('device-cli-auditor', 'auditor');
    const r = await custos(['posture-issuer', 'remove', 'intune'], { CUSTOS_TOKEN: auditor });
    expect([r.code, /forbidden/.test(r.stderr)]).toEqual([1, true]);
  });
});
