import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlPlane, type ControlPlane } from '../../src/app.js';
import { manualClock } from '../../src/platform/clock.js';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { BACKENDS, freshPostgresDatabase, postgresReachable } from '../support/backends.js';

// The provider key never reaches the server log. A control plane whose logger writes everything (level trace) to
// memory serves a whole upstream life — creation, rotation, refused input carrying the key in every field it could
// be pasted into, a route, a seal that no longer opens — and the log is searched for the keys afterwards. (The
// harness logs nothing, so this file builds its control plane itself, the way the harness does.)

for (const backend of BACKENDS) {
  describe(`upstream keys and the server log on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let cp: ControlPlane;
    let token: string;
    let dataDir: string;
    let drop: (() => Promise<void>) | undefined;
    let log = '';
    const sink = new Writable({ write(chunk, _enc, done) { log += String(chunk); done(); } });

    beforeAll(async () => {
      if (!enabled) return;
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-upstream-logs-'));
      const pgdb = backend === 'postgres' ? await freshPostgresDatabase() : undefined;
      drop = pgdb?.drop;
      const config = loadConfig({ dataDir, databaseUrl: pgdb?.url, port: '0', logLevel: 'trace' }, {});
      cp = await createControlPlane(config, { clock: manualClock(new Date()), logger: createLogger('trace', sink) });
      token = cp.bootstrap!.token;
    });
    afterAll(async () => {
      await cp?.close();
      await drop?.();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    });

    const call = async (method: string, url: string, body?: unknown) => {
      const res = await cp.http.inject({
        method: method as 'GET', url,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.statusCode, text: res.body };
    };

    it.runIf(enabled)('no key given in any request, accepted or refused, appears in the log', async () => {
      const keys = Array.from({ length: 4 }, (_, i) => `sk-log${i}-${crypto.randomBytes(18).toString('hex')}`);
      const [first, second, refused, pasted] = keys as [string, string, string, string];
      expect((await call('POST', '/v1/resources', { name: 'gpt', kind: 'model', owner: 'bootstrap-admin' })).status).toBe(201);

      expect((await call('POST', '/v1/upstreams', { name: 'openai', provider: 'openai', base_url: 'https://api.openai.com/v1', key: first, models: { gpt: 'gpt-4o' } })).status).toBe(201);
      expect((await call('PATCH', '/v1/upstreams/openai', { key: second, reason: 'rotation' })).status).toBe(200);
      expect((await cp.gateway.upstreams.routeFor('gpt'))!.key).toBe(second);

      // Refused requests with the key where it does not belong, or malformed around it.
      for (const [body, status] of [
        [{ name: 'o2', provider: 'openai', base_url: `https://u:${pasted}@api.openai.com`, key: refused }, 422],
        [{ name: 'o3', provider: 'openai', base_url: 'https://api.openai.com', key: `${refused} tail` }, 400],
        [{ name: 'o4', provider: 'openai', base_url: 'https://api.openai.com', key: `${refused}\n` }, 400],
        [{ name: 'o5', provider: 'openai', base_url: 'https://api.openai.com', api_key: refused }, 400],
        [{ name: 'o6', provider: refused, base_url: 'https://api.openai.com', key: refused }, 400],
        [`{"name":"o7","provider":"openai","key":"${refused}",`, 400],
      ] as const) {
        const r = await call('POST', '/v1/upstreams', body);
        expect(r.status, r.text).toBe(status);
        expect(r.text).not.toContain(refused.slice(3));
        expect(r.text).not.toContain(pasted.slice(3));
      }
      expect((await call('PATCH', '/v1/upstreams/openai', { key: refused, remove_key: true })).status).toBe(400);

      // A seal that no longer opens is logged by upstream, never with key material.
      const other = await cp.db.kysely.selectFrom('upstreams').select(['id', 'key_sealed']).where('name', '=', 'openai').executeTakeFirstOrThrow();
      await cp.db.kysely.updateTable('upstreams').set({ key_sealed: other.key_sealed!.replace(/^v1\.[^.]+/, 'v1.AAAAAAAAAAAAAAAA') }).where('id', '=', other.id).execute();
      await expect(cp.gateway.upstreams.routeFor('gpt')).rejects.toThrow(/cannot be opened/);

      expect(log).toContain('upstream key cannot be opened with this master key');
      expect(log).toContain('"url":"/v1/upstreams"'); // the request log is really on
      for (const k of keys) expect(log.includes(k.slice(3)), k).toBe(false);
    });
  });
}
