import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateLogKey } from '../../src/audit/log-key.js';
import { signCheckpoint } from '../../src/audit/checkpoint.js';
import { verifyStore } from '../../src/audit/verify-store.js';
import { createKeyRing, loadMasterKey } from '../../src/platform/keys.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { asAttacker } from '../support/tamper.js';

// The tamper matrix: each manipulation of the stored log is detected and the first bad position named.

async function buildLog(h: Harness, humans: number, checkpointEach = false): Promise<void> {
  for (let i = 0; i < humans; i++) {
    const res = await h.call('POST', '/v1/principals', { name: `person-${i}`, kind: 'human' });
    expect(res.status).toBe(201);
    if (checkpointEach) await h.cp.checkpointer.checkpointNow();
  }
  await h.cp.checkpointer.checkpointNow();
}

/** The event that created the named principal (its position depends on what start-up recorded before it). */
async function eventNaming(h: Harness, name: string): Promise<{ seq: number; canonical: string }> {
  const rows = await h.cp.db.kysely.selectFrom('audit_events').select(['seq', 'canonical']).where('type', '=', 'principal.created').orderBy('seq').execute();
  const row = rows.find((r) => r.canonical.includes(`"${name}"`));
  if (!row) throw new Error(`no principal.created event for ${name}`);
  return { seq: Number(row.seq), canonical: row.canonical };
}

async function size(h: Harness): Promise<number> {
  const rows = await h.cp.db.kysely.selectFrom('audit_events').select('seq').execute();
  return rows.length;
}

async function latestNote(h: Harness): Promise<string> {
  const row = await h.cp.db.kysely.selectFrom('audit_checkpoints').select('note').orderBy('tree_size', 'desc').limit(1).executeTakeFirstOrThrow();
  return row.note;
}

const verify = (h: Harness, against: string[] = []) => verifyStore({ dataDir: h.dataDir, databaseUrl: h.databaseUrl, against });

