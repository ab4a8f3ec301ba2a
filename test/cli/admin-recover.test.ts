import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createControlPlane } from '../../src/app.js';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { runCustos, type CliResult } from '../support/cli-process.js';

// The documented way out of an admin lockout: a host operator with the data dir and master key mints a fresh
// admin token with `custos admin recover`; the recovery is audited, and nothing else can reach it.

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-recover-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function custos(args: string[]): Promise<CliResult> {
  return runCustos(args, { HOME: tmp });
}

async function open(dataDir: string) {
  const cp = await createControlPlane(loadConfig({ dataDir, port: '0', logLevel: 'silent' }, {}), { logger: createLogger('silent') });
  const call = async (method: string, url: string, token: string, body?: unknown) => {
    const r = await cp.http.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, payload: body ? JSON.stringify(body) : undefined });
    return { status: r.statusCode, body: r.json() as any };
  };
  return { cp, call };
}

describe('custos admin recover', () => {
  it('mints a working admin token for a new or existing human, recorded in the audit log as system:cli_local', async () => {
    const dataDir = path.join(tmp, 'store');
    expect((await custos(['init', '--data-dir', dataDir, '--log-level', 'silent'])).code).toBe(0);
    // Lock ourselves out: the bootstrap admin is the only admin; take its token file away.
    fs.rmSync(path.join(dataDir, 'bootstrap-admin.token'));

    const r = await custos(['admin', 'recover', '--data-dir', dataDir, 'oncall', '--create', '--reason', 'bootstrap token lost', '--ttl', '3600']);
    expect(r.code, r.stderr).toBe(0);
    const token = r.stdout.trim();
    expect(token).toMatch(/^custos_op_[a-z2-7]{16}_/);
    expect(r.stderr).toMatch(/admin token [a-z2-7]{16} for 'oncall' \(registered now\)/);

    const { cp, call } = await open(dataDir);
    try {
      const me = await call('GET', '/v1/whoami', token);
      expect([me.status, me.body.principal_name, me.body.role]).toEqual([200, 'oncall', 'admin']);
      const events = await call('GET', '/v1/audit/events?type=operator.admin_recovered', token);
      expect(events.status).toBe(200);
      expect(events.body.items).toHaveLength(1);
      expect(events.body.items[0]).toMatchObject({ actor: { principal_name: 'system:cli_local', auth_method: 'cli_local' }, target: { name: 'oncall' } });
      expect(JSON.stringify(events.body.items[0])).not.toContain(token);
    } finally {
      await cp.close();
    }

    // A second recovery for the same, now existing, human works without --create.
    const again = await custos(['admin', 'recover', '--data-dir', dataDir, 'oncall', '--reason', 'second']);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('registered now');
  });

  it('refuses to create a store, to run without a reason, or to give a token to a non-human', async () => {
    const empty = path.join(tmp, 'empty');
    const none = await custos(['admin', 'recover', '--data-dir', empty, 'x', '--create', '--reason', 'r']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no initialised Custos store/);
    expect(fs.existsSync(empty)).toBe(false);
    expect((await custos(['admin', 'recover', '--data-dir', empty, 'x'])).code).toBe(2);

    const dataDir = path.join(tmp, 'store2');
    expect((await custos(['init', '--data-dir', dataDir, '--log-level', 'silent'])).code).toBe(0);
    const admin = fs.readFileSync(path.join(dataDir, 'bootstrap-admin.token'), 'utf8').trim();
    const { cp, call } = await open(dataDir);
    try {
      expect((await call('POST', '/v1/principals', admin, { name: 'owner-h', kind: 'human' })).status).toBe(201);
      expect((await call('POST', '/v1/principals', admin, { name: 'bot', kind: 'agent', owner: 'owner-h' })).status).toBe(201);
    } finally {
      await cp.close();
    }
    const agent = await custos(['admin', 'recover', '--data-dir', dataDir, 'bot', '--reason', 'r']);
    expect(agent.code).toBe(1);
    expect(agent.stderr).toMatch(/principal_not_human|not one/);
    const missing = await custos(['admin', 'recover', '--data-dir', dataDir, 'ghost', '--reason', 'r']);
    expect(missing.code).toBe(1);
  });
});
