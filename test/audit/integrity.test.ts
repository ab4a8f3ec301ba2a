import { afterEach, describe, expect, it } from 'vitest';
import { hashLeafText } from '../../src/audit/merkle.js';
import { verifyStore } from '../../src/audit/verify-store.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { asAttacker } from '../support/tamper.js';
import { restart, type Restarted } from './restart.js';

// A server started over a tampered log (or finding it while running) refuses governed writes and is not
// ready until an audited recovery; sequence numbers are never reused; the recovery hides nothing.

async function buildLog(h: Harness, humans: number, prefix = 'person'): Promise<void> {
  for (let i = 0; i < humans; i++) {
    const res = await h.call('POST', '/v1/principals', { name: `${prefix}-${i}`, kind: 'human' });
    expect(res.status).toBe(201);
  }
  await h.cp.checkpointer.checkpointNow();
}

const stored = async (h: Harness) => (await h.cp.db.kysely.selectFrom('audit_events').select('seq').orderBy('seq').execute()).map((r) => Number(r.seq));
const lastSeq = async (h: Harness) => Math.max(...(await stored(h)));
const canonicalAt = async (h: Harness, seq: number) => (await h.cp.db.kysely.selectFrom('audit_events').select('canonical').where('seq', '=', seq).executeTakeFirstOrThrow()).canonical;

async function expectRefusing(s: Restarted, seq: number | null, kind: string): Promise<void> {
  const w = await s.call('POST', '/v1/principals', { name: `refused-${Math.random().toString(36).slice(2, 8)}`, kind: 'human' });
  expect(w.status).toBe(503);
  expect(w.body.code).toBe('audit_integrity_failed');
  expect(w.body.first_bad_seq ?? w.body.extensions?.first_bad_seq).toBe(seq);
  expect(w.body.kind ?? w.body.extensions?.kind).toBe(kind);
  const list = await s.call('GET', '/v1/principals?limit=500');
  expect(list.body.items.map((p: { name: string }) => p.name).filter((n: string) => n.startsWith('refused-'))).toEqual([]);
  const ready = await s.call('GET', '/readyz');
  expect(ready.status).toBe(503);
  expect(ready.body.checks.audit_checkpoints.ok).toBe(false);
  expect(ready.body.checks.audit_checkpoints.detail).toContain(kind);
}

