import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlPlane, type ControlPlane } from '../../src/app.js';
import { manualClock } from '../../src/platform/clock.js';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { BACKENDS, freshPostgresDatabase, postgresReachable } from '../support/backends.js';

// A raw operator token exists only in the response that mints it (and the bootstrap file): never in the
// store, never in a log line, at the most verbose log level.

for (const backend of BACKENDS) {
  describe(`token secrecy on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let cp: ControlPlane;
    let dataDir: string;
    let drop: (() => Promise<void>) | undefined;
    const logs: string[] = [];
    const tokens: string[] = [];

    const call = async (method: string, url: string, body: unknown, token: string) => {
      const res = await cp.http.inject({
        method: method as 'GET', url, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        payload: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
    };

    beforeAll(async () => {
      if (!enabled) return;
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-secrecy-'));
      const pgdb = backend === 'postgres' ? await freshPostgresDatabase() : undefined;
      drop = pgdb?.drop;
      const sink = new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done(); } });
      const config = loadConfig({ dataDir, databaseUrl: pgdb?.url, port: '0', logLevel: 'trace' }, {});
      cp = await createControlPlane(config, { clock: manualClock(new Date()), logger: createLogger('trace', sink) });
      const admin = cp.bootstrap!.token;
      tokens.push(admin);
      await call('POST', '/v1/principals', { name: 'ops', kind: 'human' }, admin);
      for (const role of ['admin', 'security', 'auditor', 'owner']) {
        const t = await call('POST', '/v1/operator-tokens', { principal: 'ops', role, ttl_seconds: 600, description: 'secrecy' }, admin);
        expect(t.status).toBe(201);
        tokens.push(t.body.token);
        // Used, listed, and the last one revoked and then presented again.
        expect((await call('GET', '/v1/whoami', undefined, t.body.token)).status).toBe(200);
      }
      const last = await call('GET', '/v1/operator-tokens', undefined, admin);
      expect(last.status).toBe(200);
      const victim = tokens[tokens.length - 1]!;
      const id = /^custos_op_([a-z2-7]{16})_/.exec(victim)![1]!;
      await call('POST', `/v1/operator-tokens/${id}/revoke`, { reason: 'leaked' }, admin);
      expect((await call('GET', '/v1/whoami', undefined, victim)).status).toBe(401);
      // A request that fails validation and one that is forbidden, with the token in the header.
      await call('POST', '/v1/principals', { name: 'Bad Name', kind: 'agent' }, tokens[1]!);
      await call('POST', '/v1/operator-tokens', { principal: 'ops', role: 'admin' }, tokens[3]!);
    });
    afterAll(async () => {
      await cp?.close();
      await drop?.();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    });

    const secretPart = (t: string) => t.split('_')[3]!;

    it.runIf(enabled)('the store holds only hashes: no table and no database file contains a raw token or its secret', async () => {
      expect(tokens).toHaveLength(5);
      let haystack = '';
      const tables = cp.db.dialect === 'sqlite'
        ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(cp.db.kysely)).rows.map((r) => r.name)
        : (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(cp.db.kysely)).rows.map((r) => r.name);
      expect(tables).toEqual(expect.arrayContaining(['operator_tokens', 'audit_events', 'principals']));
      for (const t of tables) {
        const rows = await sql<Record<string, unknown>>`select * from ${sql.table(t)}`.execute(cp.db.kysely);
        haystack += JSON.stringify(rows.rows);
      }
      const stored = await cp.db.kysely.selectFrom('operator_tokens').select(['secret_hash']).execute();
      expect(stored.length).toBe(5);
      for (const r of stored) expect(r.secret_hash).toMatch(/^[0-9a-f]{64}$/);
      for (const t of tokens) {
        expect(haystack).not.toContain(t);
        expect(haystack).not.toContain(secretPart(t));
      }
      // Every file in the data dir except the bootstrap token file (which exists to hand that one token over).
      for (const file of fs.readdirSync(dataDir)) {
        if (file === 'bootstrap-admin.token') continue;
        const bytes = fs.readFileSync(path.join(dataDir, file)).toString('latin1');
        for (const t of tokens) expect(bytes.includes(secretPart(t)), `${file} contains a token secret`).toBe(false);
      }
      expect(fs.readFileSync(path.join(dataDir, 'bootstrap-admin.token'), 'utf8').trim()).toBe(tokens[0]);
      expect(fs.statSync(path.join(dataDir, 'bootstrap-admin.token')).mode & 0o777).toBe(0o600);
    });

    it.runIf(enabled)('no log line carries a token or its secret, even at trace level', () => {
      const text = logs.join('');
      expect(text.length).toBeGreaterThan(1000);
      expect(text).toContain('"reqId"');
      for (const t of tokens) {
        expect(text).not.toContain(t);
        expect(text).not.toContain(secretPart(t));
      }
    });
  });
}
