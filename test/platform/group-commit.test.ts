import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/platform/actor.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';

// db.write: concurrent writers share a transaction; a failing job rolls back alone; audit sequence numbers stay
// contiguous because a rolled-back job gives its number back.

for (const backend of BACKENDS) {
  describe(`group commit on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    beforeAll(async () => { if (enabled) h = await startHarness(backend); });
    afterAll(async () => { await h?.close(); });

    it.runIf(enabled)('commits the good jobs of a batch and none of a failing job\'s writes', async () => {
      const actor = systemActor('background');
      const before = (await h.cp.db.kysely.selectFrom('audit_events').select('seq').execute()).length;
      const results = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => h.cp.db.write(async (trx, batch) => {
        await trx.insertInto('meta').values({ key: `gc-${backend}-${i}`, value: String(i) }).execute();
        const event = await h.cp.audit.record(trx, batch, { type: 'test.gc', action: 'test', actor, outcome: 'success', details: { i } });
        if (i % 7 === 3) throw new Error(`job ${i} fails after writing`);
        return event.seq;
      })));
      const failed = results.map((r, i) => [r, i] as const).filter(([r]) => r.status === 'rejected').map(([, i]) => i);
      expect(failed).toEqual(Array.from({ length: 60 }, (_, i) => i).filter((i) => i % 7 === 3));
      const meta = await h.cp.db.kysely.selectFrom('meta').select('key').where('key', 'like', `gc-${backend}-%`).execute();
      expect(meta.map((m) => Number(m.key.split('-').pop())).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 60 }, (_, i) => i).filter((i) => i % 7 !== 3),
      );
      const seqs = (await h.cp.db.kysely.selectFrom('audit_events').select('seq').orderBy('seq').execute()).map((r) => Number(r.seq));
      expect(seqs.length).toBe(before + 60 - failed.length);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i));
      const returned = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<number>).value).sort((a, b) => a - b);
      expect(new Set(returned).size).toBe(returned.length);
      expect(returned.every((s) => seqs.includes(s))).toBe(true);
    });

    it.runIf(enabled)('answers a lone failing job with its own error and leaves nothing behind', async () => {
      await expect(h.cp.db.write(async (trx) => {
        await trx.insertInto('meta').values({ key: `lonely-${backend}`, value: 'x' }).execute();
        throw new Error('boom');
      })).rejects.toThrow('boom');
      expect(await h.cp.db.kysely.selectFrom('meta').select('key').where('key', '=', `lonely-${backend}`).executeTakeFirst()).toBeUndefined();
    });
  });
}
