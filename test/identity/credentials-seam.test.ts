import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentialDirectory, createPrincipalService, type PrincipalCredentialRevoker } from '../../src/identity/index.js';
import { systemActor, type Actor } from '../../src/platform/actor.js';
import { newId } from '../../src/platform/ids.js';
import type { Trx, WriteBatch } from '../../src/platform/store/db.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { eventsSince, lastSeq, rowCounts } from './store-probe.js';

// What the credentials module needs from identity, through the real API and store on both backends:
// may_delegate_to on principals, audience URIs and serving principals on resources, the credential directory,
// and the revoker port called inside the transaction that suspends or decommissions a principal.

for (const backend of BACKENDS) {
  describe(`identity for credentials on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let owner: string;
    const ids: Record<string, string> = {};
    const admin = (method: string, url: string, body?: unknown) => h.call(method, url, body);
    const asOwner = (method: string, url: string, body?: unknown) => h.call(method, url, body, owner);
    const stored = async (name: string) =>
      JSON.parse((await h.cp.db.kysely.selectFrom('principals').select('may_delegate_to').where('name', '=', name).executeTakeFirstOrThrow()).may_delegate_to) as string[];
    /** Status, code and whether the store and audit log were left untouched. */
    const refused = async (call: () => Promise<{ status: number; body: any }>) => {
      const before = await rowCounts(h);
      const res = await call();
      return { status: res.status, code: res.body?.code as string | undefined, unchanged: JSON.stringify(await rowCounts(h)) === JSON.stringify(before), detail: res.body?.detail as string };
    };

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      owner = await h.operator('olga', 'owner');
      await admin('POST', '/v1/principals', { name: 'pat', kind: 'human' });
      await admin('POST', '/v1/teams', { name: 'platform' });
      await admin('PUT', '/v1/teams/platform/members/pat', {});
      for (const [name, kind, own] of [
        ['planner', 'agent', { owner: 'olga' }], ['retriever', 'agent', { owner: 'olga' }], ['gateway-svc', 'service_account', { owner_team: 'platform' }],
        ['foreign-bot', 'agent', { owner: 'pat' }], ['olga-svc', 'workload', { owner: 'olga' }],
      ] as const) {
        const r = await admin('POST', '/v1/principals', { name, kind, status: 'active', ...own });
        if (r.status !== 201) throw new Error(r.text);
        ids[name] = r.body.id;
      }
      ids.pat = (await admin('GET', '/v1/principals/pat')).body.id;
      ids.olga = (await admin('GET', '/v1/principals/olga')).body.id;
      await asOwner('GET', '/v1/whoami');
    });
    afterAll(async () => { await h?.close(); });

    describe('may_delegate_to', () => {
      it.runIf(enabled)('create takes ids, names and kind: entries, stores ids without repeats, shows names, and records the list', async () => {
        const seq = await lastSeq(h);
        const r = await admin('POST', '/v1/principals', {
          name: 'orchestrator', kind: 'agent', owner: 'olga', may_delegate_to: ['planner', ids.retriever, 'kind:workload', 'planner'],
        });
        expect(r.status, r.text).toBe(201);
        expect(r.body.may_delegate_to).toEqual(['planner', 'retriever', 'kind:workload']);
        expect(await stored('orchestrator')).toEqual([ids.planner, ids.retriever, 'kind:workload']);
        expect((await admin('GET', '/v1/principals/orchestrator')).body.may_delegate_to).toEqual(['planner', 'retriever', 'kind:workload']);
        const [created] = await eventsSince(h, seq);
        expect(created!.details.principal.may_delegate_to).toEqual(['planner', 'retriever', 'kind:workload']);
        // A principal created without the field delegates to nobody.
        expect((await admin('GET', '/v1/principals/planner')).body.may_delegate_to).toEqual([]);
      });

      it.runIf(enabled)('unknown principals are principal_not_found and unknown kinds or oversized lists validation_failed; nothing is written', async () => {
        const cases = [
          [{ name: 'x1', kind: 'agent', owner: 'olga', may_delegate_to: ['planner', 'ghost'] }, 422, 'principal_not_found'],
          [{ name: 'x2', kind: 'agent', owner: 'olga', may_delegate_to: ['kind:robot'] }, 400, 'validation_failed'],
          [{ name: 'x3', kind: 'agent', owner: 'olga', may_delegate_to: ['kind:'] }, 400, 'validation_failed'],
          [{ name: 'x4', kind: 'agent', owner: 'olga', may_delegate_to: Array.from({ length: 101 }, () => 'kind:agent') }, 400, 'validation_failed'],
          [{ name: 'x5', kind: 'agent', owner: 'olga', may_delegate_to: 'planner' }, 400, 'validation_failed'],
        ] as const;
        for (const [body, status, code] of cases) {
          const r = await refused(() => admin('POST', '/v1/principals', body));
          expect([r.status, r.code, r.unchanged], JSON.stringify(body).slice(0, 80)).toEqual([status, code, true]);
        }
        const patch = await refused(() => admin('PATCH', '/v1/principals/planner', { may_delegate_to: ['nobody-here'] }));
        expect([patch.status, patch.code, patch.unchanged]).toEqual([422, 'principal_not_found', true]);
        expect(patch.detail).toContain("'nobody-here'");
      });

      it.runIf(enabled)('PATCH replaces the list, [] clears it, an unchanged list records nothing; each change is audited with before and after', async () => {
        const seq = await lastSeq(h);
        const v = (await admin('GET', '/v1/principals/planner')).body.version;
        const set = await admin('PATCH', '/v1/principals/planner', { may_delegate_to: ['retriever', 'kind:agent'], reason: 'sub-agents' });
        expect(set.status, set.text).toBe(200);
        expect(set.body).toMatchObject({ may_delegate_to: ['retriever', 'kind:agent'], version: v + 1 });
        const same = await admin('PATCH', '/v1/principals/planner', { may_delegate_to: [ids.retriever, 'kind:agent'] });
        expect(same.body.version).toBe(v + 1);
        const cleared = await admin('PATCH', '/v1/principals/planner', { may_delegate_to: [] });
        expect(cleared.body).toMatchObject({ may_delegate_to: [], version: v + 2 });
        const events = await eventsSince(h, seq);
        expect(events.map((e) => e.type)).toEqual(['principal.updated', 'principal.updated']);
        expect(events[0]!.details).toMatchObject({
          reason: 'sub-agents', changed: ['may_delegate_to'], before: { may_delegate_to: [] }, after: { may_delegate_to: ['retriever', 'kind:agent'] },
        });
        expect(events[1]!.details).toMatchObject({ before: { may_delegate_to: ['retriever', 'kind:agent'] }, after: { may_delegate_to: [] } });
      });

      it.runIf(enabled)('owners set it on what they own, naming principals they may see; one they may not see answers like one that does not exist', async () => {
        const mine = await asOwner('PATCH', '/v1/principals/planner', { may_delegate_to: ['retriever', 'olga-svc', 'kind:agent'] });
        expect(mine.status, mine.text).toBe(200);
        const hidden = await refused(() => asOwner('PATCH', '/v1/principals/planner', { may_delegate_to: ['retriever', 'foreign-bot'] }));
        const missing = await refused(() => asOwner('PATCH', '/v1/principals/planner', { may_delegate_to: ['retriever', 'no-such-bot'] }));
        expect([hidden.status, hidden.code, hidden.unchanged]).toEqual([422, 'principal_not_found', true]);
        expect([missing.status, missing.code]).toEqual([422, 'principal_not_found']);
        expect(hidden.detail.replace('foreign-bot', 'X')).toBe(missing.detail.replace('no-such-bot', 'X'));
        // By id as well: an id reveals no name.
        expect((await refused(() => asOwner('PATCH', '/v1/principals/planner', { may_delegate_to: [ids['gateway-svc']] }))).code).toBe('principal_not_found');
        // Not on what they do not own (404, as if it did not exist).
        expect((await asOwner('PATCH', '/v1/principals/foreign-bot', { may_delegate_to: [] })).status).toBe(404);
        // An entry an admin put there stays when the owner edits the list around it, and the owner may remove it.
        await admin('PATCH', '/v1/principals/planner', { may_delegate_to: ['gateway-svc'] });
        const kept = await asOwner('PATCH', '/v1/principals/planner', { may_delegate_to: ['gateway-svc', 'retriever'] });
        expect(kept.status, kept.text).toBe(200);
        expect(kept.body.may_delegate_to).toEqual(['gateway-svc', 'retriever']);
        expect((await asOwner('PATCH', '/v1/principals/planner', { may_delegate_to: ['retriever'] })).body.may_delegate_to).toEqual(['retriever']);
        // On create, too.
        const proposed = await asOwner('POST', '/v1/principals', { name: 'olga-helper', kind: 'agent', owner: 'olga', may_delegate_to: ['planner', 'kind:agent'] });
        expect([proposed.status, proposed.body.may_delegate_to]).toEqual([201, ['planner', 'kind:agent']]);
        expect((await refused(() => asOwner('POST', '/v1/principals', { name: 'olga-helper-2', kind: 'agent', owner: 'olga', may_delegate_to: ['foreign-bot'] }))).code).toBe('principal_not_found');
      });

      it.runIf(enabled)('the CSV export lists it as names and kind: entries', async () => {
        await admin('PATCH', '/v1/principals/planner', { may_delegate_to: ['retriever', 'kind:agent'] });
        const res = await h.cp.http.inject({ method: 'GET', url: '/v1/principals?format=csv&name_prefix=planner', headers: { authorization: `Bearer ${h.adminToken}` } });
        const [head, row] = res.body.trim().split('\n');
        const column = head!.split(',').indexOf('may_delegate_to');
        expect(column).toBeGreaterThan(-1);
        expect(row!.split(',')[column]).toBe('retriever kind:agent');
      });
    });

    describe('resources: uri and server', () => {
      it.runIf(enabled)('create and update set, show, audit and clear them; the audience follows the uri', async () => {
        const seq = await lastSeq(h);
        const r = await admin('POST', '/v1/resources', { name: 'llm-gateway', kind: 'endpoint', owner_team: 'platform', uri: 'https://gw.example.com', server: 'gateway-svc' });
        expect(r.status, r.text).toBe(201);
        expect(r.body).toMatchObject({ uri: 'https://gw.example.com', audience: 'https://gw.example.com', server: { id: ids['gateway-svc'], name: 'gateway-svc' } });
        expect((await admin('GET', '/v1/resources/llm-gateway')).body).toMatchObject({ uri: 'https://gw.example.com', server: { name: 'gateway-svc' } });
        const plain = await admin('POST', '/v1/resources', { name: 'plain-model', kind: 'model', owner: 'pat' });
        expect(plain.body).toMatchObject({ uri: null, audience: 'urn:custos:resource:plain-model', server: null });

        const moved = await admin('PATCH', '/v1/resources/llm-gateway', { uri: 'https://gw2.example.com/v1', server: ids['olga-svc'], reason: 'moved' });
        expect(moved.body).toMatchObject({ uri: 'https://gw2.example.com/v1', audience: 'https://gw2.example.com/v1', server: { name: 'olga-svc' } });
        const cleared = await admin('PATCH', '/v1/resources/llm-gateway', { uri: null, server: null });
        expect(cleared.body).toMatchObject({ uri: null, audience: 'urn:custos:resource:llm-gateway', server: null });
        const unchanged = await lastSeq(h);
        await admin('PATCH', '/v1/resources/llm-gateway', { uri: null, server: null });
        expect(await lastSeq(h)).toBe(unchanged);

        const events = await eventsSince(h, seq);
        expect(events.map((e) => e.type)).toEqual(['resource.created', 'resource.created', 'resource.updated', 'resource.updated']);
        expect(events[0]!.details.resource).toMatchObject({ uri: 'https://gw.example.com', server: { name: 'gateway-svc' } });
        expect(events[2]!.details).toMatchObject({
          reason: 'moved', changed: expect.arrayContaining(['uri', 'server_principal_id']),
          before: { uri: 'https://gw.example.com', server: { name: 'gateway-svc' } }, after: { uri: 'https://gw2.example.com/v1', server: { name: 'olga-svc' } },
        });
        expect(events[3]!.details).toMatchObject({ after: { uri: null, server: null } });
      });

      it.runIf(enabled)('a uri is unique: a second claim is resource_uri_taken on create and update, and writes nothing', async () => {
        await admin('POST', '/v1/resources', { name: 'mcp-tools', kind: 'tool', owner: 'pat', uri: 'urn:example:mcp-tools' });
        const create = await refused(() => admin('POST', '/v1/resources', { name: 'mcp-tools-2', kind: 'tool', owner: 'pat', uri: 'urn:example:mcp-tools' }));
        expect([create.status, create.code, create.unchanged]).toEqual([409, 'resource_uri_taken', true]);
        expect(create.detail).toContain("'mcp-tools'");
        const update = await refused(() => admin('PATCH', '/v1/resources/plain-model', { uri: 'urn:example:mcp-tools' }));
        expect([update.status, update.code, update.unchanged]).toEqual([409, 'resource_uri_taken', true]);
        // Setting a resource's own uri again is no change, not a clash.
        expect((await admin('PATCH', '/v1/resources/mcp-tools', { uri: 'urn:example:mcp-tools' })).status).toBe(200);
        // Compared exactly as written: a trailing slash is another URI.
        await admin('POST', '/v1/resources', { name: 'slash-a', kind: 'endpoint', owner: 'pat', uri: 'https://s.example.com' });
        expect((await admin('POST', '/v1/resources', { name: 'slash-b', kind: 'endpoint', owner: 'pat', uri: 'https://s.example.com/' })).status).toBe(201);
        // A name clash is still name_taken.
        expect((await admin('POST', '/v1/resources', { name: 'mcp-tools', kind: 'tool', owner: 'pat', uri: 'urn:example:other' })).body.code).toBe('name_taken');
      });

      it.runIf(enabled)('bad uris and servers are refused with their codes and write nothing', async () => {
        const base = { kind: 'model', owner: 'pat' };
        const cases: Array<[Record<string, unknown>, number, string]> = [
          [{ uri: 'https://gw.example.com/#frag' }, 400, 'validation_failed'],
          [{ uri: 'ftp://x.example.com' }, 400, 'validation_failed'],
          [{ uri: 'urn:custos:resource:plain-model' }, 400, 'validation_failed'],
          [{ uri: `https://x.example.com/${'a'.repeat(2048)}` }, 400, 'validation_failed'],
          [{ uri: '' }, 400, 'validation_failed'],
          [{ server: 'ghost-svc' }, 422, 'principal_not_found'],
          [{ server: 'pat' }, 400, 'validation_failed'],
        ];
        for (const [extra, status, code] of cases) {
          const r = await refused(() => admin('POST', '/v1/resources', { name: 'bad-one', ...base, ...extra }));
          expect([r.status, r.code, r.unchanged], JSON.stringify(extra).slice(0, 80)).toEqual([status, code, true]);
          const p = await refused(() => admin('PATCH', '/v1/resources/plain-model', extra));
          expect([p.status, p.code, p.unchanged], `PATCH ${JSON.stringify(extra).slice(0, 80)}`).toEqual([status, code, true]);
        }
        await admin('POST', '/v1/principals', { name: 'old-svc', kind: 'service_account', owner: 'pat', status: 'active' });
        await admin('POST', '/v1/principals/old-svc/decommission', {});
        expect((await refused(() => admin('POST', '/v1/resources', { name: 'bad-one', ...base, server: 'old-svc' }))).code).toBe('principal_decommissioned');
      });

      it.runIf(enabled)('owners set the server of what they own but never its audience URI; a server they may not see answers like one that does not exist', async () => {
        // Tokens addressed to a URI are accepted by the service answering there: an owner claiming one would mint its audience.
        const claim = await refused(() => asOwner('POST', '/v1/resources', { name: 'olga-model', kind: 'model', owner: 'olga', uri: 'https://olga.example.com', server: 'olga-svc' }));
        expect([claim.status, claim.code, claim.unchanged]).toEqual([403, 'forbidden', true]);
        expect((await asOwner('POST', '/v1/resources', { name: 'olga-model', kind: 'model', owner: 'olga', server: 'olga-svc' })).status).toBe(201);
        const set = await asOwner('PATCH', '/v1/resources/olga-model', { server: 'planner' });
        expect(set.status, set.text).toBe(200);
        expect(set.body).toMatchObject({ uri: null, server: { name: 'planner' } });
        const uri = await refused(() => asOwner('PATCH', '/v1/resources/olga-model', { uri: 'https://olga2.example.com' }));
        expect([uri.status, uri.code, uri.unchanged]).toEqual([403, 'forbidden', true]);
        expect((await admin('PATCH', '/v1/resources/olga-model', { uri: 'https://olga2.example.com' })).status).toBe(200);
        const hidden = await refused(() => asOwner('PATCH', '/v1/resources/olga-model', { server: 'gateway-svc' }));
        const missing = await refused(() => asOwner('PATCH', '/v1/resources/olga-model', { server: 'nope-svc' }));
        expect([hidden.status, hidden.code, hidden.unchanged]).toEqual([422, 'principal_not_found', true]);
        expect(hidden.detail.replace('gateway-svc', 'X')).toBe(missing.detail.replace('nope-svc', 'X'));
        // An owner cannot touch what they do not own.
        expect((await asOwner('PATCH', '/v1/resources/mcp-tools', { uri: null })).status).toBe(404);
      });
    });

    it.runIf(enabled)('the OpenAPI document lists the codes these fields answer with', async () => {
      const doc = (await h.call('GET', '/openapi.json', undefined, null)).body;
      for (const method of ['post', 'patch'] as const) {
        expect(doc.paths[method === 'post' ? '/v1/principals' : '/v1/principals/{ref}'][method]['x-error-codes']).toContain('principal_not_found');
        expect(doc.paths[method === 'post' ? '/v1/resources' : '/v1/resources/{ref}'][method]['x-error-codes'])
          .toEqual(expect.arrayContaining(['resource_uri_taken', 'principal_not_found', 'principal_decommissioned', 'validation_failed']));
      }
    });

    describe('the credential directory', () => {
      it.runIf(enabled)('reads a principal by id or name with what issuance decides on, teams included', async () => {
        await admin('POST', '/v1/teams', { name: 'agents-team' });
        await admin('PUT', '/v1/teams/agents-team/members/planner', {});
        await admin('PUT', '/v1/teams/platform/members/planner', {});
        await admin('PATCH', '/v1/principals/planner', {
          scopes: ['model:invoke'], purposes: ['support'], risk_tier: 'high', data_ceiling: 'confidential', may_delegate_to: ['retriever', 'kind:workload'],
        });
        const dir = createCredentialDirectory({ db: h.cp.db });
        const byName = await dir.principal('planner');
        expect(byName).toEqual({
          id: ids.planner, name: 'planner', kind: 'agent', status: 'active', ownerId: ids.olga, ownerTeamId: null, scopes: ['model:invoke'], purposes: ['support'],
          riskTier: 'high', mayDelegateTo: [ids.retriever, 'kind:workload'], dataCeiling: 'confidential', teamIds: expect.any(Array),
        });
        const teamIds = (await h.cp.db.kysely.selectFrom('teams').select('id').where('name', 'in', ['agents-team', 'platform']).execute()).map((t) => t.id);
        expect([...byName!.teamIds].sort()).toEqual(teamIds.sort());
        expect(await dir.principal(ids.planner!)).toEqual(byName);
        expect(await dir.principal('gateway-svc')).toMatchObject({ ownerId: null, ownerTeamId: (await admin('GET', '/v1/teams/platform')).body.id });
        expect(await dir.principal('pat')).toMatchObject({ kind: 'human', ownerId: null, mayDelegateTo: [], teamIds: [expect.any(String)], dataCeiling: null });
        expect(await dir.principal('nobody')).toBeUndefined();
        expect(await dir.principal('0190d7a2-0000-7000-8000-000000000000')).toBeUndefined();
        expect(await dir.principalNames([ids.planner!, ids.retriever!, 'unknown'])).toEqual(new Map([[ids.planner!, 'planner'], [ids.retriever!, 'retriever']]));
      });

      it.runIf(enabled)('resolves resource indicators: exact uri, urn:custos:resource:<name>, bare name; the audience is the uri, else the urn', async () => {
        const dir = createCredentialDirectory({ db: h.cp.db });
        await admin('PATCH', '/v1/resources/llm-gateway', { uri: 'https://gw.example.com', server: 'gateway-svc', purposes: ['support'], classification: 'confidential' });
        const gw = (await admin('GET', '/v1/resources/llm-gateway')).body;
        const expected = {
          id: gw.id, name: 'llm-gateway', kind: 'endpoint', audience: 'https://gw.example.com', purposes: ['support'], classification: 'confidential', serverPrincipalId: ids['gateway-svc'],
        };
        expect(await dir.resourceByIndicator('https://gw.example.com')).toEqual(expected);
        expect(await dir.resourceByIndicator('urn:custos:resource:llm-gateway')).toEqual(expected);
        expect(await dir.resourceByIndicator('llm-gateway')).toEqual(expected);
        expect(await dir.resourceByIndicator('plain-model')).toMatchObject({ name: 'plain-model', audience: 'urn:custos:resource:plain-model', serverPrincipalId: null });
        for (const miss of ['https://gw.example.com/', 'HTTPS://gw.example.com', 'https://nowhere.example.com', 'urn:custos:resource:nope', 'nope', '', 'urn:custos:resource:']) {
          expect(await dir.resourceByIndicator(miss), miss).toBeUndefined();
        }
      });

      it.runIf(enabled)('reads inside the caller\'s transaction, seeing what it has written but not committed', async () => {
        const dir = createCredentialDirectory({ db: h.cp.db });
        const seen = await h.cp.db.write(async (trx) => {
          await trx.updateTable('principals').set({ scopes: '["in:trx"]' }).where('name', '=', 'retriever').execute();
          const inside = await dir.principal('retriever', trx);
          throw Object.assign(new Error('roll back'), { inside });
        }).catch((e: { inside?: unknown }) => e.inside);
        expect(seen).toMatchObject({ name: 'retriever', scopes: ['in:trx'] });
        expect((await dir.principal('retriever'))!.scopes).toEqual([]);
      });
    });

    describe('suspending or decommissioning revokes what the principal holds', () => {
      const roles = { highestRoleOf: async () => null, adminHolderIds: async () => [] };
      const actor: Actor = systemActor('background');

      /** A revoker that records an audit event through the transaction and batch it is given, and remembers its calls. */
      function spy(fail = false) {
        const calls: Array<{ principalId: string; reason: string; statusInTrx: string | undefined }> = [];
        const revoker: PrincipalCredentialRevoker = {
          async revokeAllOf(trx: Trx, batch: WriteBatch, who: Actor, principalId: string, reason: string) {
            const row = await trx.selectFrom('principals').select('status').where('id', '=', principalId).executeTakeFirst();
            calls.push({ principalId, reason, statusInTrx: row?.status });
            await h.cp.audit.record(trx, batch, { type: 'credential.test.revoked', action: 'credential.revoke', actor: who, target: { type: 'principal', id: principalId }, outcome: 'success' });
            if (fail) throw new Error('revocation failed');
          },
        };
        return { calls, revoker };
      }
      const service = (revoker: PrincipalCredentialRevoker) => createPrincipalService({ db: h.cp.db, audit: h.cp.audit, clock: h.clock, newId, roles, credentials: revoker });
      const agent = async (name: string) => {
        const r = await admin('POST', '/v1/principals', { name, kind: 'agent', owner: 'pat', status: 'active' });
        if (r.status !== 201) throw new Error(r.text);
        return r.body.id as string;
      };

      it.runIf(enabled)('suspend and decommission call the revoker in the transaction that changes the status; its writes commit with it', async () => {
        const id = await agent('to-suspend');
        const { calls, revoker } = spy();
        const principals = service(revoker);
        const seq = await lastSeq(h);
        expect((await principals.transition(actor, 'to-suspend', 'suspend', 'INC-42')).status).toBe('suspended');
        expect(calls).toEqual([{ principalId: id, reason: 'principal suspended: INC-42', statusInTrx: 'suspended' }]);
        expect((await eventsSince(h, seq)).map((e) => e.type)).toEqual(['principal.suspended', 'credential.test.revoked']);

        expect((await principals.transition(actor, 'to-suspend', 'activate', undefined)).status).toBe('active');
        expect(calls).toHaveLength(1);

        const seq2 = await lastSeq(h);
        expect((await principals.transition(actor, 'to-suspend', 'decommission', undefined)).status).toBe('decommissioned');
        expect(calls[1]).toEqual({ principalId: id, reason: 'principal decommissioned', statusInTrx: 'decommissioned' });
        expect((await eventsSince(h, seq2)).map((e) => e.type)).toEqual(['principal.decommissioned', 'credential.test.revoked']);
      });

      it.runIf(enabled)('activation never calls it, from proposed or suspended; a proposal rejected by decommissioning does', async () => {
        const { calls, revoker } = spy();
        const principals = service(revoker);
        await admin('POST', '/v1/principals', { name: 'proposal', kind: 'agent', owner: 'pat' });
        await principals.transition(actor, 'proposal', 'activate', undefined);
        expect(calls).toEqual([]);
        await admin('POST', '/v1/principals', { name: 'rejected', kind: 'agent', owner: 'pat' });
        await principals.transition(actor, 'rejected', 'decommission', 'not needed');
        expect(calls.map((c) => c.reason)).toEqual(['principal decommissioned: not needed']);
      });

      it.runIf(enabled)('when revocation fails, the status change and its audit event are rolled back with it', async () => {
        await agent('stays-active');
        const { calls, revoker } = spy(true);
        const seq = await lastSeq(h);
        await expect(service(revoker).transition(actor, 'stays-active', 'suspend', 'try')).rejects.toThrow('revocation failed');
        expect(calls).toHaveLength(1);
        expect((await admin('GET', '/v1/principals/stays-active')).body.status).toBe('active');
        expect(await eventsSince(h, seq)).toEqual([]);
      });

      it.runIf(enabled)('a refused transition never reaches the revoker', async () => {
        const { calls, revoker } = spy();
        await agent('twice');
        const principals = service(revoker);
        await principals.transition(actor, 'twice', 'suspend', undefined);
        await expect(principals.transition(actor, 'twice', 'suspend', undefined)).rejects.toMatchObject({ code: 'invalid_transition' });
        expect(calls).toHaveLength(1);
      });
    });
  });
}
