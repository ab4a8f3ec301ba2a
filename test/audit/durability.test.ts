import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { verifyStore } from '../../src/audit/verify-store.js';
import { openDatabase } from '../../src/platform/store/db.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness } from '../support/harness.js';

const STORM = path.resolve(import.meta.dirname, '../fixtures/audit-storm.mjs');

describe('audit durability under SIGKILL (SQLite, synchronous=FULL, group commit)', () => {
  it('keeps every acknowledged event and still verifies after a kill -9 mid-storm', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-crash-'));
    const child = spawn(process.execPath, [STORM, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked = new Set<number>();
    let buffer = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('storm child produced too few acks')), 20_000);
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) if (line.startsWith('ack ')) acked.add(Number(line.slice(4)));
        if (acked.size >= 3000) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', () => reject(new Error('storm child exited early')));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const db = openDatabase({ dataDir, databaseUrl: undefined });
    const rows = await db.kysely.selectFrom('audit_events').select('seq').execute();
    await db.close();
    const stored = new Set(rows.map((r) => Number(r.seq)));
    const missing = [...acked].filter((s) => !stored.has(s));
    expect(missing).toEqual([]);
    expect(stored.size).toBeGreaterThanOrEqual(acked.size);

    const report = await verifyStore({ dataDir });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});

for (const backend of BACKENDS) {
  describe(`audit outage on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());

    it.runIf(enabled)('fails governed changes closed with 503 and turns /readyz red when the audit table cannot be written', async () => {
      const h = await startHarness(backend);
      try {
        expect((await h.call('POST', '/v1/principals', { name: 'owner-one', kind: 'human' })).status).toBe(201);
        await sql`alter table audit_events rename to audit_events_away`.execute(h.cp.db.kysely);
        const res = await h.call('POST', '/v1/principals', { name: 'unrecorded', kind: 'human' });
        expect(res.status).toBe(503);
        expect(res.body.code).toBe('audit_unavailable');
        const ready = await h.call('GET', '/readyz', undefined, null);
        expect(ready.status).toBe(503);
        expect(ready.body.checks.audit_writes.ok).toBe(false);
        // Nothing was written without its record.
        const row = await h.cp.db.kysely.selectFrom('principals').select('id').where('name', '=', 'unrecorded').executeTakeFirst();
        expect(row).toBeUndefined();

        await sql`alter table audit_events_away rename to audit_events`.execute(h.cp.db.kysely);
        expect((await h.call('POST', '/v1/principals', { name: 'recorded', kind: 'human' })).status).toBe(201);
        expect((await h.call('GET', '/readyz', undefined, null)).status).toBe(200);
      } finally {
        await h.close();
      }
    });
  });
}