for (const backend of BACKENDS) {
  describe(`audit tamper matrix on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness | undefined;
    afterEach(async () => { await h?.close(); h = undefined; });

    it.runIf(enabled)('an untouched log verifies', async () => {
      h = await startHarness(backend);
      await buildLog(h, 5);
      const r = await verify(h);
      expect(r.ok).toBe(true);
      expect(r.size).toBe(await size(h));
    });

    it.runIf(enabled)('refuses UPDATE and DELETE on audit tables', async () => {
      h = await startHarness(backend);
      await buildLog(h, 1);
      await expect(h.cp.db.kysely.updateTable('audit_events').set({ type: 'x' }).where('seq', '=', 0).execute()).rejects.toThrow(/append-only/);
      await expect(h.cp.db.kysely.deleteFrom('audit_events').where('seq', '=', 0).execute()).rejects.toThrow(/append-only/);
      await expect(h.cp.db.kysely.deleteFrom('audit_checkpoints').execute()).rejects.toThrow(/append-only/);
    });

    it.runIf(enabled)('detects an edited event at its sequence number', async () => {
      h = await startHarness(backend);
      await buildLog(h, 6);
      const row = await eventNaming(h, 'person-2');
      await asAttacker(h.cp.db, (q) => q.updateTable('audit_events').set({ canonical: row.canonical.replace('person-', 'persom-') }).where('seq', '=', row.seq).execute().then(() => undefined));
      const r = await verify(h);
      expect(r.ok).toBe(false);
      expect(r.firstBadSeq).toBe(row.seq);
      expect(r.problems[0]!.kind).toBe('edited');
    });

    it.runIf(enabled)('detects an edit that also rewrote the stored leaf hash, through the signed roots', async () => {
      h = await startHarness(backend);
      await buildLog(h, 6, true);
      const { hashLeafText } = await import('../../src/audit/merkle.js');
      const row = await eventNaming(h, 'person-3');
      const forged = row.canonical.replace('"success"', '"failure"');
      expect(forged).not.toBe(row.canonical);
      await asAttacker(h.cp.db, (q) => q.updateTable('audit_events').set({ canonical: forged, leaf_hash: hashLeafText(forged).toString('hex') }).where('seq', '=', row.seq).execute().then(() => undefined));
      const r = await verify(h);
      expect(r.ok).toBe(false);
      // With a checkpoint after every event the signed roots pin the edit to exactly one position.
      expect(r.firstBadSeq).toBe(row.seq);
    });

    it.runIf(enabled)('detects a deleted event at its sequence number', async () => {
      h = await startHarness(backend);
      await buildLog(h, 6);
      await asAttacker(h.cp.db, (q) => q.deleteFrom('audit_events').where('seq', '=', 5).execute().then(() => undefined));
      const r = await verify(h);
      expect(r.ok).toBe(false);
      expect(r.firstBadSeq).toBe(5);
      expect(r.problems[0]!.kind).toBe('deleted');
    });

    it.runIf(enabled)('detects two reordered events', async () => {
      h = await startHarness(backend);
      await buildLog(h, 6);
      const rows = await h.cp.db.kysely.selectFrom('audit_events').selectAll().where('seq', 'in', [3, 6]).orderBy('seq').execute();
      await asAttacker(h.cp.db, async (q) => {
        await q.updateTable('audit_events').set({ canonical: rows[1]!.canonical, leaf_hash: rows[1]!.leaf_hash }).where('seq', '=', 3).execute();
        await q.updateTable('audit_events').set({ canonical: rows[0]!.canonical, leaf_hash: rows[0]!.leaf_hash }).where('seq', '=', 6).execute();
      });
      const r = await verify(h);
      expect(r.ok).toBe(false);
      expect(r.firstBadSeq).toBe(3);
    });

    it.runIf(enabled)('detects a truncated tail', async () => {
      h = await startHarness(backend);
      await buildLog(h, 6);
      const n = await size(h);
      await asAttacker(h.cp.db, (q) => q.deleteFrom('audit_events').where('seq', '>=', n - 3).execute().then(() => undefined));
      const r = await verify(h);
      expect(r.ok).toBe(false);
      expect(r.firstBadSeq).toBe(n - 3);
      expect(r.problems.map((p) => p.kind)).toContain('truncated');
    });

    it.runIf(enabled)('detects a rollback (events and checkpoints removed) against a checkpoint saved elsewhere', async () => {
      h = await startHarness(backend);
      await buildLog(h, 3);
      const before = await size(h);
      await buildLog(h, 0);
      for (let i = 10; i < 14; i++) await h.call('POST', '/v1/principals', { name: `later-${i}`, kind: 'human' });
      await h.cp.checkpointer.checkpointNow();
      const saved = await latestNote(h);
      await asAttacker(h.cp.db, async (q) => {
        await q.deleteFrom('audit_events').where('seq', '>=', before).execute();
        await q.deleteFrom('audit_delegation').where('seq', '>=', before).execute();
        await q.deleteFrom('audit_checkpoints').where('tree_size', '>', before).execute();
        await q.deleteFrom('audit_nodes').execute();
        await q.deleteFrom('meta').where('key', 'in', ['audit_next_seq', 'audit_verified_state']).execute();
      });
      expect((await verify(h)).ok).toBe(true); // consistent on its own: only the outside checkpoint reveals it
      const r = await verify(h, [saved]);
      expect(r.ok).toBe(false);
      expect(r.problems.map((p) => p.kind)).toContain('rollback');
      expect(r.firstBadSeq).toBe(before);
    });

    // Queried columns: each edit would hide the event from a filtered query while the tree still verifies.
    const columnEdits: Array<[string, string | null, (seq: number) => string]> = [
      ['type', 'principal.viewed', () => '/v1/audit/events?type=principal.created&limit=200'],
      ['outcome', 'failure', () => '/v1/audit/events?outcome=success&limit=200'],
      ['decision', 'deny', () => '/v1/audit/events?limit=200'],
      ['time', '1999-01-01T00:00:00.000Z', () => `/v1/audit/events?since=${encodeURIComponent('2000-01-01T00:00:00.000Z')}&limit=200`],
      ['actor_principal_id', 'nobody', () => '/v1/audit/events?limit=200'],
      ['actor_credential_id', null, () => '/v1/audit/events?limit=200'],
      ['target_id', 'elsewhere', () => '/v1/audit/events?limit=200'],
      ['target_type', 'resource', () => '/v1/audit/events?limit=200'],
      ['id', 'forged-id', () => '/v1/audit/events?limit=200'],
    ];
    for (const [column, value] of columnEdits) {
      it.runIf(enabled)(`detects an edited query column (${column}) at its sequence number, offline and through the API`, async () => {
        h = await startHarness(backend);
        await buildLog(h, 4);
        const seq = (await h.cp.db.kysely.selectFrom('audit_events').select('seq').where('type', '=', 'principal.created').orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow()).seq;
        await asAttacker(h.cp.db, (q) => q.updateTable('audit_events').set({ [column]: value } as never).where('seq', '=', seq).execute().then(() => undefined));
        const r = await verify(h);
        expect(r.ok).toBe(false);
        expect(r.firstBadSeq).toBe(Number(seq));
        expect(r.problems[0]).toMatchObject({ kind: 'column-edited', seq: Number(seq), column });
        const api = await h.call('POST', '/v1/audit/verify', {});
        expect(api.status).toBe(200);
        expect(api.body.ok).toBe(false);
        expect(api.body.firstBadSeq).toBe(Number(seq));
      });
    }

    it.runIf(enabled)('a type edit really hides the event from a filtered query, and verification names it', async () => {
      h = await startHarness(backend);
      await buildLog(h, 3);
      const before = await h.call('GET', '/v1/audit/events?type=principal.created&limit=100');
      const seq = before.body.items[0].seq as number;
      await asAttacker(h.cp.db, (q) => q.updateTable('audit_events').set({ type: 'principal.viewed' }).where('seq', '=', seq).execute().then(() => undefined));
      const after = await h.call('GET', '/v1/audit/events?type=principal.created&limit=100');
      expect(after.body.items.map((e: { seq: number }) => e.seq)).not.toContain(seq);
      expect((await verify(h)).firstBadSeq).toBe(seq);
    });

    it.runIf(enabled)('detects a deleted or added audit_delegation row (delegation_ancestor queries) at its sequence number', async () => {
      h = await startHarness(backend);
      await buildLog(h, 4);
      const row = await h.cp.db.kysely.selectFrom('audit_delegation').selectAll().orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
      const ancestor = `/v1/audit/events?delegation_ancestor=${encodeURIComponent(row.principal_id)}&limit=200`;
      expect((await h.call('GET', ancestor)).body.items.map((e: { seq: number }) => e.seq)).toContain(Number(row.seq));
      await asAttacker(h.cp.db, (q) => q.deleteFrom('audit_delegation').where('seq', '=', row.seq).where('principal_id', '=', row.principal_id).execute().then(() => undefined));
      expect((await h.call('GET', ancestor)).body.items.map((e: { seq: number }) => e.seq)).not.toContain(Number(row.seq));
      const r = await verify(h);
      expect(r.ok).toBe(false);
      expect(r.firstBadSeq).toBe(Number(row.seq));
      expect(r.problems[0]).toMatchObject({ kind: 'column-edited', column: 'audit_delegation' });
      // Put back, and add one for a principal the event never named.
      await asAttacker(h.cp.db, async (q) => {
        await q.insertInto('audit_delegation').values(row).execute();
        await q.insertInto('audit_delegation').values({ seq: 1, principal_id: row.principal_id === 'x' ? 'y' : 'x' }).execute();
      });
      const r2 = await verify(h);
      expect(r2.firstBadSeq).toBe(1);
      expect(r2.problems).toEqual([expect.objectContaining({ kind: 'column-edited', seq: 1, column: 'audit_delegation' })]);
    });

    it.runIf(enabled)('detects two different signed roots for one size (split view)', async () => {
      h = await startHarness(backend);
      await buildLog(h, 3);
      const n = await size(h);
      const keys = createKeyRing(loadMasterKey(h.dataDir, undefined)!);
      const key = await loadOrCreateLogKey(h.cp.db, keys);
      const forged = signCheckpoint({ origin: key.origin, size: n, rootHash: Buffer.alloc(32, 7) }, key.signer);
      const r = await verify(h, [forged]);
      expect(r.ok).toBe(false);
      expect(r.problems.map((p) => p.kind)).toContain('split-view');
    });
  });
}

describe('rollback of a SQLite store to an earlier file copy', () => {
  it('is detected against a checkpoint saved before the rollback', async () => {
    const h = await startHarness('sqlite');
    try {
      await buildLog(h, 3);
      const before = await size(h);
      const backup = fs.mkdtempSync(path.join(path.dirname(h.dataDir), 'custos-backup-'));
      // A consistent copy, as a backup tool would take.
      await (await import('kysely')).sql.raw(`vacuum into '${path.join(backup, 'custos.db')}'`).execute(h.cp.db.kysely);
      for (let i = 0; i < 4; i++) await h.call('POST', '/v1/principals', { name: `after-backup-${i}`, kind: 'human' });
      await h.cp.checkpointer.checkpointNow();
      const saved = await latestNote(h);
      const r = await verifyStore({ dataDir: backup, against: [saved] });
      expect(r.ok).toBe(false);
      expect(r.problems.map((p) => p.kind)).toContain('rollback');
      expect(r.firstBadSeq).toBe(before);
      fs.rmSync(backup, { recursive: true, force: true });
    } finally {
      await h.close();
    }
  });
});
