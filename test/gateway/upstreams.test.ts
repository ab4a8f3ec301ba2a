import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SealedError } from '../../src/platform/keys.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { eventsSince, lastSeq } from '../identity/store-probe.js';

// The upstream registry end to end on both stores: CRUD through the real app, model aliases, the catalog the
// gateway's forwarding step asks (routeFor follows a rotation on the very next call), and the key's whole life:
// accepted once, sealed, opened only by routeFor — never in a response, an audit event, the upstreams table in
// clear, nor (on SQLite) anywhere in the database files. Bad input is refused with stable codes and writes nothing.

const newKey = (label: string) => `sk-${label}-${crypto.randomBytes(18).toString('hex')}`;

for (const backend of BACKENDS) {
  describe(`upstreams on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let security: string;
    let auditor: string;
    let owner: string;
    /** Every key handed to the server in this file, and every response text it sent back. */
    const keys: string[] = [];
    const responses: string[] = [];
    const call = async (method: string, url: string, body?: unknown, token?: string) => {
      const r = await h.call(method, url, body, token);
      responses.push(r.text);
      return r;
    };
    const ok = async (method: string, url: string, body?: unknown) => {
      const r = await call(method, url, body);
      if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
      return r.body;
    };
    const key = (label: string) => {
      const k = newKey(label);
      keys.push(k);
      return k;
    };
    const counts = async () => {
      const n = async (t: 'upstreams' | 'upstream_models' | 'audit_events') =>
        Number((await sql<{ n: number | string }>`select count(*) as n from ${sql.table(t)}`.execute(h.cp.db.kysely)).rows[0]!.n);
      return { upstreams: await n('upstreams'), upstream_models: await n('upstream_models'), audit_events: await n('audit_events') };
    };

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      security = await h.operator('sec-sam', 'security');
      auditor = await h.operator('aud-ann', 'auditor');
      owner = await h.operator('own-oli', 'owner');
      for (const [name, kind] of [['gpt', 'model'], ['claude', 'model'], ['chat', 'endpoint'], ['llama', 'model'], ['azure-gpt', 'model'], ['spare', 'model'], ['taken-model', 'model'], ['kb', 'dataset'], ['search-tool', 'tool']] as const) {
        await ok('POST', '/v1/resources', { name, kind, owner: 'bootstrap-admin' });
      }
    });
    afterAll(async () => { await h?.close(); });

    it.runIf(enabled)('create, show, list, update, route, unroute and delete; every change audited, the key never in a view', async () => {
      const openaiKey = key('openai');
      const seq = await lastSeq(h);
      const created = await call('POST', '/v1/upstreams', {
        name: 'openai-prod', provider: 'openai', base_url: 'https://api.openai.com/v1/', key: openaiKey, models: { gpt: 'gpt-4o-2024-08-06', chat: 'gpt-4o-mini' }, reason: 'CHG-1',
      });
      expect(created.status, created.text).toBe(201);
      expect(created.body).toMatchObject({
        name: 'openai-prod', provider: 'openai', base_url: 'https://api.openai.com/v1', api_version: null, timeout_ms: 60_000, retries: 1, has_key: true, version: 1,
        models: [
          { resource: { name: 'chat', kind: 'endpoint' }, provider_model: 'gpt-4o-mini' },
          { resource: { name: 'gpt', kind: 'model' }, provider_model: 'gpt-4o-2024-08-06' },
        ],
      });
      expect(Object.keys(created.body).sort()).toEqual(['api_version', 'base_url', 'created_at', 'created_by', 'has_key', 'id', 'models', 'name', 'provider', 'retries', 'timeout_ms', 'updated_at', 'version']);
      const id = created.body.id as string;
      const [createdEvent] = await eventsSince(h, seq);
      expect(createdEvent).toMatchObject({
        type: 'upstream.created', target: { type: 'upstream', id, name: 'openai-prod' },
        details: { provider: 'openai', base_url: 'https://api.openai.com/v1', has_key: true, timeout_ms: 60_000, retries: 1, version: 1, reason: 'CHG-1' },
      });
      expect(createdEvent!.details.models).toHaveLength(2);

      // Reading: admins, security and auditors; never the key.
      for (const token of [h.adminToken, security, auditor]) {
        const shown = await call('GET', `/v1/upstreams/${id}`, undefined, token);
        expect(shown.status).toBe(200);
        expect(shown.body).toEqual(created.body);
        expect((await call('GET', '/v1/upstreams/openai-prod', undefined, token)).body).toEqual(created.body);
      }
      expect((await call('GET', '/v1/upstreams/openai-prod', undefined, owner)).status).toBe(403);
      expect((await call('GET', '/v1/upstreams/nope')).body.code).toBe('not_found');

      const local = await ok('POST', '/v1/upstreams', { name: 'ollama-local', provider: 'openai-compatible', base_url: 'http://127.0.0.1:11434/v1', timeout_ms: 120_000, retries: 0, models: { llama: 'llama3.1:8b' } });
      expect(local).toMatchObject({ has_key: false, timeout_ms: 120_000, retries: 0 });
      const azure = await ok('POST', '/v1/upstreams', { name: 'azure-eu', provider: 'azure-openai', base_url: 'https://contoso-eu.openai.azure.com/openai', key: key('azure'), api_version: '2024-10-21' });
      expect(azure).toMatchObject({ api_version: '2024-10-21', models: [] });

      const list = await call('GET', '/v1/upstreams?limit=2');
      expect(list.body.items.map((u: { name: string }) => u.name)).toEqual(['openai-prod', 'ollama-local']);
      const rest = await call('GET', `/v1/upstreams?limit=2&cursor=${list.body.next_cursor}`);
      expect(rest.body).toMatchObject({ items: [{ name: 'azure-eu' }], next_cursor: null });
      expect((await call('GET', '/v1/upstreams?provider=openai-compatible')).body.items.map((u: { name: string }) => u.name)).toEqual(['ollama-local']);
      expect((await call('GET', '/v1/upstreams', undefined, owner)).status).toBe(403);

      // Update: changed fields before and after, a version bump; a request that changes nothing records nothing.
      let s = await lastSeq(h);
      const updated = await call('PATCH', '/v1/upstreams/openai-prod', { timeout_ms: 30_000, retries: 2, expected_version: 1, reason: 'slow upstream' });
      expect(updated.status, updated.text).toBe(200);
      expect(updated.body).toMatchObject({ timeout_ms: 30_000, retries: 2, version: 2, has_key: true });
      expect(await eventsSince(h, s)).toMatchObject([{
        type: 'upstream.updated', details: { changed: ['timeout_ms', 'retries'], before: { timeout_ms: 60_000, retries: 1 }, after: { timeout_ms: 30_000, retries: 2 }, version: 2, reason: 'slow upstream' },
      }]);
      s = await lastSeq(h);
      expect((await call('PATCH', '/v1/upstreams/openai-prod', { timeout_ms: 30_000 })).body.version).toBe(2);
      expect(await eventsSince(h, s)).toEqual([]);
      expect((await call('PATCH', '/v1/upstreams/openai-prod', { retries: 3, expected_version: 1 })).body).toMatchObject({ status: 409, code: 'version_mismatch' });
      expect((await call('PATCH', '/v1/upstreams/openai-prod', { retries: 3 }, security)).status).toBe(403);

      // Azure: api_version removed with null; changing provider away from Azure needs it gone.
      expect((await call('PATCH', '/v1/upstreams/azure-eu', { provider: 'openai' })).body).toMatchObject({ code: 'invalid_upstream', detail: 'api_version is an azure-openai setting' });
      s = await lastSeq(h);
      expect(await ok('PATCH', '/v1/upstreams/azure-eu', { api_version: null, base_url: 'https://contoso-eu.openai.azure.com/openai/v1/' })).toMatchObject({ api_version: null, base_url: 'https://contoso-eu.openai.azure.com/openai/v1', version: 2 });
      expect(await eventsSince(h, s)).toMatchObject([{
        type: 'upstream.updated',
        details: { changed: ['base_url', 'api_version'], before: { api_version: '2024-10-21', base_url: 'https://contoso-eu.openai.azure.com/openai' }, after: { api_version: null } },
      }]);

      // Routes: add, change the provider model, refuse a second upstream, unroute.
      s = await lastSeq(h);
      const routed = await call('PUT', '/v1/upstreams/openai-prod/models/spare', { provider_model: 'gpt-4.1', reason: 'new model' });
      expect(routed.status, routed.text).toBe(200);
      expect(routed.body.version).toBe(3);
      expect(routed.body.models.map((m: { resource: { name: string } }) => m.resource.name)).toEqual(['chat', 'gpt', 'spare']);
      expect(await ok('PUT', '/v1/upstreams/openai-prod/models/spare', { provider_model: 'gpt-4.1' })).toMatchObject({ version: 3 }); // no change
      expect(await ok('PUT', '/v1/upstreams/openai-prod/models/spare', { provider_model: 'gpt-4.1-mini' })).toMatchObject({ version: 4 });
      const taken = await call('PUT', '/v1/upstreams/ollama-local/models/spare', { provider_model: 'x' });
      expect(taken.body).toMatchObject({ status: 409, code: 'model_already_routed', upstream: 'openai-prod' });
      expect((await call('DELETE', '/v1/upstreams/ollama-local/models/spare')).body).toMatchObject({ status: 404, code: 'not_found' });
      expect((await call('DELETE', '/v1/upstreams/openai-prod/models/spare?reason=retired')).status).toBe(204);
      const routeEvents = await eventsSince(h, s);
      expect(routeEvents.map((e) => e.type)).toEqual(['upstream.model_routed', 'upstream.model_routed', 'upstream.model_unrouted']);
      expect(routeEvents[0]).toMatchObject({ details: { resource: { name: 'spare', kind: 'model' }, provider_model: 'gpt-4.1', previous_provider_model: null, version: 3, reason: 'new model' } });
      expect(routeEvents[1]).toMatchObject({ details: { provider_model: 'gpt-4.1-mini', previous_provider_model: 'gpt-4.1', version: 4 } });
      expect(routeEvents[2]).toMatchObject({ details: { resource: { name: 'spare' }, provider_model: 'gpt-4.1-mini', version: 5, reason: 'retired' } });
      expect((await ok('GET', '/v1/upstreams/openai-prod')).version).toBe(5);

      // Delete: refused while it serves models, unless they go with it.
      const refused = await call('DELETE', '/v1/upstreams/ollama-local');
      expect(refused.body).toMatchObject({ status: 409, code: 'model_already_routed', models: ['llama'] });
      s = await lastSeq(h);
      expect((await call('DELETE', '/v1/upstreams/ollama-local?unroute_models=true&reason=moved')).status).toBe(204);
      expect(await eventsSince(h, s)).toMatchObject([{
        type: 'upstream.deleted', target: { name: 'ollama-local' },
        details: { provider: 'openai-compatible', models_unrouted: [{ resource: { name: 'llama' }, provider_model: 'llama3.1:8b' }], reason: 'moved' },
      }]);
      expect((await call('GET', '/v1/upstreams/ollama-local')).status).toBe(404);
      expect(await h.cp.gateway.upstreams.routeFor('llama')).toBeUndefined();
      expect((await call('DELETE', '/v1/upstreams/azure-eu')).status).toBe(204);
      // The name is free again, and so is the model.
      expect((await call('POST', '/v1/upstreams', { name: 'ollama-local', provider: 'openai-compatible', base_url: 'http://[::1]:11434', models: { llama: 'llama3.2' } })).status).toBe(201);
    });

    it.runIf(enabled)('routeFor opens the key for the forwarding step and follows a rotation, a re-route and an unroute on the next call', async () => {
      const first = key('anthropic-1');
      const up = await ok('POST', '/v1/upstreams', { name: 'anthropic', provider: 'anthropic', base_url: 'https://api.anthropic.com', key: first, timeout_ms: 90_000, retries: 2, models: { claude: 'claude-sonnet-4-5' } });
      const claude = await ok('GET', '/v1/resources/claude');
      const catalog = h.cp.gateway.upstreams;
      const expected = {
        resource: { id: claude.id, name: 'claude', kind: 'model' },
        upstream: { id: up.id, name: 'anthropic', provider: 'anthropic', baseUrl: 'https://api.anthropic.com', timeoutMs: 90_000, retries: 2, settings: {} },
        providerModel: 'claude-sonnet-4-5',
        key: first,
      };
      expect(await catalog.routeFor('claude')).toEqual(expected);
      expect(await catalog.routeFor(claude.id)).toEqual(expected);
      expect(await catalog.routeFor('kb')).toBeUndefined(); // a resource no upstream serves
      expect(await catalog.routeFor('no-such-model')).toBeUndefined();
      expect(await catalog.routeFor('')).toBeUndefined();
      expect(await catalog.routeFor('x'.repeat(5000))).toBeUndefined();

      // Rotation: the very next call gets the new key; audited without key material.
      const second = key('anthropic-2');
      const s = await lastSeq(h);
      const rotated = await call('PATCH', '/v1/upstreams/anthropic', { key: second, reason: 'quarterly rotation' });
      expect(rotated.status, rotated.text).toBe(200);
      expect(rotated.body).toMatchObject({ has_key: true, version: 2 });
      expect((await catalog.routeFor('claude'))!.key).toBe(second);
      const events = await eventsSince(h, s);
      expect(events).toMatchObject([{ type: 'upstream.key_rotated', target: { id: up.id, name: 'anthropic' }, details: { key: 'replaced', version: 2, reason: 'quarterly rotation' } }]);
      expect(Object.keys(events[0]!.details).sort()).toEqual(['key', 'reason', 'version']);

      // Re-route and settings changes apply at once too.
      await ok('PUT', '/v1/upstreams/anthropic/models/claude', { provider_model: 'claude-opus-4-1' });
      await ok('PATCH', '/v1/upstreams/anthropic', { timeout_ms: 5_000 });
      expect(await catalog.routeFor('claude')).toMatchObject({ providerModel: 'claude-opus-4-1', upstream: { timeoutMs: 5_000 }, key: second });
      expect(await catalog.modelsServed()).toEqual(expect.arrayContaining([{ resource: { id: claude.id, name: 'claude' }, upstream: 'anthropic' }]));
      await ok('DELETE', '/v1/upstreams/anthropic/models/claude');
      expect(await catalog.routeFor('claude')).toBeUndefined();
      expect((await catalog.modelsServed()).map((m) => m.resource.name)).not.toContain('claude');

      // A keyless local server: key null. Setting a key later, then removing it, is audited as such.
      await ok('POST', '/v1/upstreams', { name: 'vllm', provider: 'openai-compatible', base_url: 'http://10.0.0.5:8000/v1', models: { claude: 'meta-llama/Llama-3.1-8B-Instruct' } });
      expect(await catalog.routeFor('claude')).toMatchObject({ upstream: { name: 'vllm', provider: 'openai-compatible', baseUrl: 'http://10.0.0.5:8000/v1' }, key: null });
      const vllmKey = key('vllm');
      const s2 = await lastSeq(h);
      expect(await ok('PATCH', '/v1/upstreams/vllm', { key: vllmKey })).toMatchObject({ has_key: true });
      expect((await catalog.routeFor('claude'))!.key).toBe(vllmKey);
      expect(await ok('PATCH', '/v1/upstreams/vllm', { remove_key: true })).toMatchObject({ has_key: false });
      expect((await catalog.routeFor('claude'))!.key).toBeNull();
      expect((await eventsSince(h, s2)).map((e) => [e.type, e.details.key])).toEqual([['upstream.key_rotated', 'set'], ['upstream.key_rotated', 'removed']]);
    });

    it.runIf(enabled)('a sealed key opens only for its own upstream (the seal names the upstream id)', async () => {
      const a = await ok('POST', '/v1/upstreams', { name: 'seal-a', provider: 'openai', base_url: 'https://a.example.com/v1', key: key('seal-a'), models: { 'azure-gpt': 'gpt-4o' } });
      await ok('POST', '/v1/upstreams', { name: 'seal-b', provider: 'openai', base_url: 'https://b.example.com/v1', key: key('seal-b') });
      const rows = await h.cp.db.kysely.selectFrom('upstreams').select(['id', 'name', 'key_sealed']).where('name', 'in', ['seal-a', 'seal-b']).execute();
      const sealedB = rows.find((r) => r.name === 'seal-b')!.key_sealed!;
      await h.cp.db.kysely.updateTable('upstreams').set({ key_sealed: sealedB }).where('id', '=', a.id).execute();
      await expect(h.cp.gateway.upstreams.routeFor('azure-gpt')).rejects.toBeInstanceOf(SealedError);
    });

    it.runIf(enabled)('bad input is refused with a stable code and writes nothing', async () => {
      const k = key('bad-input');
      await ok('POST', '/v1/upstreams', { name: 'taken', provider: 'openai', base_url: 'https://api.openai.com/v1', key: key('taken'), models: { 'taken-model': 'gpt-4o' } });
      const cases: Array<[string, string, string, unknown, number, string, RegExp?]> = [
        ['unknown provider', 'POST', '/v1/upstreams', { name: 'x1', provider: 'gemini', base_url: 'https://g.example.com', key: k }, 400, 'validation_failed'],
        ['http to a public host', 'POST', '/v1/upstreams', { name: 'x2', provider: 'openai', base_url: 'http://api.openai.com/v1', key: k }, 422, 'invalid_upstream', /^base_url must use https/],
        ['http to a metadata address', 'POST', '/v1/upstreams', { name: 'x2b', provider: 'openai-compatible', base_url: 'http://169.254.169.254/v1' }, 422, 'invalid_upstream'],
        ['user information', 'POST', '/v1/upstreams', { name: 'x3', provider: 'openai', base_url: `https://user:${k}@api.openai.com/v1`, key: k }, 422, 'invalid_upstream', /user name or password/],
        ['a query', 'POST', '/v1/upstreams', { name: 'x4', provider: 'azure-openai', base_url: 'https://x.openai.azure.com/openai?api-version=1', key: k }, 422, 'invalid_upstream', /query/],
        ['a fragment', 'POST', '/v1/upstreams', { name: 'x4b', provider: 'openai', base_url: 'https://api.openai.com/v1#x', key: k }, 422, 'invalid_upstream', /fragment/],
        ['another scheme', 'POST', '/v1/upstreams', { name: 'x4c', provider: 'openai', base_url: 'file:///etc/passwd', key: k }, 422, 'invalid_upstream'],
        ['timeout too short', 'POST', '/v1/upstreams', { name: 'x5', provider: 'openai', base_url: 'https://api.openai.com', key: k, timeout_ms: 999 }, 400, 'validation_failed'],
        ['timeout too long', 'POST', '/v1/upstreams', { name: 'x6', provider: 'openai', base_url: 'https://api.openai.com', key: k, timeout_ms: 600_001 }, 400, 'validation_failed'],
        ['fractional timeout', 'POST', '/v1/upstreams', { name: 'x6b', provider: 'openai', base_url: 'https://api.openai.com', key: k, timeout_ms: 1500.5 }, 400, 'validation_failed'],
        ['too many retries', 'POST', '/v1/upstreams', { name: 'x7', provider: 'openai', base_url: 'https://api.openai.com', key: k, retries: 6 }, 400, 'validation_failed'],
        ['negative retries', 'POST', '/v1/upstreams', { name: 'x7b', provider: 'openai', base_url: 'https://api.openai.com', key: k, retries: -1 }, 400, 'validation_failed'],
        ['unknown resource', 'POST', '/v1/upstreams', { name: 'x8', provider: 'openai', base_url: 'https://api.openai.com', key: k, models: { 'no-such': 'gpt-4o' } }, 422, 'resource_not_found'],
        ['a dataset', 'POST', '/v1/upstreams', { name: 'x9', provider: 'openai', base_url: 'https://api.openai.com', key: k, models: { kb: 'gpt-4o' } }, 422, 'invalid_upstream', /is a dataset/],
        ['a tool', 'POST', '/v1/upstreams', { name: 'x9b', provider: 'openai', base_url: 'https://api.openai.com', key: k, models: { 'search-tool': 'gpt-4o' } }, 422, 'invalid_upstream', /is a tool/],
        ['a model served elsewhere', 'POST', '/v1/upstreams', { name: 'x10', provider: 'openai', base_url: 'https://api.openai.com', key: k, models: { 'taken-model': 'gpt-4o' } }, 409, 'model_already_routed'],
        ['a hosted provider without a key', 'POST', '/v1/upstreams', { name: 'x11', provider: 'anthropic', base_url: 'https://api.anthropic.com' }, 422, 'invalid_upstream', /needs a key/],
        ['api_version on openai', 'POST', '/v1/upstreams', { name: 'x12', provider: 'openai', base_url: 'https://api.openai.com', key: k, api_version: '2024-10-21' }, 422, 'invalid_upstream'],
        ['a short key', 'POST', '/v1/upstreams', { name: 'x13', provider: 'openai', base_url: 'https://api.openai.com', key: 'sk-1' }, 400, 'validation_failed'],
        ['a key with a space', 'POST', '/v1/upstreams', { name: 'x14', provider: 'openai', base_url: 'https://api.openai.com', key: `${k} x` }, 400, 'validation_failed'],
        ['a key with CR LF', 'POST', '/v1/upstreams', { name: 'x15', provider: 'openai', base_url: 'https://api.openai.com', key: `${k}\r\nX-Evil: 1` }, 400, 'validation_failed'],
        ['a key under another name', 'POST', '/v1/upstreams', { name: 'x16', provider: 'openai', base_url: 'https://api.openai.com', api_key: k }, 400, 'validation_failed'],
        ['a name taken', 'POST', '/v1/upstreams', { name: 'taken', provider: 'openai', base_url: 'https://api.openai.com', key: k }, 409, 'name_taken'],
        ['a bad name', 'POST', '/v1/upstreams', { name: 'Not_A_Label', provider: 'openai', base_url: 'https://api.openai.com', key: k }, 400, 'validation_failed'],
        ['one resource twice', 'POST', '/v1/upstreams', { name: 'x17', provider: 'openai', base_url: 'https://api.openai.com', key: k, models: { spare: 'a', [(await ok('GET', '/v1/resources/spare')).id]: 'b' } }, 422, 'invalid_upstream', /twice/],
        ['a provider model with spaces', 'POST', '/v1/upstreams', { name: 'x18', provider: 'openai', base_url: 'https://api.openai.com', key: k, models: { spare: 'gpt 4o' } }, 400, 'validation_failed'],
        ['nothing to change', 'PATCH', '/v1/upstreams/taken', {}, 400, 'validation_failed'],
        ['key and remove_key', 'PATCH', '/v1/upstreams/taken', { key: k, remove_key: true }, 400, 'validation_failed'],
        ['removing a hosted provider\'s key', 'PATCH', '/v1/upstreams/taken', { remove_key: true }, 422, 'invalid_upstream', /needs a key/],
        ['patching to plain http', 'PATCH', '/v1/upstreams/taken', { base_url: 'http://8.8.8.8/v1', key: k }, 422, 'invalid_upstream'],
        ['patching a name', 'PATCH', '/v1/upstreams/taken', { name: 'renamed' }, 400, 'validation_failed'],
        ['patching an unknown upstream', 'PATCH', '/v1/upstreams/nope', { key: k }, 404, 'not_found'],
        ['routing to an unknown upstream', 'PUT', '/v1/upstreams/nope/models/spare', { provider_model: 'x' }, 404, 'not_found'],
        ['routing an unknown resource', 'PUT', '/v1/upstreams/taken/models/no-such', { provider_model: 'x' }, 422, 'resource_not_found'],
        ['routing a dataset', 'PUT', '/v1/upstreams/taken/models/kb', { provider_model: 'x' }, 422, 'invalid_upstream'],
        ['routing without a provider model', 'PUT', '/v1/upstreams/taken/models/spare', {}, 400, 'validation_failed'],
        ['unrouting what is not routed', 'DELETE', '/v1/upstreams/taken/models/spare', undefined, 404, 'not_found'],
        ['deleting one that serves models', 'DELETE', '/v1/upstreams/taken', undefined, 409, 'model_already_routed'],
        ['deleting an unknown upstream', 'DELETE', '/v1/upstreams/nope', undefined, 404, 'not_found'],
      ];
      for (const [what, method, url, body, status, code, detail] of cases) {
        const before = await counts();
        const r = await call(method, url, body);
        expect(r.status, `${what}: ${r.text}`).toBe(status);
        expect(r.headers['content-type'], what).toMatch(/^application\/problem\+json/);
        expect(r.body.code, what).toBe(code);
        if (detail) expect(r.body.detail, what).toMatch(detail);
        expect(r.text, what).not.toContain(k);
        expect(r.text, what).not.toContain(k.slice(3, 20));
        expect(await counts(), what).toEqual(before);
      }
      // Nothing changed on the upstream the PATCH cases aimed at.
      expect(await ok('GET', '/v1/upstreams/taken')).toMatchObject({ version: 1, has_key: true, base_url: 'https://api.openai.com/v1' });
    });

    it.runIf(enabled)('no key given to the server is in any response, any audit event, or the upstreams table in clear', async () => {
      expect(keys.length).toBeGreaterThanOrEqual(8);
      const audit = await h.cp.db.kysely.selectFrom('audit_events').select(['canonical']).execute();
      const upstreamRows = JSON.stringify(await h.cp.db.kysely.selectFrom('upstreams').selectAll().execute());
      expect(upstreamRows).toMatch(/"key_sealed":"v1\./);
      for (const k of keys) {
        const body = k.slice(3); // without the common prefix
        expect(responses.filter((t) => t.includes(body)), k).toEqual([]);
        expect(audit.filter((r) => r.canonical.includes(body)), k).toEqual([]);
        expect(upstreamRows.includes(body), k).toBe(false);
        expect(upstreamRows.includes(Buffer.from(k).toString('base64')), k).toBe(false);
      }
      if (backend === 'sqlite') {
        // The whole store on disk (the database and its write-ahead log): no key in clear anywhere.
        const files = fs.readdirSync(h.dataDir).filter((f) => /\.(db|sqlite)(-wal|-shm)?$|-wal$/.test(f)).map((f) => path.join(h.dataDir, f));
        expect(files.length).toBeGreaterThan(0);
        for (const file of files) {
          const bytes = fs.readFileSync(file);
          for (const k of keys) expect(bytes.includes(Buffer.from(k.slice(3))), `${k} in ${file}`).toBe(false);
        }
      }
    });
  });
}
