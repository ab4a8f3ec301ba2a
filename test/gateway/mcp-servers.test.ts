import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { startMcpUpstream, type McpUpstream } from '../support/mcp-upstream.js';
import { eventsSince, lastSeq } from '../identity/store-probe.js';

// The MCP server registry end to end on both stores: register (the upstream's tools become tool resources under the
// server's own endpoint resource), show, list, update (a new credential must work before it is stored), refresh,
// delete (the resources go too); every change audited; the upstream credential never in a response, an audit event
// or the table in clear. Bad input is refused with stable codes and writes nothing.

for (const backend of BACKENDS) {
  describe(`MCP servers on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let up: McpUpstream;
    let auditor: string;
    const responses: string[] = [];
    const call = async (method: string, url: string, body?: unknown, token?: string) => {
      const r = await h.call(method, url, body, token);
      responses.push(r.text);
      return r;
    };
    const counts = async () => {
      const n = async (t: string) => Number((await sql<{ n: number | string }>`select count(*) as n from ${sql.table(t)}`.execute(h.cp.db.kysely)).rows[0]!.n);
      return { servers: await n('mcp_servers'), tools: await n('mcp_tools'), resources: await n('resources'), audit: await n('audit_events') };
    };
    const valid = () => ({ name: 'files', upstream_url: up.url, credential: { type: 'bearer', token: up.token }, owner: 'mcp-olga' });

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      up = await startMcpUpstream();
      auditor = await h.operator('aud-mcp', 'auditor');
      expect((await h.call('POST', '/v1/principals', { name: 'mcp-olga', kind: 'human' })).status).toBe(201);
      expect((await h.call('POST', '/v1/principals', { name: 'mcp-pia', kind: 'human' })).status).toBe(201);
      expect((await h.call('POST', '/v1/principals', { name: 'mcp-bot', kind: 'agent', owner: 'mcp-olga' })).status).toBe(201);
      expect((await h.call('POST', '/v1/resources', { name: 'mcp-taken', kind: 'model', owner: 'mcp-olga' })).status).toBe(201);
    });
    afterAll(async () => {
      if (!enabled) return;
      // The upstream's token never came back in any response, and no stored row holds it in clear.
      for (const text of responses) expect(text).not.toContain(up.token);
      const events = await eventsSince(h);
      expect(JSON.stringify(events)).not.toContain(up.token);
      const rows = await h.cp.db.kysely.selectFrom('mcp_servers' as never).selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain(up.token);
      expect(up.violations).toEqual([]);
      await up.close();
      await h.close();
    });

    it.runIf(enabled)('bad input is refused with a stable code and writes nothing', async () => {
      const before = await counts();
      const cases: Array<[Record<string, unknown>, number, string]> = [
        [{ ...valid(), name: 'Files' }, 400, 'validation_failed'],
        [{ ...valid(), name: 'a'.repeat(33) }, 400, 'validation_failed'],
        [{ ...valid(), upstream_url: 'http://mcp.example.com/mcp' }, 422, 'invalid_mcp_server'],
        [{ ...valid(), upstream_url: 'https://user:pw@mcp.example.com/mcp' }, 422, 'invalid_mcp_server'],
        [{ ...valid(), credential: { type: 'bearer', token: 'short' } }, 400, 'validation_failed'],
        [{ ...valid(), credential: { type: 'header', name: 'Host', value: 'x' } }, 422, 'invalid_mcp_server'],
        [{ ...valid(), credential: { type: 'header', name: 'x-key', value: 'a\r\nb' } }, 422, 'invalid_mcp_server'],
        [{ ...valid(), owner: 'nobody-here' }, 422, 'owner_not_found'],
        [{ ...valid(), owner: 'mcp-bot' }, 422, 'invalid_mcp_server'],
        [{ ...valid(), timeout_ms: 10 }, 400, 'validation_failed'],
        [{ ...valid(), extra: 1 }, 400, 'validation_failed'],
        [{ ...valid(), name: 'taken' }, 422, 'invalid_mcp_server'],
        [{ ...valid(), upstream_url: 'http://127.0.0.1:9/mcp' }, 502, 'mcp_upstream_unreachable'],
        [{ ...valid(), credential: { type: 'bearer', token: 'not-the-upstream-token' } }, 502, 'mcp_upstream_unreachable'],
      ];
      const violations = up.violations.length;
      for (const [body, status, code] of cases) {
        const r = await call('POST', '/v1/mcp-servers', body);
        expect(r.status, JSON.stringify(body)).toBe(status);
        expect(r.body.code, JSON.stringify(body)).toBe(code);
        expect(r.text).not.toContain('pw@');
      }
      expect(await counts()).toEqual(before);
      // The wrong credential reached the fixture once (and was refused there): forget that on purpose.
      up.violations.splice(violations);
      // A refused role writes only its denial record.
      expect((await call('POST', '/v1/mcp-servers', valid(), auditor)).status).toBe(403);
      expect({ ...(await counts()), audit: 0 }).toEqual({ ...before, audit: 0 });
    });

    it.runIf(enabled)('register, show, list, update, refresh and delete; every change audited; the credential never shown', async () => {
      const seq = await lastSeq(h);
      const created = await call('POST', '/v1/mcp-servers', { ...valid(), description: 'file tools', reason: 'CHG-7' });
      expect(created.status, created.text).toBe(201);
      expect(created.body).toMatchObject({
        name: 'files', endpoint: `${h.cp.gatewayUrl()}/mcp/files`, upstream_url: up.url, credential: { type: 'bearer' }, owner: { name: 'mcp-olga' },
        description: 'file tools', timeout_ms: 30_000, resource: { name: 'mcp-files' }, version: 1,
      });
      expect(created.body.tools.map((t: { name: string; resource: { name: string } }) => [t.name, t.resource.name])).toEqual([
        ['delete_everything', 'files-delete-everything'], ['echo', 'files-echo'], ['query', 'files-query'], ['read_file', 'files-read-file'],
      ]);
      expect(created.body.protocol_version).toBe('2025-11-25');
      const events = await eventsSince(h, seq);
      expect(events.map((e) => e.type)).toEqual(['resource.created', 'mcp_server.created', 'resource.created', 'resource.created', 'resource.created', 'resource.created', 'mcp_server.refreshed']);
      expect(events[1]).toMatchObject({ target: { type: 'mcp_server', name: 'files' }, details: { upstream_url: up.url, credential: { type: 'bearer' }, owner: 'mcp-olga', reason: 'CHG-7' } });
      expect(events.at(-1)!.details).toMatchObject({ trigger: 'created', removed: [], refused: [] });
      expect([...events.at(-1)!.details.added].sort()).toEqual(['delete_everything', 'echo', 'query', 'read_file']);
      const id = created.body.id as string;

      expect((await call('GET', `/v1/mcp-servers/${id}`, undefined, auditor)).body).toMatchObject({ name: 'files', credential: { type: 'bearer' } });
      const list = await call('GET', '/v1/mcp-servers?limit=1', undefined, auditor);
      expect(list.status).toBe(200);
      expect(list.body.items.map((s: { name: string }) => s.name)).toEqual(['files']);
      expect((await call('POST', '/v1/mcp-servers', valid())).body.code).toBe('mcp_server_exists');

      // A header credential and a new owner: the new credential is tried first, the resources move to the owner.
      const seq2 = await lastSeq(h);
      const wrong = await call('PATCH', '/v1/mcp-servers/files', { credential: { type: 'header', name: 'X-Upstream-Key', value: 'wrong value' } });
      expect(wrong.status).toBe(502);
      expect(await lastSeq(h)).toBe(seq2);
      up.violations.splice(0);
      const changed = await call('PATCH', '/v1/mcp-servers/files', { owner: 'mcp-pia', timeout_ms: 5000, expected_version: 1, reason: 'handover' });
      expect(changed.status, changed.text).toBe(200);
      expect(changed.body).toMatchObject({ owner: { name: 'mcp-pia' }, timeout_ms: 5000, version: 2 });
      expect((await call('GET', '/v1/resources/files-echo')).body.owner.name).toBe('mcp-pia');
      const updated = (await eventsSince(h, seq2)).find((e) => e.type === 'mcp_server.updated')!;
      expect(updated.details).toMatchObject({ changed: ['timeout_ms', 'owner_id'], credential: null, version: 2, reason: 'handover' });
      expect((await call('PATCH', '/v1/mcp-servers/files', { description: 'x', expected_version: 1 })).body.code).toBe('version_mismatch');
      expect((await call('PATCH', '/v1/mcp-servers/files', { timeout_ms: 5000 })).body.version).toBe(2);

      const refreshed = await call('POST', '/v1/mcp-servers/files/refresh', { reason: 'weekly' });
      expect(refreshed.status, refreshed.text).toBe(200);
      expect(refreshed.body).toMatchObject({ added: [], changed: [], removed: [], refused: [] });
      up.addTool('archive', 'Archives files');
      const again = await call('POST', '/v1/mcp-servers/files/refresh', {});
      expect(again.body.added).toEqual(['archive']);
      expect((await call('GET', '/v1/resources/files-archive')).body).toMatchObject({ kind: 'tool', description: 'Archives files', owner: { name: 'mcp-pia' } });

      const seq3 = await lastSeq(h);
      expect((await call('DELETE', '/v1/mcp-servers/files?reason=retired')).status).toBe(204);
      const gone = await eventsSince(h, seq3);
      expect(gone[0]).toMatchObject({ type: 'mcp_server.deleted', details: { reason: 'retired' } });
      expect(gone.filter((e) => e.type === 'resource.deleted').map((e) => e.target!.name).sort()).toEqual(
        ['files-archive', 'files-delete-everything', 'files-echo', 'files-query', 'files-read-file', 'mcp-files'],
      );
      expect((await call('GET', '/v1/mcp-servers/files')).status).toBe(404);
      expect((await call('GET', '/v1/resources/files-echo')).status).toBe(404);
      // The name is free again.
      expect((await call('POST', '/v1/mcp-servers', valid())).status).toBe(201);
    });
  });
}
