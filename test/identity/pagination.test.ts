import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { CSV_COLUMNS } from '../../src/identity/index.js';

// Cursor pagination returns each item exactly once, with filters applied; the CSV export is one row per principal.

interface P { id: string; name: string; kind: string; environment: string | null; status: string; labels: Record<string, string>; owner: { name: string } | null; risk_tier: string }

for (const backend of BACKENDS) {
  describe(`pagination and export on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let all: P[];

    /** Follows next_cursor to the end; returns every item in page order. */
    const walk = async (base: string, limit: number, token?: string) => {
      const seen: P[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 500; page++) {
        const sep = base.includes('?') ? '&' : '?';
        const res = await h.call('GET', `${base}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, undefined, token);
        expect(res.status, res.text).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(limit);
        seen.push(...res.body.items);
        cursor = res.body.next_cursor;
        if (!cursor) return seen;
        expect(res.body.items.length).toBe(limit);
      }
      throw new Error('pagination did not end');
    };

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      for (const name of ['ana', 'ben']) await h.call('POST', '/v1/principals', { name, kind: 'human' });
      const kinds = ['agent', 'service_account', 'workload', 'training_job', 'pipeline'];
      const envs = ['dev', 'staging', 'prod', undefined];
      // Sent together: the store's group commit takes them in a few transactions.
      await Promise.all(Array.from({ length: 41 }, async (_, i) => {
        const r = await h.call('POST', '/v1/principals', {
          name: `${i % 3 === 0 ? 'svc' : 'bot'}-${i}`, kind: kinds[i % kinds.length], owner: i % 2 ? 'ana' : 'ben',
          environment: envs[i % envs.length], labels: { group: i % 4 === 0 ? 'a' : 'b', 'app.kubernetes.io/name': `n${i % 2}` },
          // Critical ones stay proposed: they become active only through an approved registration request.
          status: i % 5 === 0 || i % 7 === 0 ? 'proposed' : 'active', risk_tier: i % 7 === 0 ? 'critical' : 'low',
        });
        expect(r.status, r.text).toBe(201);
      }));
      all = (await h.call('GET', '/v1/principals?limit=500')).body.items;
      expect(all.length).toBe(41 + 3);
    });
    afterAll(async () => { await h?.close(); });

    const filters: Array<[string, (p: P) => boolean]> = [
      ['', () => true],
      ['kind=agent', (p) => p.kind === 'agent'],
      ['environment=prod', (p) => p.environment === 'prod'],
      ['status=proposed', (p) => p.status === 'proposed'],
      ['owner=ana', (p) => p.owner?.name === 'ana'],
      ['risk_tier=critical', (p) => p.risk_tier === 'critical'],
      ['label=group%3Da', (p) => p.labels.group === 'a'],
      ['label=app.kubernetes.io%2Fname%3Dn1', (p) => p.labels['app.kubernetes.io/name'] === 'n1'],
      ['name_prefix=svc', (p) => p.name.startsWith('svc')],
      ['name_prefix=bot-1', (p) => p.name.startsWith('bot-1')],
      ['kind=workload&environment=dev&owner=ben', (p) => p.kind === 'workload' && p.environment === 'dev' && p.owner?.name === 'ben'],
    ];
    for (const [query, keep] of filters) {
      it.runIf(enabled)(`every item exactly once across pages: ${query || 'no filter'}`, async () => {
        const expected = all.filter(keep).map((p) => p.id);
        expect(query === '' || expected.length < all.length).toBe(true);
        // Page size 1 (every boundary) on the unfiltered and one combined filter; a few sizes elsewhere.
        for (const limit of query === '' || query.includes('&') ? [1, 7, 500] : [4, 500]) {
          const ids = (await walk(`/v1/principals${query ? `?${query}` : ''}`, limit)).map((p) => p.id);
          expect(new Set(ids).size, `duplicates at limit ${limit}`).toBe(ids.length);
          expect(ids, `limit ${limit}`).toEqual(expected);
          expect([...ids].sort()).toEqual(ids);
        }
      });
    }

    it.runIf(enabled)('items created during a walk never make an earlier item repeat or vanish', async () => {
      const before = all.map((p) => p.id);
      const seen: string[] = [];
      let cursor: string | null = null;
      let i = 0;
      do {
        const res = await h.call('GET', `/v1/principals?limit=6${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...res.body.items.map((p: P) => p.id));
        cursor = res.body.next_cursor;
        await h.call('POST', '/v1/principals', { name: `late-${i++}`, kind: 'agent', owner: 'ana' });
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      for (const id of before) expect(seen).toContain(id);
    });

    it.runIf(enabled)('teams, resources and tokens paginate the same way', async () => {
      for (let i = 0; i < 7; i++) {
        await h.call('POST', '/v1/teams', { name: `team-${i}` });
        await h.call('POST', '/v1/resources', { name: `model-${i}`, kind: i % 2 ? 'model' : 'dataset', owner: 'ana' });
        await h.call('POST', '/v1/operator-tokens', { principal: 'ana', role: 'auditor', ttl_seconds: 600 });
      }
      for (const [url, n] of [['/v1/teams', 7], ['/v1/resources', 7], ['/v1/resources?kind=model', 3], ['/v1/operator-tokens?principal=ana', 7]] as const) {
        const items = await walk(url, 2);
        expect(items.length, url).toBe(n);
        expect(new Set(items.map((x) => x.id)).size).toBe(n);
      }
    });

    it.runIf(enabled)('a garbage cursor is a 400 with a stable code on every list', async () => {
      // Cursors are MAC'd: well-formed payloads we did not sign (an injection attempt, a forged key, one
      // re-signed with another MAC) are refused as firmly as garbage, before any query runs.
      const real = (await h.call('GET', '/v1/principals?limit=1')).body.next_cursor as string;
      expect(real).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      const [, mac] = real.split('.');
      const forged = Buffer.from(JSON.stringify({ k: "' OR 1=1--" })).toString('base64url');
      const garbage = [
        'garbage!!', Buffer.from('not json').toString('base64url'), Buffer.from('{"x":1}').toString('base64url'),
        Buffer.from('{"k":{"a":1}}').toString('base64url'), forged, `${forged}.${mac}`, `${real}x`, `${real.split('.')[0]}.`, '%00',
      ];
      for (const list of ['/v1/principals', '/v1/teams', '/v1/resources', '/v1/operator-tokens']) {
        for (const c of garbage) {
          const res = await h.call('GET', `${list}?cursor=${encodeURIComponent(c)}`);
          expect([res.status, res.body.code], `${list} ${c}`).toEqual([400, 'invalid_cursor']);
        }
      }
      expect((await h.call('GET', `/v1/principals?limit=1&cursor=${real}`)).status).toBe(200);
    });

    it.runIf(enabled)('CSV export: a header, one row per principal, the same filters and cursor', async () => {
      const res = await h.call('GET', '/v1/principals?format=csv&limit=500&kind=agent');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      const rows = parse(res.text) as string[][];
      expect(rows[0]).toEqual([...CSV_COLUMNS]);
      const agents = (await h.call('GET', '/v1/principals?kind=agent&limit=500')).body.items as P[];
      expect(rows.length - 1).toBe(agents.length);
      expect(rows.slice(1).map((r) => r[0])).toEqual(agents.map((p) => p.id));
      // Across pages through x-next-cursor: every principal exactly once, a header on each page.
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await h.call('GET', `/v1/principals?format=csv&limit=9${cursor ? `&cursor=${cursor}` : ''}`);
        const [header, ...body] = parse(page.text) as string[][];
        expect(header).toEqual([...CSV_COLUMNS]);
        ids.push(...body.map((r) => r[0]!));
        cursor = page.headers['x-next-cursor'] as string | undefined;
      } while (cursor);
      const everyone = (await h.call('GET', '/v1/principals?limit=500')).body.items.map((p: P) => p.id);
      expect(ids).toEqual(everyone);
    });

    it.runIf(enabled)('CSV export neutralises spreadsheet formulas in every free-text cell', async () => {
      const payloads = ['=HYPERLINK("http://evil.example","click")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1'];
      for (const [i, p] of payloads.entries()) {
        const r = await h.call('POST', '/v1/principals', { name: `formula-${i}`, kind: 'agent', owner: 'ana', platform: p, framework: p, scopes: ['-x', 'y'] });
        expect(r.status, r.text).toBe(201);
      }
      const res = await h.call('GET', '/v1/principals?format=csv&limit=500&name_prefix=formula');
      const rows = parse(res.text, { columns: true }) as Array<Record<string, string>>;
      expect(rows.length).toBe(payloads.length);
      for (const row of rows) {
        for (const [col, cell] of Object.entries(row)) expect(/^[=+\-@\t\r]/.test(cell), `${col}: ${JSON.stringify(cell)}`).toBe(false);
        expect(row.platform!.startsWith("'")).toBe(true);
        expect(payloads).toContain(row.platform!.slice(1));
        expect(row.scopes).toBe("'-x y");
      }
    });

    it.runIf(enabled)('an owner-role operator exports only what they own', async () => {
      const token = await h.operator('own-op', 'owner');
      await h.call('POST', '/v1/principals', { name: 'mine-1', kind: 'agent', owner: 'own-op' });
      const res = await h.call('GET', '/v1/principals?format=csv&limit=500', undefined, token);
      const rows = parse(res.text, { columns: true }) as Array<Record<string, string>>;
      expect(rows.map((r) => r.name).sort()).toEqual(['mine-1', 'own-op']);
    });
  });
}
