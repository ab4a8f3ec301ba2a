import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyRequest } from 'fastify';
import { credentialActor, NO_PROVENANCE, type Actor } from '../../src/platform/actor.js';
import { createHttpApp, type HttpApp } from '../../src/platform/http/app.js';
import { errors } from '../../src/platform/http/errors.js';
import { newId } from '../../src/platform/ids.js';
import { createLogger } from '../../src/platform/logger.js';
import { authorize } from '../../src/operators/index.js';
import { createInventoryService, type InventoryPrincipal, type InventorySource } from '../../src/credentials/inventory.service.js';
import { registerInventoryRoutes } from '../../src/credentials/inventory.routes.js';
import type { InventoryItem } from '../../src/credentials/inventory.schemas.js';
import { createRevocationService, type CredentialHolder, type RevocationService } from '../../src/credentials/revocation.service.js';
import * as tokens from '../../src/credentials/tokens.repo.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { openStoreFixture, testOperator, tokenRow, type StoreFixture } from '../support/credentials-store.js';

// /v1/credentials over HTTP, on both stores: what a principal holds across kinds, filters, sorts and pages, and
// who may list and revoke what (operators by role and ownership; a principal acting for itself only its own).

for (const backend of BACKENDS) {
  describe(`credential inventory on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let f: StoreFixture;
    let app: HttpApp;
    let revocation: RevocationService;
    const principals = new Map<string, InventoryPrincipal>();
    const actors = new Map<string, Actor>();
    const held: InventoryItem[] = [];
    const holderCalls: string[] = [];

    const owner = testOperator('owner', newId(), ['team-owners']);
    const alice: InventoryPrincipal = { id: newId(), name: 'alice-agent', ownerId: owner.principal!.id, ownerTeamId: null };
    const bob: InventoryPrincipal = { id: newId(), name: 'bob-agent', ownerId: newId(), ownerTeamId: null };
    const carol: InventoryPrincipal = { id: newId(), name: 'carol-agent', ownerId: null, ownerTeamId: 'team-owners' };
    const t = {} as Record<'a15' | 'a60' | 'a5' | 'aRevoked' | 'aExpired' | 'b' | 'c' | 'bForA', string>;

    function selfActor(p: InventoryPrincipal, kind: 'access_token' | 'api_key'): Actor {
      return credentialActor({
        principal: { id: p.id, name: p.name, kind: 'agent', status: 'active', ownerId: p.ownerId }, credential: { id: newId(), kind },
        authMethod: kind === 'api_key' ? 'api_key' : 'private_key_jwt', teamIds: [], scope: [], purpose: null, audience: [],
        binding: null, delegationChain: [], provenance: NO_PROVENANCE,
      });
    }

    async function call(as: string, method: 'GET' | 'POST', url: string, body?: unknown) {
      const res = await app.inject({ method, url, headers: { authorization: `Bearer ${as}`, ...(body ? { 'content-type': 'application/json' } : {}) }, payload: body ? JSON.stringify(body) : undefined });
      return { status: res.statusCode, body: res.json() as any };
    }

    beforeAll(async () => {
      if (!enabled) return;
      f = await openStoreFixture(backend);
      for (const p of [alice, bob, carol]) principals.set(p.id, p);
      const holder: CredentialHolder = { async revokeAllOf(_t, _b, _a, id) { holderCalls.push(id); } };
      revocation = createRevocationService({ db: f.db, audit: f.audit, clock: f.clock, holders: [holder] });
      await revocation.load();
      const source: InventorySource = {
        async heldBy(id) { return held.filter((i) => i.principal.id === id); },
        async all() { return held; },
      };
      const inventory = createInventoryService({
        db: f.db, clock: f.clock, revocation, inventories: [source],
        directory: {
          async principal(ref) { return principals.get(ref) ?? [...principals.values()].find((p) => p.name === ref); },
          async principalNames(ids) { return new Map(ids.map((id) => [id, principals.get(id)?.name ?? id])); },
        },
      });
      for (const role of ['admin', 'security', 'auditor'] as const) actors.set(role, testOperator(role));
      actors.set('owner', owner);
      actors.set('alice', selfActor(alice, 'access_token'));
      actors.set('alice-key', selfActor(alice, 'api_key'));
      app = await createHttpApp({
        logger: createLogger('silent'), version: 'test',
        // The lead's pipeline maps a principal's own credential to credential.read/revoke; here: the same rule.
        pipeline: async (req: FastifyRequest, requirement) => {
          const actor = actors.get(String(req.headers.authorization).replace(/^Bearer /, ''));
          if (!actor) throw errors.unauthenticated();
          const allowed = actor.role === null ? ['credential.read', 'credential.revoke'].includes(requirement.permission ?? '') : authorize(actor, requirement.permission ?? '');
          if (!allowed) throw errors.forbidden('not permitted');
          return actor;
        },
      });
      registerInventoryRoutes(app, inventory);
      await app.ready();

      // alice: three live tokens of different lifetimes, one revoked, one expired; bob: one; carol: one.
      const now = f.clock.now();
      const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);
      const rows = [
        tokenRow({ jti: (t.a15 = newId()), principal_id: alice.id }, minutesAgo(1), 900),
        tokenRow({ jti: (t.a60 = newId()), principal_id: alice.id }, minutesAgo(2), 3600),
        tokenRow({ jti: (t.a5 = newId()), principal_id: alice.id, parent_jti: null }, minutesAgo(0), 300),
        tokenRow({ jti: (t.aRevoked = newId()), principal_id: alice.id, revoked_at: now.toISOString(), revoked_reason: 'x' }, minutesAgo(3), 900),
        tokenRow({ jti: (t.aExpired = newId()), principal_id: alice.id }, minutesAgo(30), 600),
        tokenRow({ jti: (t.b = newId()), principal_id: bob.id }, minutesAgo(1), 900),
        tokenRow({ jti: (t.c = newId()), principal_id: carol.id }, minutesAgo(1), 900),
        // A token bob obtained acting for alice (bob is the client): bob may revoke it, alice too.
        tokenRow({ jti: (t.bForA = newId()), principal_id: alice.id, client_id: bob.id, act_chain: JSON.stringify([bob.id]), depth: 1, parent_jti: t.a60, family_id: t.a60 }, minutesAgo(1), 600),
      ];
      await f.db.write(async (trx) => { for (const r of rows) await tokens.insertToken(trx, r); });
      const item = (id: string, kind: InventoryItem['kind'], p: InventoryPrincipal, hours: number | null, used: boolean, revoked = false): InventoryItem => ({
        id, kind, principal: { id: p.id, name: p.name }, created_at: minutesAgo(60).toISOString(),
        expires_at: hours === null ? null : new Date(now.getTime() + hours * 3600_000).toISOString(),
        last_used_at: used ? now.toISOString() : null, revoked_at: revoked ? now.toISOString() : null, details: {},
      });
      held.push(
        item('akaliceaaaaaaaa2', 'api_key', alice, 24, false),
        item('csaliceaaaaaaaa3', 'client_secret', alice, 24 * 30, true),
        item('ckaliceaaaaaaaa4', 'client_key', alice, null, true),
        item('akalicerevokeda5', 'api_key', alice, 24, false, true),
        item('akbobaaaaaaaaaa6', 'api_key', bob, 2, false),
      );
    });
    afterAll(async () => { await app?.close(); await f?.close(); });

    it.runIf(enabled)('lists what a principal holds across kinds: live only, never a revoked or expired one', async () => {
      const r = await call('admin', 'GET', `/v1/credentials?principal=${alice.name}`);
      expect(r.status).toBe(200);
      expect(r.body.items.map((i: InventoryItem) => i.id).sort()).toEqual([t.a15, t.a60, t.a5, t.bForA, 'akaliceaaaaaaaa2', 'csaliceaaaaaaaa3', 'ckaliceaaaaaaaa4'].sort());
      const token = r.body.items.find((i: InventoryItem) => i.id === t.bForA);
      expect(token).toMatchObject({ kind: 'access_token', principal: { id: alice.id, name: 'alice-agent' }, details: { client_id: bob.id, act_chain: [bob.id], family_id: t.a60, scope: ['model:invoke'] } });
      expect(JSON.stringify(r.body)).not.toMatch(/secret_hash|eyJ/);
      const keys = await call('admin', 'GET', `/v1/credentials?principal=${alice.id}&kind=api_key`);
      expect(keys.body.items.map((i: InventoryItem) => i.id)).toEqual(['akaliceaaaaaaaa2']);
      const all = await call('auditor', 'GET', '/v1/credentials?kind=access_token');
      expect(all.body.items).toHaveLength(6);
    });

    it.runIf(enabled)('expiring soon, never used, longest-lived', async () => {
      const soon = await call('admin', 'GET', `/v1/credentials?principal=${alice.name}&expiring_within=10m&sort=expires_at`);
      expect(soon.body.items.map((i: InventoryItem) => i.id)).toEqual([t.a5, t.bForA]);
      const day = await call('admin', 'GET', `/v1/credentials?principal=${alice.name}&state=expiring&expiring_within=1d&sort=expires_at`);
      expect(day.body.items.map((i: InventoryItem) => i.id)).toEqual([t.a5, t.bForA, t.a15, t.a60, 'akaliceaaaaaaaa2']);
      const never = await call('admin', 'GET', `/v1/credentials?principal=${alice.name}&state=never_used`);
      expect(never.body.items.map((i: InventoryItem) => i.id)).toEqual(['akaliceaaaaaaaa2']);
      const longest = await call('admin', 'GET', `/v1/credentials?principal=${alice.name}&sort=lifetime`);
      expect(longest.body.items.map((i: InventoryItem) => i.id).slice(0, 4)).toEqual(['ckaliceaaaaaaaa4', 'csaliceaaaaaaaa3', 'akaliceaaaaaaaa2', t.a60]);
      expect((await call('admin', 'GET', '/v1/credentials?expiring_within=forever')).status).toBe(400);
    });

    it.runIf(enabled)('pages through the merged list with every sort, each item once, in order', async () => {
      for (const sort of ['', '&sort=expires_at', '&sort=lifetime']) {
        const full = (await call('admin', 'GET', `/v1/credentials?principal=${alice.id}${sort}`)).body.items.map((i: InventoryItem) => i.id);
        const walked: string[] = [];
        let cursor: string | null = null;
        do {
          const page: { status: number; body: any } = await call('admin', 'GET', `/v1/credentials?principal=${alice.id}${sort}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
          expect(page.status).toBe(200);
          expect(page.body.items.length).toBeLessThanOrEqual(2);
          walked.push(...page.body.items.map((i: InventoryItem) => i.id));
          cursor = page.body.next_cursor;
        } while (cursor);
        expect(walked, sort).toEqual(full);
        expect(full).toHaveLength(7);
      }
      const byId = (await call('admin', 'GET', `/v1/credentials?principal=${alice.id}&limit=2`)).body.next_cursor;
      expect((await call('admin', 'GET', `/v1/credentials?principal=${alice.id}&sort=lifetime&cursor=${encodeURIComponent(byId)}`)).body.code).toBe('invalid_cursor');
    });

    it.runIf(enabled)('a principal acting for itself lists only its own and revokes only its own tokens', async () => {
      const mine = await call('alice', 'GET', '/v1/credentials?kind=access_token');
      expect(mine.status).toBe(200);
      expect(mine.body.items.every((i: InventoryItem) => i.principal.id === alice.id)).toBe(true);
      expect((await call('alice-key', 'GET', `/v1/credentials?principal=${bob.name}`)).status).toBe(403);
      expect((await call('alice', 'POST', '/v1/credentials/revoke', { jti: t.b })).status).toBe(404);
      expect((await call('alice', 'POST', '/v1/credentials/revoke', { principal: alice.id })).status).toBe(403);
      expect((await call('alice', 'POST', '/v1/credentials/revoke', { credential_id: 'akaliceaaaaaaaa2' })).status).toBe(403);
      const own = await call('alice-key', 'POST', '/v1/credentials/revoke', { jti: t.a15, reason: 'done with it' });
      expect(own.status).toBe(200);
      expect(own.body).toMatchObject({ target: { kind: 'token', id: t.a15 }, already_revoked: false });
      expect(revocation.isRevoked({ jti: t.a15, principalId: alice.id, actChain: [], issuedAt: 0, credentialId: null })).toBe(true);
      expect((await call('alice', 'POST', '/v1/credentials/revoke', { jti: t.a15 })).body.already_revoked).toBe(true);
      expect((await tokens.findToken(f.db.kysely, t.b))!.revoked_at).toBeNull();
    });

    it.runIf(enabled)('owner-role operators see and revoke only principals they own (directly or through a team)', async () => {
      expect((await call('owner', 'GET', `/v1/credentials?principal=${alice.name}`)).status).toBe(200);
      expect((await call('owner', 'GET', `/v1/credentials?principal=${carol.name}`)).status).toBe(200);
      expect((await call('owner', 'GET', `/v1/credentials?principal=${bob.name}`)).status).toBe(404);
      expect((await call('owner', 'GET', '/v1/credentials')).status).toBe(400);
      expect((await call('owner', 'POST', '/v1/credentials/revoke', { jti: t.b })).status).toBe(404);
      expect((await call('owner', 'POST', '/v1/credentials/revoke', { principal: bob.name })).status).toBe(422);
      const r = await call('owner', 'POST', '/v1/credentials/revoke', { jti: t.c });
      expect(r.body).toMatchObject({ target: { kind: 'token', id: t.c }, already_revoked: false });
    });

    it.runIf(enabled)('auditors list but revoke nothing; exactly one target per call', async () => {
      expect((await call('auditor', 'POST', '/v1/credentials/revoke', { jti: t.b })).status).toBe(403);
      expect((await call('admin', 'POST', '/v1/credentials/revoke', { jti: t.b, family: t.b })).status).toBe(400);
      expect((await call('admin', 'POST', '/v1/credentials/revoke', { reason: 'nothing named' })).status).toBe(400);
      expect((await call('admin', 'POST', '/v1/credentials/revoke', { jti: newId() })).status).toBe(404);
      expect((await call('admin', 'POST', '/v1/credentials/revoke', { credential_id: 'nosuchcredential' })).status).toBe(404);
    });

    it.runIf(enabled)('revokes a family, and everything a principal holds (the holders too)', async () => {
      const fam = await call('security', 'POST', '/v1/credentials/revoke', { family: t.a60, reason: 'family' });
      expect(fam.status).toBe(200);
      expect(fam.body.cascade.sort()).toEqual([t.a60, t.bForA].sort());
      const p = await call('admin', 'POST', '/v1/credentials/revoke', { principal: bob.name, reason: 'suspended' });
      expect(p.status).toBe(200);
      expect(p.body).toMatchObject({ target: { kind: 'principal', id: bob.id }, cascade: [t.b], not_before: f.clock.now().toISOString() });
      expect(holderCalls).toEqual([bob.id]);
      const left = await call('admin', 'GET', `/v1/credentials?principal=${bob.id}&kind=access_token`);
      expect(left.body.items).toEqual([]);
      expect((await f.events('credential.principal.revoked')).at(-1)!.actor.role).toBe('admin');
    });
  });
}
