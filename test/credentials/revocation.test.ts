import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/platform/actor.js';
import { newId } from '../../src/platform/ids.js';
import type { TokenRef } from '../../src/credentials/contracts.js';
import { createRevocationService, type CredentialHolder, type RevocationService } from '../../src/credentials/revocation.service.js';
import * as tokens from '../../src/credentials/tokens.repo.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { openStoreFixture, tokenRow, type StoreFixture } from '../support/credentials-store.js';

// Revocation in cascade over a real store, on both backends: a token and everything derived from it, a family,
// a credential, a principal (as sub and in an act chain), followed by a second node through the versioned list.

const actor = systemActor('background');

function ref(row: { jti: string; principal_id: string; act_chain: string; issued_at: string; credential_id: string | null }): TokenRef {
  return {
    jti: row.jti, principalId: row.principal_id, actChain: JSON.parse(row.act_chain) as string[],
    issuedAt: Math.floor(Date.parse(row.issued_at) / 1000), credentialId: row.credential_id,
  };
}

for (const backend of BACKENDS) {
  describe(`revocation in cascade on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let f: StoreFixture;
    let svc: RevocationService;
    const holderCalls: string[] = [];
    const holder: CredentialHolder = {
      async revokeAllOf(_trx, _batch, _actor, principalId) { holderCalls.push(principalId); },
    };

    beforeAll(async () => {
      if (!enabled) return;
      f = await openStoreFixture(backend);
      svc = createRevocationService({ db: f.db, audit: f.audit, clock: f.clock, holders: [holder] });
      await svc.load();
    });
    afterAll(async () => { svc?.stop(); await f?.close(); });

    /** root → child → grandchild (a delegation family), plus an unrelated token. */
    async function family(principal = newId()) {
      const now = f.clock.now();
      const agent = newId();
      const subAgent = newId();
      const root = tokenRow({ jti: newId(), principal_id: principal, credential_id: newId() }, now);
      const child = tokenRow({
        jti: newId(), principal_id: principal, client_id: agent, family_id: root.jti, parent_jti: root.jti, depth: 1,
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', act_chain: JSON.stringify([agent]),
      }, now, 600);
      const grandchild = tokenRow({
        jti: newId(), principal_id: principal, client_id: subAgent, family_id: root.jti, parent_jti: child.jti, depth: 2,
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', act_chain: JSON.stringify([subAgent, agent]),
      }, now, 300);
      const other = tokenRow({ jti: newId(), principal_id: principal }, now);
      await f.db.write(async (trx) => { for (const r of [root, child, grandchild, other]) await tokens.insertToken(trx, r); });
      return { principal, agent, subAgent, root, child, grandchild, other };
    }

    it.runIf(enabled)('finds descendants at any depth with one recursive query', async () => {
      const t = await family();
      expect((await tokens.descendantsOf(f.db.kysely, t.root.jti)).map((r) => r.jti)).toEqual([t.child.jti, t.grandchild.jti]);
      expect((await tokens.descendantsOf(f.db.kysely, t.child.jti)).map((r) => r.jti)).toEqual([t.grandchild.jti]);
      expect(await tokens.descendantsOf(f.db.kysely, t.grandchild.jti)).toEqual([]);
      expect((await tokens.tokensOfFamily(f.db.kysely, t.root.jti)).map((r) => r.jti)).toEqual([t.root.jti, t.child.jti, t.grandchild.jti]);
    });

    it.runIf(enabled)('revoking a parent revokes a grandchild: rows, list entries, memory and one audit event in one go', async () => {
      const t = await family();
      const before = svc.version();
      const seen: number[] = [];
      const off = svc.subscribe((v) => seen.push(v));
      const r = await svc.revokeToken(actor, t.root.jti, 'compromised agent');
      off();
      expect(r).toMatchObject({ jti: t.root.jti, already_revoked: false, cascade: [t.child.jti, t.grandchild.jti] });
      for (const row of [t.root, t.child, t.grandchild]) {
        expect(svc.isRevoked(ref(row)), row.jti).toBe(true);
        expect((await tokens.findToken(f.db.kysely, row.jti))!.revoked_reason).toBe('compromised agent');
      }
      expect(svc.isRevoked(ref(t.other))).toBe(false);
      expect((await tokens.findToken(f.db.kysely, t.other.jti))!.revoked_at).toBeNull();
      expect(svc.version()).toBe(before + 3);
      expect(seen.length).toBeGreaterThan(0);
      const entries = await f.db.kysely.selectFrom('revocations').selectAll().where('target', 'in', [t.root.jti, t.child.jti, t.grandchild.jti]).execute();
      expect(entries.map((e) => [e.kind, e.forget_after! > t.grandchild.expires_at])).toEqual([['token', true], ['token', true], ['token', true]]);
      const events = (await f.events('credential.token.revoked')).filter((e) => e.details.jti === t.root.jti);
      expect(events).toHaveLength(1);
      expect(events[0]!.details).toMatchObject({ jti: t.root.jti, cascade: [t.child.jti, t.grandchild.jti], reason: 'compromised agent' });
    });

    it.runIf(enabled)('is idempotent: a second revocation changes nothing and says already_revoked', async () => {
      const t = await family();
      await svc.revokeToken(actor, t.root.jti, 'first');
      const version = svc.version();
      const events = (await f.events()).length;
      const again = await svc.revokeToken(actor, t.root.jti, 'second');
      expect(again).toMatchObject({ already_revoked: true, cascade: [] });
      expect(svc.version()).toBe(version);
      expect((await f.events()).length).toBe(events);
      expect((await tokens.findToken(f.db.kysely, t.root.jti))!.revoked_reason).toBe('first');
      await expect(svc.revokeToken(actor, newId(), 'x')).rejects.toMatchObject({ code: 'not_found' });
    });

    it.runIf(enabled)('revoking a child revokes its descendants and leaves the parent alive', async () => {
      const t = await family();
      const r = await svc.revokeToken(actor, t.child.jti, 'sub-agent misbehaved');
      expect(r.cascade).toEqual([t.grandchild.jti]);
      expect([t.root, t.child, t.grandchild].map((row) => svc.isRevoked(ref(row)))).toEqual([false, true, true]);
      expect((await tokens.findToken(f.db.kysely, t.root.jti))!.revoked_at).toBeNull();
    });

    it.runIf(enabled)('family revocation revokes every token with that family id and nothing else', async () => {
      const t = await family();
      const r = await svc.revokeFamily(actor, t.root.jti, 'family');
      expect(r.cascade.sort()).toEqual([t.root.jti, t.child.jti, t.grandchild.jti].sort());
      expect([t.root, t.child, t.grandchild, t.other].map((row) => svc.isRevoked(ref(row)))).toEqual([true, true, true, false]);
      expect((await f.events('credential.token_family.revoked')).at(-1)!.details).toMatchObject({ family_id: t.root.jti, reason: 'family' });
      expect(await svc.revokeFamily(actor, t.root.jti, 'again')).toMatchObject({ already_revoked: true, cascade: [] });
      await expect(svc.revokeFamily(actor, newId(), 'x')).rejects.toMatchObject({ code: 'not_found' });
    });

    it.runIf(enabled)('a revoked credential kills the tokens obtained with it and their descendants, not others', async () => {
      const t = await family();
      const credentialId = t.root.credential_id!;
      // Inside a caller's transaction (the API key service revoking its key): applied once that commits.
      await f.db.write((trx, batch) => svc.onCredentialRevoked(trx, batch, actor, credentialId, 'secret rotated out'));
      await svc.idle();
      expect([t.root, t.child, t.grandchild, t.other].map((row) => svc.isRevoked(ref(row)))).toEqual([true, true, true, false]);
      // A token carrying the credential id but unknown to this store is refused too (the 'credential' entry).
      expect(svc.isRevoked({ jti: newId(), principalId: t.principal, actChain: [], issuedAt: 0, credentialId })).toBe(true);
      expect((await tokens.findToken(f.db.kysely, t.grandchild.jti))!.revoked_at).not.toBeNull();
      const event = (await f.events('credential.token.revoked')).at(-1)!;
      expect(event.details).toMatchObject({ credential_id: credentialId, cascade: [t.root.jti, t.child.jti, t.grandchild.jti] });
      const again = await svc.revokeCredential(actor, credentialId, 'again');
      expect(again).toMatchObject({ already_revoked: true, cascade: [] });
    });

    it.runIf(enabled)('a principal revocation kills its tokens as sub and in an act chain; a token issued later is not affected', async () => {
      const t = await family();
      const elsewhere = tokenRow({ jti: newId(), principal_id: newId(), client_id: t.agent, act_chain: JSON.stringify([t.agent]) }, f.clock.now());
      await f.db.write((trx) => tokens.insertToken(trx, elsewhere));
      holderCalls.length = 0;
      const eventsBefore = (await f.events()).length;
      await f.db.write((trx, batch) => svc.revokeAllOf(trx, batch, actor, t.agent, 'agent suspended'));
      await svc.idle();
      expect(holderCalls).toEqual([t.agent]);
      // The agent acts in child, grandchild and elsewhere; root and other have the agent nowhere.
      expect([t.root, t.child, t.grandchild, t.other, elsewhere].map((row) => svc.isRevoked(ref(row)))).toEqual([false, true, true, false, true]);
      expect((await tokens.findToken(f.db.kysely, elsewhere.jti))!.revoked_at).not.toBeNull();
      const events = (await f.events()).slice(eventsBefore);
      expect(events.map((e) => e.type)).toEqual(['credential.principal.revoked']);
      expect(events[0]!.details).toMatchObject({ principal_id: t.agent, cascade_count: 3, reason: 'agent suspended' });

      // Issued at the same second as the revocation: dead; a second later (re-activated): alive.
      const sameSecond = { jti: newId(), principalId: t.agent, actChain: [], issuedAt: Math.floor(f.clock.now().getTime() / 1000), credentialId: null };
      expect(svc.isRevoked(sameSecond)).toBe(true);
      f.clock.advance(1000);
      const later = tokenRow({ jti: newId(), principal_id: t.agent }, f.clock.now());
      expect(svc.isRevoked(ref(later))).toBe(false);
      expect(svc.isRevoked({ ...ref(later), principalId: newId(), actChain: [t.agent] })).toBe(false);
    });

    it.runIf(enabled)('revokes as a principal everything as sub too (and the principal entry forgets only after its tokens expire)', async () => {
      const t = await family();
      const r = await svc.revokePrincipal(actor, t.principal, 'decommissioned');
      expect(r.cascade.sort()).toEqual([t.root.jti, t.child.jti, t.grandchild.jti, t.other.jti].sort());
      for (const row of [t.root, t.child, t.grandchild, t.other]) expect(svc.isRevoked(ref(row))).toBe(true);
      const entry = await f.db.kysely.selectFrom('revocations').selectAll().where('kind', '=', 'principal').where('target', '=', t.principal).executeTakeFirstOrThrow();
      expect(entry.not_before).toBe(r.not_before);
      expect(entry.forget_after! > t.root.expires_at).toBe(true);
    });

    it.runIf(enabled)('a revocation whose transaction rolls back leaves nothing behind, in the store or in memory', async () => {
      const t = await family();
      const failing: CredentialHolder = { async revokeAllOf() { throw new Error('holder failed'); } };
      const broken = createRevocationService({ db: f.db, audit: f.audit, clock: f.clock, holders: [failing] });
      await broken.load();
      const events = (await f.events()).length;
      await expect(broken.revokePrincipal(actor, t.principal, 'x')).rejects.toThrow('holder failed');
      await broken.idle();
      expect(broken.isRevoked(ref(t.root))).toBe(false);
      expect((await tokens.findToken(f.db.kysely, t.root.jti))!.revoked_at).toBeNull();
      expect((await f.events()).length).toBe(events);
      expect(await f.db.kysely.selectFrom('revocations').selectAll().where('target', '=', t.principal).execute()).toEqual([]);

      // Inside a caller's transaction that then fails (identity's suspend refused later in the same job).
      await expect(f.db.write(async (trx, batch) => {
        await svc.revokeAllOf(trx, batch, actor, t.principal, 'suspended');
        throw new Error('suspend refused');
      })).rejects.toThrow('suspend refused');
      await svc.idle();
      expect(svc.isRevoked(ref(t.root))).toBe(false);
      expect((await tokens.findToken(f.db.kysely, t.root.jti))!.revoked_at).toBeNull();
    });

    it.runIf(enabled)('a node whose reads of the list hang turns unready within five poll intervals ', async () => {
      let stall = false;
      // Any query builder chain whose execute never settles: a dead connection.
      const hanging: unknown = new Proxy(() => hanging, { get: (_t, name) => (name === 'execute' ? () => new Promise(() => undefined) : name === 'then' ? undefined : hanging), apply: () => hanging });
      const stalled = { selectFrom: () => hanging };
      const db = Object.create(f.db, { kysely: { get: () => (stall ? stalled : f.db.kysely) } }) as typeof f.db;
      const node = createRevocationService({ db, audit: f.audit, clock: f.clock, pollIntervalMs: 20 });
      await node.load();
      node.start();
      try {
        await new Promise((r) => setTimeout(r, 60));
        expect(node.health().ok).toBe(true);
        stall = true;
        await new Promise((r) => setTimeout(r, 250));
        expect(node.health()).toMatchObject({ ok: false, detail: expect.stringMatching(/not read for/) });
      } finally {
        node.stop();
      }
    });

    it.runIf(enabled)('another node over the same store follows by version after refresh(); load() on a fresh node sees everything live', async () => {
      const otherDb = f.openAnother();
      const other = createRevocationService({ db: otherDb, audit: f.audit, clock: f.clock });
      await other.load();
      const start = other.version();
      expect(start).toBe(svc.version());
      const t = await family();
      await svc.revokeToken(actor, t.child.jti, 'on node A');
      expect(other.isRevoked(ref(t.child))).toBe(false); // not yet followed
      await other.refresh();
      expect(other.isRevoked(ref(t.child))).toBe(true);
      expect(other.isRevoked(ref(t.grandchild))).toBe(true);
      expect(other.isRevoked(ref(t.root))).toBe(false);
      expect(other.version()).toBe(svc.version());
      expect(other.version()).toBeGreaterThan(start);

      const late = createRevocationService({ db: otherDb, audit: f.audit, clock: f.clock });
      await late.load();
      expect(late.isRevoked(ref(t.grandchild))).toBe(true);
      expect(late.version()).toBe(svc.version());
    });

    it.runIf(enabled)('prune forgets entries only once what they cover has expired', async () => {
      const t = await family();
      await svc.revokeToken(actor, t.grandchild.jti, 'short-lived');
      expect(await svc.prune()).toBe(0);
      expect(svc.isRevoked(ref(t.grandchild))).toBe(true);
      f.clock.advance(300_000 + 61_000); // past the grandchild's expiry and the leeway
      expect(await svc.prune()).toBeGreaterThan(0);
      expect(svc.isRevoked(ref(t.grandchild))).toBe(false); // it could no longer verify anyway: expired
      const fresh = createRevocationService({ db: f.db, audit: f.audit, clock: f.clock });
      await fresh.load();
      expect(fresh.version()).toBe(svc.version());
      expect(fresh.isRevoked(ref(t.grandchild))).toBe(false);
    });
  });
}
