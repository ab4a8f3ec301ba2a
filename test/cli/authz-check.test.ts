import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { runCustos } from '../support/cli-process.js';
import { registerAuthzCommands } from '../../src/cli/commands/authz.js';
import { runCommands } from '../../src/cli/program.js';
import { capture } from '../support/cli-capture.js';
import { approvedGrant } from '../support/authz.js';

// `custos authz check`: the explanation of one decision as an operator reads it (and as a script reads --json),
// against a real server. The process test runs bin/custos.js from dist/ (npm run build first).


let h: Harness;
let url: string;
let grantId: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-authz-check-'));
async function custos(args: string[], token = h.adminToken) {
  const c = capture({ CUSTOS_SERVER: url, CUSTOS_TOKEN: token, CUSTOS_DATA_DIR: '/nonexistent' });
  const code = await runCommands(args, c.io);
  return { code, stdout: c.out(), stderr: c.err() };
}

beforeAll(async () => {
  h = await startHarness('sqlite');
  url = await h.cp.listen();
  await h.call('POST', '/v1/principals', { name: 'agent-keeper', kind: 'human' }); // owns the agents: nobody grants to what they own
  await h.call('POST', '/v1/principals', { name: 'lead', kind: 'agent', owner: 'agent-keeper', status: 'active', purposes: ['support'] });
  await h.call('POST', '/v1/principals', { name: 'helper', kind: 'agent', owner: 'agent-keeper', status: 'active', purposes: ['support'] });
  await h.call('POST', '/v1/resources', { name: 'inbox', kind: 'dataset', owner: 'bootstrap-admin', purposes: ['support'] });
  await h.call('POST', '/v1/resources', { name: 'vault', kind: 'dataset', owner: 'bootstrap-admin', classification: 'restricted', purposes: ['support'] });
  grantId = (await h.call('POST', '/v1/grants', { principal: 'lead', resource: 'inbox', actions: ['read'], purpose: 'support', duration_seconds: 3600, reason: 'x' })).body.id;
  // Restricted: granted only through an approved request.
  await approvedGrant(h, { principal: 'lead', resource: 'vault', actions: ['read'], purpose: 'support', durationSeconds: 3600 });
});
afterAll(async () => {
  await h?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('custos authz check', () => {
  it('describes every option and shows examples', async () => {
    const program = new Command('custos');
    registerAuthzCommands(program, capture().io);
    const check = program.commands[0]!.commands[0]!;
    expect(check.options.filter((o) => !o.description).map((o) => o.flags)).toEqual([]);
    const help = await custos(['authz', 'check', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/\nExamples:\n {2}custos authz check /);
  });

  it('an allow: which grant permitted, the simulated facts, the context, the recorded events; exit 0', async () => {
    const r = await custos(['authz', 'check', '--principal', 'lead', '--action', 'read', '--resource', 'inbox', '--purpose', 'support', '--source-ip', '10.0.0.9']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('decision: ALLOW\n');
    expect(r.stdout).toContain(`principal lead: allow\n  permitted by grant:${grantId}\n`);
    expect(r.stdout).toContain('simulated facts (stated, not seen): purpose=support source_ip=10.0.0.9\n');
    expect(r.stdout).toMatch(/context: \{.*"purpose":"support"/);
    expect(r.stdout).toMatch(/recorded as [0-9a-f-]{36} \(check [0-9a-f-]{36}\)/);
  });

  it('a deny: the forbidding guardrail, per-principal verdicts of a delegated request; exit 1 with one line on stderr', async () => {
    const forbid = await custos(['authz', 'check', '--principal', 'lead', '--action', 'read', '--resource', 'vault', '--purpose', 'support']);
    expect(forbid.code).toBe(1);
    expect(forbid.stdout).toContain('  forbidden by guardrail:restricted-needs-bound-token\n');
    expect(forbid.stderr).toBe('custos: denied (forbidden by guardrail:restricted-needs-bound-token)\n');
    expect((await custos(['authz', 'check', '--principal', 'lead', '--action', 'read', '--resource', 'vault', '--purpose', 'support', '--dpop-bound'])).code).toBe(0);

    const chain = await custos(['authz', 'check', '--principal', 'lead', '--action', 'read', '--resource', 'inbox', '--purpose', 'support', '--delegation-chain', 'helper']);
    expect(chain.code).toBe(1);
    expect(chain.stdout).toContain('principal lead: allow\n');
    expect(chain.stdout).toContain('principal helper: deny\n  no policy permitted it (default deny)\n');
    expect(chain.stderr).toBe('custos: denied (no policy permits helper)\n');

    const unknown = await custos(['authz', 'check', '--principal', 'ghost', '--action', 'read', '--resource', 'inbox']);
    expect(unknown.stdout).toContain('not evaluated: unknown_principal');
    expect(unknown.stderr).toBe('custos: denied (unknown_principal)\n');
  });

  it('--json carries the whole explanation; a posture assertion is read from @file and never echoed', async () => {
    const file = path.join(tmp, 'posture.jwt');
    fs.writeFileSync(file, 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln\n');
    const r = await custos(['--json', 'authz', 'check', '--principal', 'lead', '--action', 'read', '--resource', 'inbox', '--purpose', 'support', '--posture', `@${file}`]);
    expect(r.code, r.stderr).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body).toMatchObject({ decision: 'allow', permitted_by: [`grant:${grantId}`], simulated_facts: { purpose: 'support', posture_assertion: { presented: true } } });
    expect(r.stdout).not.toContain('eyJhbGciOiJFUzI1NiJ9');
    expect((await custos(['authz', 'check', '--principal', 'lead', '--action', 'read', '--resource', 'inbox', '--posture', '@/nonexistent/x'])).code).toBe(2);
  });

  it('usage and server errors: non-zero, one line', async () => {
    expect((await custos(['authz', 'check', '--principal', 'lead', '--action', 'read', '--resource', 'inbox', '--risk', '101'])).code).toBe(2);
    expect((await custos(['authz', 'check', '--action', 'read', '--resource', 'inbox'])).code).toBe(2);
    // Flag-level checks, before any request (exit 2, naming the flag).
    const noResource = await custos(['authz', 'check', '--principal', 'lead', '--action', 'read']);
    expect(noResource.code).toBe(2);
    expect(noResource.stderr).toBe("custos: --resource is required: 'read' is an asset action\n");
    const badAction = await custos(['authz', 'check', '--principal', 'lead', '--action', 'reed', '--resource', 'inbox']);
    expect(badAction.code).toBe(2);
    expect(badAction.stderr).toMatch(/--action must be an asset action \(invoke, read/);
    const managementWithResource = await custos(['authz', 'check', '--principal', 'lead', '--action', 'approve', '--resource', 'inbox']);
    expect(managementWithResource.code).toBe(2);
    expect(managementWithResource.stderr).toMatch(/'approve' is a management action on the Custos API: omit --resource/);
    expect((await custos(['authz', 'check', '--principal', 'lead', '--action', 'read', '--resource', 'inbox', '--resource-kind', 'modle'])).code).toBe(2);
    const auditor = await custos(['authz', 'check', '--principal', 'lead', '--action', 'read', '--resource', 'inbox'], await h.operator('aud-x', 'auditor'));
    expect(auditor.code).toBe(1);
    expect(auditor.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--auth-method operator (operator_token an alias) implies the operator-token credential; the device posture is explained', async () => {
    for (const method of ['operator', 'operator_token']) {
      const r = JSON.parse((await custos(['--json', 'authz', 'check', '--principal', 'lead', '--action', 'read', '--resource', 'inbox', '--purpose', 'support', '--auth-method', method])).stdout);
      expect(r.context.auth, method).toMatchObject({ method: 'operator', credential: 'operator_token' });
    }
    const apiKey = JSON.parse((await custos(['--json', 'authz', 'check', '--principal', 'lead', '--action', 'read', '--resource', 'inbox', '--auth-method', 'api_key'])).stdout);
    expect(apiKey.context.auth).toMatchObject({ method: 'api_key', credential: 'api_key' });
    const plain = await custos(['authz', 'check', '--principal', 'lead', '--action', 'read', '--resource', 'inbox', '--purpose', 'support']);
    expect(plain.stdout).toContain('device: unknown, source none: no device was presented (state --device or --posture)\n');
  });

  it('custos authz access: what a principal can do now, per resource, on stated facts', async () => {
    const r = await custos(['authz', 'access', 'lead', '--purpose', 'support']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('principal lead (agent, active); simulated facts: purpose=support\n');
    expect(r.stdout).toMatch(new RegExp(`inbox[\\s│]+dataset[\\s│]+internal[\\s│]+read[\\s│]+grant:${grantId}`));
    expect(r.stdout).not.toMatch(/vault/); // restricted: needs a bound token
    expect(r.stdout).toMatch(/\d+ resources walked; policy versions /);
    const bound = JSON.parse((await custos(['--json', 'authz', 'access', 'lead', '--purpose', 'support', '--dpop-bound', '--resource-kind', 'dataset', '--limit', '1', '--all'])).stdout);
    expect(bound.items.map((i: { resource: { name: string } }) => i.resource.name).sort()).toEqual(['inbox', 'vault']);
    expect(bound.simulated_facts).toEqual({ purpose: 'support', dpop_bound: true });
    expect((await custos(['authz', 'access', 'lead'])).stdout).toContain('(none)'); // the grants need the purpose
    const missing = await custos(['authz', 'access', 'ghost']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect((await custos(['authz', 'access', 'lead', '--limit', '101'])).code).toBe(2);
  });

  it('as a user runs it (bin/custos.js from dist)', async () => {
    const env = { CUSTOS_SERVER: url, CUSTOS_TOKEN: h.adminToken, CUSTOS_DATA_DIR: tmp };
    const r = await runCustos(['authz', 'check', '--principal', 'lead', '--action', 'read', '--resource', 'inbox', '--purpose', 'support'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`permitted by grant:${grantId}`);
    const denied = await runCustos(['authz', 'check', '--principal', 'lead', '--action', 'write', '--resource', 'inbox'], env);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toBe('custos: denied (no policy permits lead)\n');
  });
});
