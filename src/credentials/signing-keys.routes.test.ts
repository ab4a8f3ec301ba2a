import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, freshPostgresDatabase, postgresReachable } from '../../test/support/backends.js';
import { createAuditWriter } from '../audit/index.js';
import { authorize } from '../operators/index.js';
import { operatorActor, type OperatorRole } from '../platform/actor.js';
import { manualClock } from '../platform/clock.js';
import { createHttpApp, type HttpApp } from '../platform/http/app.js';
import { errors } from '../platform/http/errors.js';
import { newId } from '../platform/ids.js';
import { createKeyRing, generateMasterKey } from '../platform/keys.js';
import { createLogger } from '../platform/logger.js';
import { openDatabase, type Database } from '../platform/store/db.js';
import { migrateToLatest } from '../platform/store/migrations/index.js';
import { etagMatches, registerSigningKeyRoutes } from './signing-keys.routes.js';
import { createSigningKeyStore, type SigningKeyService } from './signing-keys.service.js';

// The JWKS over HTTP (public, cacheable, ETag and 304, public members only) and the operator routes (key.read,
// key.rotate) on both backends. The management pipeline is a stub that maps a bearer value to a role and asks
// the real role table, so the permissions the routes declare are the ones checked.

describe('If-None-Match', () => {
  it('matches *, any listed tag, and weak tags (weak comparison)', () => {
    expect(etagMatches(undefined, '"a"')).toBe(false);
    expect(etagMatches('"a"', '"a"')).toBe(true);
    expect(etagMatches('W/"a"', '"a"')).toBe(true);
    expect(etagMatches('"b", "a"', '"a"')).toBe(true);
    expect(etagMatches(['"b"', '"a"'], '"a"')).toBe(true);
    expect(etagMatches('*', '"a"')).toBe(true);
    expect(etagMatches('"b"', '"a"')).toBe(false);
    expect(etagMatches('a', '"a"')).toBe(false);
  });
});

for (const backend of BACKENDS) {
  describe(`signing-key routes on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    const clock = manualClock('2026-04-01T00:00:00.000Z');
    let db: Database;
    let drop: (() => Promise<void>) | undefined;
    let dir: string;
    let app: HttpApp;
    let store: SigningKeyService;

    beforeAll(async () => {
      if (!enabled) return;
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-signing-routes-'));
      const pgdb = backend === 'postgres' ? await freshPostgresDatabase() : undefined;
      drop = pgdb?.drop;
      db = openDatabase({ dataDir: dir, databaseUrl: pgdb?.url });
      await migrateToLatest(db.kysely, db.dialect);
      const keys = createKeyRing(generateMasterKey());
      store = createSigningKeyStore({ db, keys, audit: createAuditWriter({ keys, clock, newId }), clock, alg: 'EdDSA', rotationDays: 30, maxTokenLifetimeSeconds: 3600 });
      app = await createHttpApp({
        logger: createLogger('silent'), version: 'test',
        pipeline: async (req, requirement) => {
          const role = /^Bearer (admin|security|auditor|owner)$/.exec(req.headers.authorization ?? '')?.[1] as OperatorRole | undefined;
          if (!role) throw errors.unauthenticated();
          const actor = operatorActor({ principal: { id: `id-${role}`, name: role, kind: 'human', status: 'active', ownerId: null }, credentialId: 'c', role, teamIds: [], provenance: { sourceIp: null, requestId: null, traceId: null, userAgent: null, via: 'direct' } });
          if (requirement.permission && !authorize(actor, requirement.permission)) throw errors.forbidden('no');
          return actor;
        },
      });
      registerSigningKeyRoutes(app, store);
      await app.ready();
    });
    afterAll(async () => {
      await app?.close();
      await db?.close();
      await drop?.();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

    it.runIf(enabled)('serves the JWKS without a token: public members only, cacheable, with an ETag and 304 on a match', async () => {
      const key = await store.current();
      const res = await get('/.well-known/jwks.json');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/jwk-set\+json/);
      expect(res.headers['cache-control']).toBe('public, max-age=300');
      const etag = res.headers.etag as string;
      expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
      const body = JSON.parse(res.body);
      expect(body.keys).toEqual([{ kid: key.kid, alg: 'EdDSA', use: 'sig', kty: 'OKP', crv: 'Ed25519', x: expect.any(String) }]);
      const again = await get('/.well-known/jwks.json', { 'if-none-match': etag });
      expect([again.statusCode, again.body, again.headers.etag]).toEqual([304, '', etag]);
      expect((await get('/.well-known/jwks.json', { 'if-none-match': '"stale"' })).statusCode).toBe(200);
      // A rotation changes the set and so the tag; the old tag no longer matches.
      await store.rotate(operatorActor({ principal: { id: 'x', name: 'x', kind: 'human', status: 'active', ownerId: null }, credentialId: 'c', role: 'admin', teamIds: [], provenance: { sourceIp: null, requestId: null, traceId: null, userAgent: null, via: 'direct' } }));
      const rotated = await get('/.well-known/jwks.json', { 'if-none-match': etag });
      expect(rotated.statusCode).toBe(200);
      expect(rotated.headers.etag).not.toBe(etag);
      expect(JSON.parse(rotated.body).keys).toHaveLength(2);
      const doc = JSON.parse((await get('/openapi.json')).body);
      expect(doc.paths['/.well-known/jwks.json'].get.security).toEqual([]);
    });

    it.runIf(enabled)('lists keys for key.read and rotates for key.rotate only, never showing private material', async () => {
      expect((await get('/v1/signing-keys')).statusCode).toBe(401);
      expect((await get('/v1/signing-keys', { authorization: 'Bearer owner' })).statusCode).toBe(403);
      const list = await get('/v1/signing-keys', { authorization: 'Bearer auditor' });
      expect(list.statusCode).toBe(200);
      const items = JSON.parse(list.body).items as Array<Record<string, unknown>>;
      expect(items.length).toBeGreaterThan(0);
      for (const item of items) expect(Object.keys(item).sort()).toEqual(['alg', 'created_at', 'deactivated_at', 'kid', 'retired_at', 'rotate_at', 'status', 'verify_until']);
      const before = items[0]!.kid;

      const rotate = (role: string, body?: unknown) => app.inject({ method: 'POST', url: '/v1/signing-keys/rotate', headers: { authorization: `Bearer ${role}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, payload: body === undefined ? undefined : JSON.stringify(body) });
      for (const role of ['security', 'auditor', 'owner']) expect((await rotate(role, {})).statusCode, role).toBe(403);
      const res = await rotate('admin', { reason: 'drill' });
      expect(res.statusCode).toBe(200);
      const out = JSON.parse(res.body);
      expect(out.retiring[0]).toBe(before);
      expect(out.kid).not.toBe(before);
      const bare = await rotate('admin');
      expect(bare.statusCode, bare.body).toBe(200);
      expect((await rotate('admin', { reason: 'x', extra: 1 })).statusCode).toBe(400);
      const after = JSON.parse((await get('/v1/signing-keys', { authorization: 'Bearer admin' })).body).items;
      expect(after[0].status).toBe('active');
      expect(JSON.stringify(after)).not.toMatch(/"d"|private|sealed/);
    });
  });
}
