import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyStore } from '../../src/audit/verify-store.js';
import { openCheckpoint, parseVerifierKey } from '../../src/audit/checkpoint.js';
import { hashLeafText, verifyInclusion } from '../../src/audit/merkle.js';
import { archiveDigest, verifyArchive, type AuditArchive } from '../../src/audit/retention.js';
import { createControlPlane } from '../../src/app.js';
import { systemActor } from '../../src/platform/actor.js';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';

async function writeEvents(h: Harness, n: number) {
  const actor = systemActor('background');
  await Promise.all(Array.from({ length: n }, (_, i) => h.cp.db.write((trx, batch) => h.cp.audit.record(trx, batch, {
    type: 'test.filler', action: 'test', actor, outcome: 'success', details: { i },
  }))));
}

for (const backend of BACKENDS) {
  describe(`audit retention on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let vkey: string;
    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      await writeEvents(h, 600);
      await h.cp.checkpointer.checkpointNow();
      vkey = (await h.call('GET', '/v1/audit/public-key', undefined, null)).body.vkey;
    });
    afterAll(async () => { await h?.close(); });

    it.runIf(enabled)('refuses unaligned, too recent and unauthorised archives', async () => {
      expect((await h.call('GET', '/v1/audit/archive?to_seq=300')).body.code).toBe('archive_unaligned');
      expect((await h.call('GET', '/v1/audit/archive?to_seq=1024')).body.code).toBe('archive_too_recent');
      const auditor = await h.operator('ret-auditor', 'auditor');
      expect((await h.call('GET', '/v1/audit/archive?to_seq=256', undefined, auditor)).status).toBe(403);
    });

    it.runIf(enabled)('archives a prefix to a file that verifies alone, and detects a tampered archive', async () => {
      const res = await h.call('GET', '/v1/audit/archive?to_seq=512');
      expect(res.status).toBe(200);
      const archive = res.body as AuditArchive;
      expect(archive.events).toHaveLength(512);
      expect(verifyArchive(archive, vkey)).toEqual({ ok: true, events: 512 });
      const tampered = { ...archive, events: [...archive.events] };
      tampered.events[7] = tampered.events[7]!.replace('"success"', '"failure"');
      expect(verifyArchive(tampered, vkey).ok).toBe(false);
      const dropped = { ...archive, events: archive.events.slice(1) };
      expect(verifyArchive(dropped, vkey).ok).toBe(false);
    });

    it.runIf(enabled)('prunes only with the digest of the archived range, and the log still verifies after it', async () => {
      const archive = (await h.call('GET', '/v1/audit/archive?to_seq=512')).body as AuditArchive;
      expect((await h.call('POST', '/v1/audit/prune', { to_seq: 512, archive_digest: '0'.repeat(64) })).body.code).toBe('archive_digest_mismatch');
      const pruned = await h.call('POST', '/v1/audit/prune', { to_seq: 512, archive_digest: archiveDigest(archive) });
      expect(pruned.body).toEqual({ pruned_from: 0, pruned_to: 512 });
      const remaining = await h.cp.db.kysely.selectFrom('audit_events').select('seq').orderBy('seq').limit(1).execute();
      expect(Number(remaining[0]!.seq)).toBe(512);

      await writeEvents(h, 20);
      await h.cp.checkpointer.checkpointNow();
      expect((await verifyStore({ dataDir: h.dataDir, databaseUrl: h.databaseUrl, vkey })).ok).toBe(true);
      const server = await h.call('POST', '/v1/audit/verify', {});
      expect(server.body.ok).toBe(true);

      // Proofs for events after the prune point still verify with the public key alone.
      const proof = await h.call('GET', '/v1/audit/events/530/proof');
      const ev = await h.call('GET', '/v1/audit/events/530');
      const cp = openCheckpoint(proof.body.checkpoint, parseVerifierKey(vkey));
      const ok = verifyInclusion(530, cp.size, hashLeafText(ev.body.canonical), proof.body.proof.map((p: string) => Buffer.from(p, 'base64')), cp.rootHash);
      expect(ok.ok).toBe(true);
      expect((await h.call('GET', '/v1/audit/events/10/proof')).status).toBe(410);
    });

    it.runIf(enabled)('keeps working after a restart from the pruned state', async () => {
      const config = loadConfig({ dataDir: h.dataDir, databaseUrl: h.databaseUrl, logLevel: 'silent' }, {});
      await h.cp.close();
      const again = await createControlPlane(config, { logger: createLogger('silent') });
      h.cp = again;
      await writeEvents(h, 5);
      await again.checkpointer.checkpointNow();
      expect(again.checkpointer.health().ok).toBe(true);
      expect((await verifyStore({ dataDir: h.dataDir, databaseUrl: h.databaseUrl, vkey })).ok).toBe(true);
    });
  });
}
