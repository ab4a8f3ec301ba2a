import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { calculateJwkThumbprint, compactVerify, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, freshPostgresDatabase, postgresReachable } from '../../test/support/backends.js';
import { createAuditWriter, type AuditWriter } from '../audit/index.js';
import { systemActor } from '../platform/actor.js';
import { manualClock } from '../platform/clock.js';
import { newId } from '../platform/ids.js';
import { createKeyRing, generateMasterKey, type KeyRing } from '../platform/keys.js';
import { openDatabase, type Database } from '../platform/store/db.js';
import { migrateToLatest } from '../platform/store/migrations/index.js';
import { createSigningKeyStore, signingKeyContext, type SigningKeyStoreDeps } from './signing-keys.service.js';

// The signing-key store on both backends, with time moved by hand: the first key, rotation after rotationDays,
// the overlap (the old key verifies until verify_until, then is retired and unpublished), forced rotation, the
// private half sealed, ES256, and two nodes sharing one store.

const DAY = 86_400_000;
const MAX_LIFETIME = 3600;
const LEEWAY = 30;

for (const backend of BACKENDS) {
  describe(`signing keys on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let db: Database;
    let url: string | undefined;
    let drop: (() => Promise<void>) | undefined;
    let dir: string;
    let keys: KeyRing;
    let audit: AuditWriter;
    const clock = manualClock('2026-03-01T00:00:00.000Z');

    beforeAll(async () => {
      if (!enabled) return;
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-signing-keys-'));
      const pgdb = backend === 'postgres' ? await freshPostgresDatabase() : undefined;
      url = pgdb?.url;
      drop = pgdb?.drop;
      db = openDatabase({ dataDir: dir, databaseUrl: url });
      await migrateToLatest(db.kysely, db.dialect);
      keys = createKeyRing(generateMasterKey());
      audit = createAuditWriter({ keys, clock, newId });
    });
    afterAll(async () => {
      await db?.close();
      await drop?.();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    async function fresh(overrides: Partial<SigningKeyStoreDeps> = {}) {
      await db.kysely.deleteFrom('signing_keys').execute();
      return createSigningKeyStore({ db, keys, audit, clock, alg: 'EdDSA', rotationDays: 30, maxTokenLifetimeSeconds: MAX_LIFETIME, ...overrides });
    }

    async function events(type: string, kid: string) {
      const rows = await db.kysely.selectFrom('audit_events').select(['canonical']).where('type', '=', type).where('target_id', '=', kid).execute();
      return rows.map((r) => JSON.parse(r.canonical) as { actor: { principal_name: string | null; auth_method: string }; details: Record<string, unknown> });
    }

    it.runIf(enabled)('creates the first key on first use, publishes it in the JWKS and audits it as the system', async () => {
      const store = await fresh();
      expect((await store.jwks()).keys).toEqual([]);
      const key = await store.current();
      expect(key.alg).toBe('EdDSA');
      const { keys: published } = await store.jwks();
      expect(published).toHaveLength(1);
      const jwk = published[0]!;
      expect(jwk).toEqual({ kid: key.kid, alg: 'EdDSA', use: 'sig', kty: 'OKP', crv: 'Ed25519', x: expect.any(String) });
      // kid is the RFC 7638 thumbprint of the public JWK.
      expect(await calculateJwkThumbprint(jwk as JWK, 'sha256')).toBe(key.kid);
      // The same key on the next call, and what it signs verifies with the published half.
      expect((await store.current()).kid).toBe(key.kid);
      const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'EdDSA', kid: key.kid }).sign(key.privateKey);
      const verification = await store.verificationKey(key.kid);
      await expect(compactVerify(token, verification!.publicKey, { algorithms: ['EdDSA'] })).resolves.toBeTruthy();
      const created = await events('credential.signing_key.created', key.kid);
      expect(created).toHaveLength(1);
      expect(created[0]!.actor.auth_method).toBe('system');
      const [row] = await store.list();
      expect(row).toEqual({
        kid: key.kid, alg: 'EdDSA', status: 'active', created_at: '2026-03-01T00:00:00.000Z', rotate_at: '2026-03-31T00:00:00.000Z',
        deactivated_at: null, verify_until: null, retired_at: null,
      });
    });

    it.runIf(enabled)('rotates after rotationDays; the old key verifies until verify_until, then is retired and leaves the JWKS', async () => {
      clock.set('2026-03-01T00:00:00.000Z');
      const store = await fresh();
      const first = await store.current();
      clock.advance(30 * DAY - 1);
      expect((await store.current()).kid).toBe(first.kid);
      clock.advance(1);
      const rotatedAt = clock.now().getTime();
      const second = await store.current();
      expect(second.kid).not.toBe(first.kid);
      const verifyUntil = new Date(rotatedAt + (MAX_LIFETIME + LEEWAY) * 1000).toISOString();
      const rows = await store.list();
      expect(rows.map((r) => [r.kid, r.status, r.verify_until])).toEqual([[second.kid, 'active', null], [first.kid, 'retiring', verifyUntil]]);
      expect((await store.jwks()).keys.map((k) => k.kid)).toEqual([second.kid, first.kid]);
      const rotated = await events('credential.signing_key.rotated', first.kid);
      expect(rotated.map((e) => [e.details.replaced_by, e.details.forced, e.details.verify_until])).toEqual([[second.kid, false, verifyUntil]]);

      // One millisecond before verify_until the old key still verifies; at verify_until it no longer does.
      clock.set(new Date(Date.parse(verifyUntil) - 1));
      await store.maintain();
      expect(await store.verificationKey(first.kid)).toBeDefined();
      expect((await store.list()).find((r) => r.kid === first.kid)!.status).toBe('retiring');
      clock.advance(1);
      expect(await store.verificationKey(first.kid)).toBeUndefined();
      expect((await store.jwks()).keys.map((k) => k.kid)).toEqual([second.kid]);
      await store.maintain();
      const old = (await store.list()).find((r) => r.kid === first.kid)!;
      expect([old.status, old.retired_at]).toEqual(['retired', verifyUntil]);
      expect(await events('credential.signing_key.retired', first.kid)).toHaveLength(1);
      // Retiring is done once: another maintain() records nothing more.
      await store.maintain();
      expect(await events('credential.signing_key.retired', first.kid)).toHaveLength(1);
      // A store started afresh over the same rows agrees.
      const restarted = createSigningKeyStore({ db, keys, audit, clock, alg: 'EdDSA', rotationDays: 30, maxTokenLifetimeSeconds: MAX_LIFETIME });
      expect(await restarted.verificationKey(first.kid)).toBeUndefined();
      expect((await restarted.current()).kid).toBe(second.kid);
    });

    it.runIf(enabled)('maintain() rotates a due key and creates the first one', async () => {
      clock.set('2026-03-01T00:00:00.000Z');
      const store = await fresh({ rotationDays: 1 });
      await store.maintain();
      const [first] = await store.list();
      expect(first!.status).toBe('active');
      clock.advance(DAY);
      await store.maintain();
      expect((await store.list()).map((r) => r.status)).toEqual(['active', 'retiring']);
    });

    it.runIf(enabled)('a forced rotation is audited with its operator and reason and answers the retiring keys', async () => {
      clock.set('2026-03-01T00:00:00.000Z');
      const store = await fresh();
      const first = await store.current();
      clock.advance(1000);
      const operator = { ...systemActor('cli_local') };
      const a = await store.rotate(operator, 'suspected exposure');
      expect(a.retiring).toEqual([first.kid]);
      expect((await store.current()).kid).toBe(a.kid);
      clock.advance(1000);
      const b = await store.rotate(operator);
      expect(b.retiring).toEqual([a.kid, first.kid]);
      const rotated = await events('credential.signing_key.rotated', first.kid);
      expect(rotated.map((e) => [e.details.forced, e.details.reason, e.details.replaced_by, e.actor.auth_method])).toEqual([[true, 'suspected exposure', a.kid, 'cli_local']]);
      expect((await store.jwks()).keys.map((k) => k.kid)).toEqual([b.kid, a.kid, first.kid]);
    });

    it.runIf(enabled)('the private half is sealed: the row holds neither the private JWK nor its d value, and no event does', async () => {
      const store = await fresh();
      const key = await store.current();
      const row = await db.kysely.selectFrom('signing_keys').selectAll().where('kid', '=', key.kid).executeTakeFirstOrThrow();
      const privateJwk = JSON.parse(keys.open(row.private_sealed, signingKeyContext(key.kid)).toString('utf8')) as JWK;
      expect(privateJwk.d).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      expect(JSON.stringify(row)).not.toContain(privateJwk.d);
      expect(JSON.parse(row.public_jwk)).not.toHaveProperty('d');
      // The sealing is bound to the kid: the sealed value cannot be opened as another key's.
      expect(() => keys.open(row.private_sealed, signingKeyContext('other'))).toThrow();
      const all = await db.kysely.selectFrom('audit_events').select('canonical').execute();
      expect(all.some((e) => e.canonical.includes(privateJwk.d!))).toBe(false);
      expect(JSON.stringify(await store.jwks())).not.toContain(privateJwk.d);
      expect(JSON.stringify(await store.list())).not.toContain(privateJwk.d);
    });

    it.runIf(enabled)('ES256 is selectable', async () => {
      const store = await fresh({ alg: 'ES256' });
      const key = await store.current();
      expect(key.alg).toBe('ES256');
      const [jwk] = (await store.jwks()).keys;
      expect(jwk).toEqual({ kid: key.kid, alg: 'ES256', use: 'sig', kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String) });
      const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'ES256', kid: key.kid }).sign(key.privateKey);
      await expect(compactVerify(token, (await store.verificationKey(key.kid))!.publicKey, { algorithms: ['ES256'] })).resolves.toBeTruthy();
    });

    it.runIf(enabled)('another node\'s new key appears for an unknown kid, reading the store at most once a second', async () => {
      clock.set('2026-03-01T00:00:00.000Z');
      const nodeA = await fresh();
      const nodeB = createSigningKeyStore({ db, keys, audit, clock, alg: 'EdDSA', rotationDays: 30, maxTokenLifetimeSeconds: MAX_LIFETIME });
      const first = await nodeA.current();
      expect(await nodeB.verificationKey(first.kid)).toBeDefined();
      const { kid } = await nodeA.rotate(systemActor('background'));
      // B read the store within the last second: the new kid stays unknown until a second has passed.
      expect(await nodeB.verificationKey(kid)).toBeUndefined();
      clock.advance(999);
      expect(await nodeB.verificationKey(kid)).toBeUndefined();
      clock.advance(1);
      expect(await nodeB.verificationKey(kid)).toBeDefined();
      // B signs with the new key too, and still verifies the old one.
      expect((await nodeB.current()).kid).toBe(kid);
      expect(await nodeB.verificationKey(first.kid)).toBeDefined();
    });

    it.runIf(enabled)('two nodes finding the key due at once rotate it once', async () => {
      clock.set('2026-03-01T00:00:00.000Z');
      const nodeA = await fresh();
      // PostgreSQL: a second node with its own connection pool; SQLite is one node per file, so the same store.
      const otherDb = backend === 'postgres' ? openDatabase({ dataDir: dir, databaseUrl: url }) : db;
      try {
        const nodeB = createSigningKeyStore({ db: otherDb, keys, audit, clock, alg: 'EdDSA', rotationDays: 30, maxTokenLifetimeSeconds: MAX_LIFETIME });
        const first = await nodeA.current();
        expect((await nodeB.current()).kid).toBe(first.kid);
        clock.advance(30 * DAY);
        const [a, b] = await Promise.all([nodeA.current(), nodeB.current()]);
        expect(a.kid).toBe(b.kid);
        expect(a.kid).not.toBe(first.kid);
        expect((await nodeA.list()).map((r) => r.status)).toEqual(['active', 'retiring']);
        expect(await events('credential.signing_key.rotated', first.kid)).toHaveLength(1);
      } finally {
        if (otherDb !== db) await otherDb.close();
      }
    });
  });
}