for (const backend of BACKENDS) {
  describe(`audit integrity at start and while running on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness | undefined;
    let s: Restarted | undefined;
    afterEach(async () => {
      await s?.close();
      s = undefined;
      await h?.close();
      h = undefined;
    });

    it.runIf(enabled)('an intact log starts ready and accepts writes; recover says there is nothing to recover (409)', async () => {
      h = await startHarness(backend);
      await buildLog(h, 3);
      s = await restart(h);
      await s.startUp();
      expect((await s.call('GET', '/readyz')).status).toBe(200);
      expect((await s.call('POST', '/v1/principals', { name: 'after-restart', kind: 'human' })).status).toBe(201);
      const r = await s.call('POST', '/v1/audit/recover', { reason: 'nothing wrong' });
      expect(r.status).toBe(409);
      expect(r.body.code).toBe('recovery_not_needed');
      expect((await s.call('GET', '/v1/audit/events?type=audit.recovered')).body.items).toEqual([]);
    });

    it.runIf(enabled)('events written after the last checkpoint and edited while stopped: found by the start-up check', async () => {
      h = await startHarness(backend);
      await buildLog(h, 3);
      // Acknowledged but not yet signed when the server stopped (a crash: no shutdown checkpoint).
      for (let i = 0; i < 2; i++) expect((await h.call('POST', '/v1/principals', { name: `late-${i}`, kind: 'human' })).status).toBe(201);
      const seq = await lastSeq(h);
      const forged = (await canonicalAt(h, seq)).replace('late-1', 'late-X');
      await asAttacker(h.cp.db, (q) => q.updateTable('audit_events').set({ canonical: forged }).where('seq', '=', seq).execute().then(() => undefined));
      s = await restart(h);
      await s.startUp();
      await expectRefusing(s, seq, 'edited');
      expect(s.cp.checkpointer.failure()).toMatchObject({ kind: 'edited', first_bad_seq: seq, detected_by: 'start' });
    });

    it.runIf(enabled)('an old event edited while stopped (before the verified marker): the background full verification finds it', async () => {
      h = await startHarness(backend);
      await buildLog(h, 4);
      const seq = (await stored(h))[3]!;
      await asAttacker(h.cp.db, (q) => q.updateTable('audit_events').set({ outcome: 'failure' }).where('seq', '=', seq).execute().then(() => undefined));
      s = await restart(h);
      await s.startUp();
      const f = await s.cp.checkpointer.verifyAll();
      expect(f).toMatchObject({ kind: 'column-edited', first_bad_seq: seq });
      await expectRefusing(s, seq, 'column-edited');
    });

    it.runIf(enabled)('a deleted tail (even past the last checkpoint): writes refused at once, sequence numbers never reused', async () => {
      h = await startHarness(backend);
      await buildLog(h, 2);
      for (let i = 0; i < 3; i++) expect((await h.call('POST', '/v1/principals', { name: `tail-${i}`, kind: 'human' })).status).toBe(201);
      const last = await lastSeq(h);
      await asAttacker(h.cp.db, (q) => q.deleteFrom('audit_events').where('seq', '>=', last - 2).execute().then(() => undefined));
      s = await restart(h);
      // Before any checkpoint tick: the writer itself sees the high-water mark above the stored events.
      const w = await s.call('POST', '/v1/principals', { name: 'would-reuse', kind: 'human' });
      expect(w.status).toBe(503);
      expect(w.body.code).toBe('audit_integrity_failed');
      expect(await lastSeq(h)).toBe(last - 3);
      await s.startUp();
      await expectRefusing(s, last - 2, 'truncated');
    });

    it.runIf(enabled)('a gap: named at start-up and writes refused', async () => {
      h = await startHarness(backend);
      await buildLog(h, 2);
      for (let i = 0; i < 3; i++) expect((await h.call('POST', '/v1/principals', { name: `gap-${i}`, kind: 'human' })).status).toBe(201);
      const last = await lastSeq(h);
      await asAttacker(h.cp.db, (q) => q.deleteFrom('audit_events').where('seq', '=', last - 1).execute().then(() => undefined));
      s = await restart(h);
      await s.startUp();
      await expectRefusing(s, last - 1, 'deleted');
    });

    it.runIf(enabled)('stored leaf hash and subtree hashes that disagree with the latest signed root: found at start-up', async () => {
      h = await startHarness(backend);
      await buildLog(h, 3);
      const seq = (await stored(h))[2]!;
      const forged = (await canonicalAt(h, seq)).replace('"success"', '"failure"');
      await asAttacker(h.cp.db, (q) => q.updateTable('audit_events').set({ canonical: forged, leaf_hash: hashLeafText(forged).toString('hex'), outcome: 'failure' }).where('seq', '=', seq).execute().then(() => undefined));
      s = await restart(h);
      await s.startUp();
      const f = s.cp.checkpointer.failure();
      expect(f?.kind).toBe('nodes');
      const w = await s.call('POST', '/v1/principals', { name: 'x-1', kind: 'human' });
      expect(w.status).toBe(503);
    });

    it.runIf(enabled)('tampering while running is found by the next checkpoint tick', async () => {
      h = await startHarness(backend);
      await buildLog(h, 2);
      expect((await h.call('POST', '/v1/principals', { name: 'fresh', kind: 'human' })).status).toBe(201);
      const seq = await lastSeq(h);
      await asAttacker(h.cp.db, (q) => q.updateTable('audit_events').set({ type: 'principal.viewed' }).where('seq', '=', seq).execute().then(() => undefined));
      await h.cp.checkpointer.checkpointNow();
      expect(h.cp.checkpointer.failure()).toMatchObject({ kind: 'column-edited', first_bad_seq: seq, detected_by: 'checkpointer' });
      const w = await h.call('POST', '/v1/principals', { name: 'refused', kind: 'human' });
      expect(w.status).toBe(503);
      expect(w.body.code).toBe('audit_integrity_failed');
      // No checkpoint is signed over the damaged log.
      const sizes = (await h.cp.db.kysely.selectFrom('audit_checkpoints').select('tree_size').execute()).map((r) => Number(r.tree_size));
      expect(Math.max(...sizes)).toBeLessThanOrEqual(seq);
    });

    it.runIf(enabled)('recovery is admin-only and audited; it re-anchors after a deleted tail without reusing numbers, and hides nothing', async () => {
      h = await startHarness(backend);
      await buildLog(h, 2);
      const auditor = await h.operator('auditor-1', 'auditor');
      expect((await h.call('GET', '/v1/audit/integrity', undefined, auditor)).status).toBe(200);
      const security = await h.operator('security-1', 'security');
      // First use (sign-in) is itself an audit event, so tokens are used once before the damage.
      expect((await h.call('GET', '/v1/audit/checkpoints', undefined, security)).status).toBe(200);
      await h.cp.checkpointer.checkpointNow();
      const signedEnd = (await lastSeq(h)) + 1;
      for (let i = 0; i < 3; i++) expect((await h.call('POST', '/v1/principals', { name: `unsigned-${i}`, kind: 'human' })).status).toBe(201);
      const hwm = (await lastSeq(h)) + 1;
      // Delete both signed and unsigned events at the tail.
      await asAttacker(h.cp.db, (q) => q.deleteFrom('audit_events').where('seq', '>=', signedEnd - 2).execute().then(() => undefined));
      s = await restart(h);
      await s.startUp();
      await expectRefusing(s, signedEnd - 2, 'truncated');
      expect((await s.call('GET', '/v1/audit/integrity', undefined, auditor)).body.failure).toMatchObject({ kind: 'truncated', first_bad_seq: signedEnd - 2 });
      expect((await s.call('POST', '/v1/audit/recover', { reason: 'x' }, security)).status).toBe(403);
      expect((await s.call('POST', '/v1/audit/recover', { reason: 'x' }, auditor)).status).toBe(403);

      const r = await s.call('POST', '/v1/audit/recover', { reason: 'INC-42: tail lost' });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.found).toMatchObject({ kind: 'truncated', first_bad_seq: signedEnd - 2 });
      expect(r.body.event_seq).toBe(hwm);
      expect(r.body.tombstones).toEqual([signedEnd, hwm]);
      // The recovery event records what was found, every problem, and the evidence.
      const ev = (await s.call('GET', `/v1/audit/events/${hwm}`)).body.event;
      expect(ev.type).toBe('audit.recovered');
      expect(ev.details.found).toMatchObject({ kind: 'truncated', first_bad_seq: signedEnd - 2 });
      expect(ev.details.problems.map((p: { seq: number }) => p.seq)).toContain(signedEnd - 2);
      expect(ev.details.evidence).toMatchObject({ high_water_mark: hwm, stored_events_end: signedEnd - 2 });
      expect(ev.details.reason).toBe('INC-42: tail lost');

      // Ready again; writes continue after the high-water mark, never in the deleted range.
      await s.startUp();
      expect((await s.call('GET', '/readyz')).status).toBe(200);
      expect((await s.call('POST', '/v1/principals', { name: 'after-recovery', kind: 'human' })).status).toBe(201);
      await s.startUp();
      const seqs = await stored(h);
      expect(seqs.filter((x) => x >= signedEnd - 2 && x < hwm)).toEqual([]);
      expect(Math.max(...seqs)).toBe(hwm + 1);

      // Any later verifier still sees the damage, acknowledged by the recovery; what follows verifies.
      const v = await verifyStore({ dataDir: h.dataDir, databaseUrl: h.databaseUrl });
      expect(v.ok).toBe(true);
      expect(v.recoveries.map((x) => x.seq)).toEqual([hwm]);
      expect(v.problems.length).toBeGreaterThan(0);
      expect(v.problems.every((p) => p.acknowledgedBy === hwm)).toBe(true);
      expect(v.firstBadSeq).toBe(signedEnd - 2);
      expect(v.size).toBe(hwm + 2);
      const api = await s.call('POST', '/v1/audit/verify', {});
      expect(api.body.ok).toBe(true);
      expect(api.body.problems[0].acknowledgedBy).toBe(hwm);
      // A fresh start after recovery is ready, and its background verification finds nothing new.
      const s2 = await restart(h);
      try {
        await s2.startUp();
        expect(await s2.cp.checkpointer.verifyAll()).toBeUndefined();
        expect((await s2.call('GET', '/readyz')).status).toBe(200);
      } finally {
        await s2.close();
      }

      // New tampering after the recovery is not covered by it.
      const target = (await stored(h))[1]!;
      await asAttacker(h.cp.db, (q) => q.updateTable('audit_events').set({ decision: 'deny' }).where('seq', '=', target).execute().then(() => undefined));
      const v2 = await verifyStore({ dataDir: h.dataDir, databaseUrl: h.databaseUrl });
      expect(v2.ok).toBe(false);
      expect(v2.problems.find((p) => p.seq === target)).toMatchObject({ kind: 'column-edited' });
      expect(v2.problems.find((p) => p.seq === target)?.acknowledgedBy).toBeUndefined();
    });

    it.runIf(enabled)('recovery after an edit keeps the edited row as evidence and the log verifies only with it acknowledged', async () => {
      h = await startHarness(backend);
      await buildLog(h, 3);
      const seq = (await stored(h))[2]!;
      await asAttacker(h.cp.db, (q) => q.updateTable('audit_events').set({ target_id: 'elsewhere' }).where('seq', '=', seq).execute().then(() => undefined));
      s = await restart(h);
      await s.startUp();
      expect(await s.cp.checkpointer.verifyAll()).toMatchObject({ kind: 'column-edited', first_bad_seq: seq });
      const r = await s.call('POST', '/v1/audit/recover', { reason: 'edited target column' });
      expect(r.status).toBe(200);
      expect(r.body.tombstones).toBeNull();
      await s.startUp();
      expect((await s.call('POST', '/v1/principals', { name: 'after', kind: 'human' })).status).toBe(201);
      await s.startUp();
      const v = await verifyStore({ dataDir: h.dataDir, databaseUrl: h.databaseUrl });
      expect(v.ok).toBe(true);
      expect(v.problems).toEqual([expect.objectContaining({ kind: 'column-edited', seq, acknowledgedBy: r.body.event_seq })]);
    });
  });
}
