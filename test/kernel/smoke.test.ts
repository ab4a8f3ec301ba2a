import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';

for (const backend of BACKENDS) {
  describe(`kernel on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    beforeAll(async () => { if (enabled) h = await startHarness(backend); });
    afterAll(async () => { await h?.close(); });

    it.runIf(enabled)('registers an agent with an owner and lists it', async () => {
      expect((await h.call('POST', '/v1/principals', { name: 'alice', kind: 'human' })).status).toBe(201);
      const created = await h.call('POST', '/v1/principals', { name: 'support-bot', kind: 'agent', owner: 'alice', environment: 'prod' });
      expect(created.status).toBe(201);
      expect(created.body.owner.name).toBe('alice');
      expect(created.body.status).toBe('proposed');
      const list = await h.call('GET', '/v1/principals?kind=agent');
      expect(list.body.items.map((p: { name: string }) => p.name)).toEqual(['support-bot']);
    });

    it.runIf(enabled)('rejects a non-human without an owner and writes nothing', async () => {
      const res = await h.call('POST', '/v1/principals', { name: 'ownerless', kind: 'agent' });
      expect(res.status).toBe(422);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.code).toBe('owner_required');
      expect((await h.call('GET', '/v1/principals/ownerless')).status).toBe(404);
    });
  });
}
