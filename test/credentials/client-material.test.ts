import crypto from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor, type Actor } from '../../src/platform/actor.js';
import { generateCustosToken, hashCustosToken, parseCustosToken } from '../../src/platform/credential-format.js';
import { AppError } from '../../src/platform/http/errors.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { eventsSince, lastSeq } from '../identity/store-probe.js';
import { createClientKeyService, KEY_CACHE_MS } from '../../src/credentials/client-keys.service.js';
import { newId } from '../../src/platform/ids.js';
import { startClientCredentials, type ClientCredentials } from './client-credentials.fixture.js';

// Client keys and client secrets on both stores, through the services and the ClientMaterial port the token
// endpoint reads: who may register what for whom, what the token endpoint gets back, expiry and rotation to the
// millisecond, revocation that reaches the hook in the same transaction, and nothing secret at rest or in the log.

type InputJwk = JWK & { kty: string };

async function publicJwk(alg: 'EdDSA' | 'ES256' | 'ES384' | 'RS256'): Promise<InputJwk> {
  const { publicKey } = await generateKeyPair(alg, { extractable: true });
  return (await exportJWK(publicKey)) as InputJwk;
}

async function refused(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  throw new Error('expected a refusal');
}

for (const backend of BACKENDS) {
  describe(`client authentication material on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let c: ClientCredentials;
    let admin: Actor;
    let security: Actor;
    let owner: Actor;
    let auditor: Actor;

    beforeAll(async () => {
      if (!enabled) return;
      c = await startClientCredentials(backend);
      await c.admin('POST', '/v1/teams', { name: 'agents-team' });
      admin = await c.operator('admin');
      security = await c.operator('security');
      owner = await c.operator('owner', ['agents-team']);
      auditor = await c.operator('auditor');
    });
    afterAll(async () => { await c?.h.close(); });

    describe('client keys', () => {
      it.runIf(enabled)('registers a public key, audits it, and hands the token endpoint exactly that key', async () => {
        const agent = await c.agent();
        const jwk = { ...(await publicJwk('EdDSA')), kid: 'k1' };
        const before = await lastSeq(c.h);
        const { keys: [key] } = await c.keys.add(admin, { principal: agent.name, jwk, description: 'ci runner' });
        expect(key).toMatchObject({
          principal: { id: agent.id, name: agent.name }, kid: 'k1', alg: 'EdDSA', thumbprint: await calculateJwkThumbprint(jwk),
          jwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: 'k1', alg: 'EdDSA' }, description: 'ci runner', expires_at: null, removed_at: null,
        });
        expect(await c.material.clientKeys(agent.id)).toEqual([{ id: key!.id, kid: 'k1', alg: 'EdDSA', jwk: key!.jwk }]);
        const events = await eventsSince(c.h, before);
        expect(events.map((e) => [e.type, e.target?.id, e.details.principal_id])).toEqual([['credential.client_key.added', key!.id, agent.id]]);
        expect(events[0]!.actor.principal_name).toBe(admin.principal!.name);
      });

      it.runIf(enabled)('registers a JWKS all or nothing, and one thumbprint or kid once per principal', async () => {
        const agent = await c.agent();
        const ec = await publicJwk('ES256');
        const rsa = await publicJwk('RS256');
        const bad = { ...(await publicJwk('ES384')), d: 'AAAA' };
        expect(await refused(c.keys.add(admin, { principal: agent.name, jwks: { keys: [ec, bad] } }))).toBe('invalid_jwk');
        expect(await c.material.clientKeys(agent.id)).toEqual([]);
        const added = await c.keys.add(admin, { principal: agent.name, jwks: { keys: [ec, rsa] } });
        expect(added.keys.map((k) => k.alg)).toEqual(['ES256', 'RS256']);
        expect(await refused(c.keys.add(admin, { principal: agent.name, jwk: { ...rsa, kid: 'another' } }))).toBe('key_already_registered');
        expect(await refused(c.keys.add(admin, { principal: agent.name, jwks: { keys: [ec, ec] } }))).toBe('key_already_registered');
        const named = await publicJwk('EdDSA');
        await c.keys.add(admin, { principal: agent.name, jwk: { ...named, kid: 'same' } });
        expect(await refused(c.keys.add(admin, { principal: agent.name, jwk: { ...(await publicJwk('EdDSA')), kid: 'same' } }))).toBe('key_already_registered');
        // The same key for another principal is that principal's business.
        const other = await c.agent();
        expect((await c.keys.add(admin, { principal: other.name, jwk: ec })).keys).toHaveLength(1);
      });

      it.runIf(enabled)('stops handing out a key at its expiry to the millisecond, and once removed; removal reaches the hook', async () => {
        const agent = await c.agent();
        const expiresAt = new Date(c.h.clock.now().getTime() + 60_000).toISOString();
        const { keys: [key] } = await c.keys.add(admin, { principal: agent.name, jwk: await publicJwk('ES256'), expires_at: expiresAt });
        c.h.clock.advance(59_999);
        expect((await c.material.clientKeys(agent.id)).map((k) => k.id)).toEqual([key!.id]);
        c.h.clock.advance(1);
        expect(await c.material.clientKeys(agent.id)).toEqual([]);
        expect(await refused(c.keys.add(admin, { principal: agent.name, jwk: await publicJwk('ES256'), expires_at: c.h.clock.now().toISOString() }))).toBe('validation_failed');

        const { keys: [live] } = await c.keys.add(admin, { principal: agent.name, jwk: await publicJwk('EdDSA') });
        const before = await lastSeq(c.h);
        const removed = await c.keys.remove(security, live!.id);
        expect(removed.removed_at).toBe(c.h.clock.now().toISOString());
        expect(await c.material.clientKeys(agent.id)).toEqual([]);
        expect(c.revoked.at(-1)).toEqual({ credentialId: live!.id, reason: 'removed', actor: security.principal!.name, inTransaction: true });
        expect((await eventsSince(c.h, before)).map((e) => [e.type, e.target?.id])).toEqual([['credential.client_key.removed', live!.id]]);
        expect(await refused(c.keys.remove(admin, live!.id))).toBe('credential_already_revoked');
        expect(await refused(c.keys.remove(admin, crypto.randomUUID()))).toBe('not_found');
      });

      it.runIf(enabled)('a removal counts at once on the node that made it, and within KEY_CACHE_MS on another node on the store', async () => {
        const other = createClientKeyService({
          db: c.h.cp.db, audit: c.h.cp.audit, clock: c.h.clock, newId, directory: c.directory, onCredentialRevoked: async () => undefined,
        });
        const agent = await c.agent();
        const { keys: [key] } = await c.keys.add(admin, { principal: agent.name, jwk: await publicJwk('EdDSA') });
        expect((await other.activeKeys(agent.id)).map((k) => k.id)).toEqual([key!.id]);
        expect((await c.material.clientKeys(agent.id)).map((k) => k.id)).toEqual([key!.id]);
        await c.keys.remove(admin, key!.id);
        expect(await c.material.clientKeys(agent.id)).toEqual([]);
        // The other node's copy is at most KEY_CACHE_MS old: it still holds the key just before, and not at, the bound.
        c.h.clock.advance(KEY_CACHE_MS - 1);
        expect((await other.activeKeys(agent.id)).map((k) => k.id)).toEqual([key!.id]);
        c.h.clock.advance(1);
        expect(await other.activeKeys(agent.id)).toEqual([]);
        // An addition made on the other node counts here within the bound too, and at once there.
        const { keys: [added] } = await other.add(admin, { principal: agent.name, jwk: await publicJwk('ES256') });
        expect((await other.activeKeys(agent.id)).map((k) => k.id)).toEqual([added!.id]);
        c.h.clock.advance(KEY_CACHE_MS);
        expect((await c.material.clientKeys(agent.id)).map((k) => k.id)).toEqual([added!.id]);
        // Revoking everything a principal holds drops its keys at once on the revoking node.
        await c.h.cp.db.write((trx, batch) => other.revokeAllOf(trx, batch, admin, agent.id, 'principal suspended'));
        expect(await other.activeKeys(agent.id)).toEqual([]);
      });

      it.runIf(enabled)('refuses humans and principals that are not active', async () => {
        const human = await c.admin('POST', '/v1/principals', { name: c.uniq('person'), kind: 'human' });
        expect(await refused(c.keys.add(admin, { principal: human.name, jwk: await publicJwk('EdDSA') }))).toBe('principal_cannot_hold_credentials');
        for (const status of ['proposed', 'suspended', 'decommissioned']) {
          const a = await c.agent({ status });
          expect(await refused(c.keys.add(admin, { principal: a.name, jwk: await publicJwk('EdDSA') })), status).toBe('principal_cannot_hold_credentials');
          expect(await refused(c.secrets.create(admin, { principal: a.name, ttl_seconds: 3600 })), status).toBe('principal_cannot_hold_credentials');
        }
        expect(await refused(c.keys.add(admin, { principal: 'nobody-here', jwk: await publicJwk('EdDSA') }))).toBe('principal_not_found');
      });
    });

    describe('ownership', () => {
      it.runIf(enabled)('an owner manages what it owns, directly or through its team, and sees nothing of others', async () => {
        const mine = await c.agent({ owner: owner.principal!.name });
        const teams = await c.agent({ team: 'agents-team' });
        const foreign = await c.agent();
        expect((await c.keys.add(owner, { principal: mine.name, jwk: await publicJwk('EdDSA') })).keys).toHaveLength(1);
        const teamSecret = await c.secrets.create(owner, { principal: teams.name, ttl_seconds: 3600 });
        // Someone else's principal does not exist as far as the owner can tell.
        expect(await refused(c.keys.add(owner, { principal: foreign.name, jwk: await publicJwk('EdDSA') }))).toBe('principal_not_found');
        expect(await refused(c.secrets.create(owner, { principal: foreign.name, ttl_seconds: 3600 }))).toBe('principal_not_found');
        const foreignSecret = await c.secrets.create(admin, { principal: foreign.name, ttl_seconds: 3600 });
        const { keys: [foreignKey] } = await c.keys.add(admin, { principal: foreign.name, jwk: await publicJwk('EdDSA') });
        expect(await refused(c.secrets.revoke(owner, foreignSecret.id, undefined))).toBe('not_found');
        expect(await refused(c.secrets.rotate(owner, foreignSecret.id, undefined))).toBe('not_found');
        expect(await refused(c.keys.remove(owner, foreignKey!.id))).toBe('not_found');
        const page = { limit: 50 } as const;
        expect((await c.secrets.list(owner, { ...page, principal: foreign.name })).items).toEqual([]);
        expect((await c.keys.list(owner, { ...page, principal: foreign.name })).items).toEqual([]);
        expect((await c.secrets.list(owner, { ...page, principal: teams.name })).items.map((s) => s.id)).toEqual([teamSecret.id]);
        expect(await refused(c.keys.list(owner, page))).toBe('validation_failed');
        // Auditors read everything; admin and security manage anything.
        expect((await c.secrets.list(auditor, { ...page, principal: foreign.name })).items.map((s) => s.id)).toEqual([foreignSecret.id]);
        expect((await c.secrets.revoke(security, foreignSecret.id, 'incident')).revoked_reason).toBe('incident');
      });

      it.runIf(enabled)('a caller without an operator role reads and revokes its own material and adds none', async () => {
        const agent = await c.agent();
        const p = await c.directory.principal(agent.id);
        const self: Actor = { ...systemActor(), role: null, label: null, authMethod: 'private_key_jwt', principal: { id: p!.id, name: p!.name, kind: p!.kind, status: p!.status, ownerId: p!.ownerId } };
        const s = await c.secrets.create(admin, { principal: agent.name, ttl_seconds: 3600 });
        expect((await c.secrets.list(self, { limit: 50 })).items.map((x) => x.id)).toEqual([s.id]);
        expect(await refused(c.secrets.create(self, { principal: agent.name, ttl_seconds: 3600 }))).toBe('forbidden');
        expect(await refused(c.secrets.rotate(self, s.id, undefined))).toBe('forbidden');
        expect((await c.secrets.revoke(self, s.id, 'mine')).revoked_at).not.toBeNull();
      });
    });

    describe('client secrets', () => {
      it.runIf(enabled)('shows a secret once, stores only its SHA-256, and never logs it', async () => {
        const agent = await c.agent();
        const before = await lastSeq(c.h);
        const s = await c.secrets.create(admin, { principal: agent.name, ttl_seconds: 3600, description: 'legacy client' });
        expect(parseCustosToken(s.secret)).toEqual({ kind: 'cs', id: s.id });
        expect(s.expires_at).toBe(new Date(c.h.clock.now().getTime() + 3_600_000).toISOString());
        const row = await c.h.cp.db.kysely.selectFrom('client_secrets').selectAll().where('id', '=', s.id).executeTakeFirstOrThrow();
        expect(row.secret_hash).toBe(hashCustosToken(s.secret));
        expect(JSON.stringify(row)).not.toContain(s.secret.split('_')[3]);
        const events = await eventsSince(c.h, before);
        expect(events.map((e) => e.type)).toEqual(['credential.client_secret.created']);
        expect(events[0]!.details).toMatchObject({ principal_id: agent.id, description: 'legacy client' });
        expect(JSON.stringify(events)).not.toContain(s.secret.split('_')[3]);
        const listed = await c.secrets.list(admin, { limit: 50, principal: agent.name });
        expect(JSON.stringify(listed)).not.toContain(s.secret);
      });

      it.runIf(enabled)('accepts the secret for its own principal only, until its expiry to the millisecond', async () => {
        const agent = await c.agent();
        const other = await c.agent();
        const s = await c.secrets.create(admin, { principal: agent.name, ttl_seconds: 60 });
        expect(await c.material.checkClientSecret(agent.id, s.secret)).toBe(s.id);
        expect(await c.material.checkClientSecret(other.id, s.secret)).toBeUndefined();
        const flipped = s.secret.slice(0, 20) + (s.secret[20] === 'A' ? 'B' : 'A') + s.secret.slice(21);
        expect(await c.material.checkClientSecret(agent.id, flipped)).toBeUndefined();
        // Same id, another secret with a valid checksum: the hash decides.
        const forged = generateCustosToken('cs').token.replace(/^custos_cs_[a-z2-7]{16}/, `custos_cs_${s.id}`);
        expect(await c.material.checkClientSecret(agent.id, forged)).toBeUndefined();
        expect(await c.material.checkClientSecret(agent.id, s.secret.replace('custos_cs_', 'custos_op_'))).toBeUndefined();
        expect(await c.material.checkClientSecret(agent.id, '')).toBeUndefined();
        c.h.clock.advance(59_999);
        expect(await c.material.checkClientSecret(agent.id, s.secret)).toBe(s.id);
        c.h.clock.advance(1);
        expect(await c.material.checkClientSecret(agent.id, s.secret)).toBeUndefined();
      });

      it.runIf(enabled)('rotates with an overlap: both work until the old one\'s shortened expiry, then only the new one', async () => {
        const agent = await c.agent();
        const old = await c.secrets.create(admin, { principal: agent.name, ttl_seconds: 86_400 });
        c.h.clock.advance(1000);
        const before = await lastSeq(c.h);
        const r = await c.secrets.rotate(admin, old.id, { overlap_seconds: 600 });
        const now = c.h.clock.now().getTime();
        expect(r.replaces).toMatchObject({ id: old.id, replaced_by: r.id, expires_at: new Date(now + 600_000).toISOString() });
        // The new secret lives as long as the old one was made to.
        expect(r.expires_at).toBe(new Date(now + 86_400_000).toISOString());
        expect((await eventsSince(c.h, before)).map((e) => [e.type, e.target?.id, e.details.replaced_by])).toEqual([['credential.client_secret.rotated', old.id, r.id]]);
        c.h.clock.advance(599_999);
        expect(await c.material.checkClientSecret(agent.id, old.secret)).toBe(old.id);
        expect(await c.material.checkClientSecret(agent.id, r.secret)).toBe(r.id);
        c.h.clock.advance(1);
        expect(await c.material.checkClientSecret(agent.id, old.secret)).toBeUndefined();
        expect(await c.material.checkClientSecret(agent.id, r.secret)).toBe(r.id);
        expect(await refused(c.secrets.rotate(admin, old.id, undefined))).toBe('invalid_transition');
        // Rotation never lengthens the old secret's life; overlap 0 ends it now. Rotating kills no tokens.
        const hooks = c.revoked.length;
        const short = await c.secrets.create(admin, { principal: agent.name, ttl_seconds: 120 });
        expect((await c.secrets.rotate(admin, short.id, { overlap_seconds: 3600 })).replaces.expires_at).toBe(short.expires_at);
        const r2 = await c.secrets.rotate(admin, r.id, { overlap_seconds: 0, ttl_seconds: 7200 });
        expect(await c.material.checkClientSecret(agent.id, r.secret)).toBeUndefined();
        expect(r2.expires_at).toBe(new Date(c.h.clock.now().getTime() + 7_200_000).toISOString());
        expect(c.revoked.length).toBe(hooks);
      });

      it.runIf(enabled)('revokes at once, reaches the hook in the transaction, and says so when it was revoked before', async () => {
        const agent = await c.agent();
        const s = await c.secrets.create(admin, { principal: agent.name, ttl_seconds: 3600 });
        const v = await c.secrets.revoke(admin, s.id, 'rotated out');
        expect(v).toMatchObject({ revoked_at: c.h.clock.now().toISOString(), revoked_reason: 'rotated out' });
        expect(await c.material.checkClientSecret(agent.id, s.secret)).toBeUndefined();
        expect(c.revoked.at(-1)).toEqual({ credentialId: s.id, reason: 'rotated out', actor: admin.principal!.name, inTransaction: true });
        expect(await refused(c.secrets.revoke(admin, s.id, undefined))).toBe('credential_already_revoked');
        expect(await refused(c.secrets.rotate(admin, s.id, undefined))).toBe('credential_already_revoked');
        expect((await c.secrets.list(admin, { limit: 50, principal: agent.name })).items).toEqual([]);
        expect((await c.secrets.list(admin, { limit: 50, principal: agent.name, include_revoked: true })).items.map((x) => x.id)).toEqual([s.id]);
      });

      it.runIf(enabled)('marks use at most once a minute per credential', async () => {
        const agent = await c.agent();
        const s = await c.secrets.create(admin, { principal: agent.name, ttl_seconds: 3600 });
        const { keys: [k] } = await c.keys.add(admin, { principal: agent.name, jwk: await publicJwk('EdDSA') });
        const lastUsed = async () => ({
          secret: (await c.h.cp.db.kysely.selectFrom('client_secrets').select('last_used_at').where('id', '=', s.id).executeTakeFirstOrThrow()).last_used_at,
          key: (await c.h.cp.db.kysely.selectFrom('client_keys').select('last_used_at').where('id', '=', k!.id).executeTakeFirstOrThrow()).last_used_at,
        });
        const t0 = c.h.clock.now().toISOString();
        await c.material.markUsed(s.id);
        await c.material.markUsed(k!.id);
        expect(await lastUsed()).toEqual({ secret: t0, key: t0 });
        c.h.clock.advance(59_999);
        await c.material.markUsed(s.id);
        await c.material.markUsed(k!.id);
        expect(await lastUsed()).toEqual({ secret: t0, key: t0 });
        c.h.clock.advance(1);
        await c.material.markUsed(s.id);
        const t1 = c.h.clock.now().toISOString();
        expect(await lastUsed()).toEqual({ secret: t1, key: t0 });
        // Not a credential id at all: nothing to mark.
        await c.material.markUsed('not-an-id');
      });
    });

    describe('for the revocation service and the scanner', () => {
      it.runIf(enabled)('revokes everything a principal holds in one transaction, one event each, and lists what it held', async () => {
        const agent = await c.agent();
        const s1 = await c.secrets.create(admin, { principal: agent.name, ttl_seconds: 3600 });
        const s2 = await c.secrets.create(admin, { principal: agent.name, ttl_seconds: 3600 });
        const gone = await c.secrets.create(admin, { principal: agent.name, ttl_seconds: 3600 });
        await c.secrets.revoke(admin, gone.id, 'earlier');
        const { keys } = await c.keys.add(admin, { principal: agent.name, jwks: { keys: [await publicJwk('EdDSA'), await publicJwk('ES256')] } });
        const other = await c.agent();
        const untouched = await c.secrets.create(admin, { principal: other.name, ttl_seconds: 3600 });
        const before = await lastSeq(c.h);
        const hooks = c.revoked.length;
        const actor = systemActor('background');
        const out = await c.h.cp.db.write(async (trx, batch) => ({
          secrets: await c.secrets.revokeAllOf(trx, batch, actor, agent.id, 'principal suspended'),
          keys: await c.keys.revokeAllOf(trx, batch, actor, agent.id, 'principal suspended'),
        }));
        expect(out.secrets.sort()).toEqual([s1.id, s2.id].sort());
        expect(out.keys.sort()).toEqual(keys.map((k) => k.id).sort());
        const events = await eventsSince(c.h, before);
        expect(events.map((e) => e.type).sort()).toEqual(['credential.client_key.removed', 'credential.client_key.removed', 'credential.client_secret.revoked', 'credential.client_secret.revoked']);
        expect(c.revoked.slice(hooks).map((r) => r.reason)).toEqual(Array(4).fill('principal suspended'));
        expect(await c.material.checkClientSecret(agent.id, s1.secret)).toBeUndefined();
        expect(await c.material.clientKeys(agent.id)).toEqual([]);
        expect(await c.material.checkClientSecret(other.id, untouched.secret)).toBe(untouched.id);

        const held = [...await c.secrets.heldBy(agent.id), ...await c.keys.heldBy(agent.id)];
        expect(held).toHaveLength(5);
        expect(held.every((x) => x.principal_id === agent.id && x.revoked_at !== null)).toBe(true);
        expect(held.filter((x) => x.kind === 'client_key').map((x) => x.id).sort()).toEqual(keys.map((k) => k.id).sort());
        expect(held.find((x) => x.id === gone.id)).toMatchObject({ kind: 'client_secret', revoked_reason: 'earlier', expires_at: gone.expires_at });
      });

      it.runIf(enabled)('revokes a leaked secret named by its id and hash prefix, and only a live one of ours', async () => {
        const agent = await c.agent();
        const s = await c.secrets.create(admin, { principal: agent.name, ttl_seconds: 60 });
        const prefix = hashCustosToken(s.secret).slice(0, 16);
        const leak = (id: string, sha256Prefix: string) => c.h.cp.db.write((trx, batch) => c.secrets.revokeLeaked(trx, batch, systemActor('background'), { id, sha256Prefix }, { finding_id: 'f1' }));
        expect(await leak(s.id, prefix.slice(0, 15))).toEqual({ liveness: 'unknown', ownerId: null, revoked: false });
        expect(await leak(s.id, 'f'.repeat(16))).toEqual({ liveness: 'unknown', ownerId: null, revoked: false });
        expect(await leak('aaaaaaaaaaaaaaaa', prefix)).toEqual({ liveness: 'unknown', ownerId: null, revoked: false });
        const expired = await c.secrets.create(admin, { principal: agent.name, ttl_seconds: 60 });
        c.h.clock.advance(60_000);
        expect(await leak(expired.id, hashCustosToken(expired.secret).slice(0, 16).toUpperCase())).toEqual({ liveness: 'expired', ownerId: agent.id, revoked: false });
        const live = await c.secrets.create(admin, { principal: agent.name, ttl_seconds: 60 });
        const before = await lastSeq(c.h);
        expect(await leak(live.id, hashCustosToken(live.secret).slice(0, 16))).toEqual({ liveness: 'revoked', ownerId: agent.id, revoked: true });
        const [event] = await eventsSince(c.h, before);
        expect(event).toMatchObject({ type: 'credential.client_secret.revoked', details: { reason: 'leaked: found by a secret scan', finding_id: 'f1' } });
        expect(c.revoked.at(-1)?.credentialId).toBe(live.id);
        expect(await leak(live.id, hashCustosToken(live.secret).slice(0, 16))).toEqual({ liveness: 'revoked', ownerId: agent.id, revoked: false });
      });
    });
  });
}
