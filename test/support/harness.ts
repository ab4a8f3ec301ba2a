import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createControlPlane, type ControlPlane } from '../../src/app.js';
import { manualClock } from '../../src/platform/clock.js';
import { loadConfig, type ConfigInput } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { freshPostgresDatabase, type Backend } from './backends.js';

// Builds a real control plane (real store, real HTTP app via inject) for tests.

export interface Harness {
  cp: ControlPlane;
  clock: ReturnType<typeof manualClock>;
  adminToken: string;
  dataDir: string;
  databaseUrl: string | undefined;
  /** JSON request with a bearer token (admin by default). */
  call(method: string, url: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any; headers: Record<string, unknown>; text: string }>;
  /** Creates a human with an operator token of the given role; returns the token. */
  operator(name: string, role: 'admin' | 'security' | 'auditor' | 'owner'): Promise<string>;
  close(): Promise<void>;
}

export async function startHarness(backend: Backend, opts: { masterKey?: string; dataDir?: string; settings?: ConfigInput } = {}): Promise<Harness> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'custos-test-'));
  const pgdb = backend === 'postgres' ? await freshPostgresDatabase() : undefined;
  const config = loadConfig({ gatewayPort: '0', ...opts.settings, dataDir, databaseUrl: pgdb?.url, port: '0', logLevel: 'silent' }, opts.masterKey ? { CUSTOS_MASTER_KEY: opts.masterKey } : {});
  const clock = manualClock(new Date());
  const cp = await createControlPlane(config, { clock, logger: createLogger('silent') });
  const adminToken = cp.bootstrap!.token;

  const call: Harness['call'] = async (method, url, body, token = adminToken) => {
    const res = await cp.http.inject({
      method: method as any,
      url,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    let parsed: unknown;
    try { parsed = JSON.parse(res.body); } catch { parsed = undefined; }
    return { status: res.statusCode, body: parsed, headers: res.headers, text: res.body };
  };

  return {
    cp, clock, adminToken, dataDir, databaseUrl: pgdb?.url, call,
    async operator(name, role) {
      const p = await call('POST', '/v1/principals', { name, kind: 'human' });
      if (p.status !== 201) throw new Error(`could not create ${name}: ${p.text}`);
      const t = await call('POST', '/v1/operator-tokens', { principal: name, role });
      if (t.status !== 201) throw new Error(`could not mint token: ${t.text}`);
      return t.body.token as string;
    },
    async close() {
      await cp.close();
      await pgdb?.drop();
      if (!opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
