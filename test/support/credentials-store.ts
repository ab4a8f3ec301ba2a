import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAuditWriter } from '../../src/audit/index.js';
import type { AuditEvent } from '../../src/audit/index.js';
import { operatorActor, NO_PROVENANCE, type Actor } from '../../src/platform/actor.js';
import { manualClock } from '../../src/platform/clock.js';
import { newId } from '../../src/platform/ids.js';
import { createKeyRing, generateMasterKey } from '../../src/platform/keys.js';
import { openDatabase, type Database } from '../../src/platform/store/db.js';
import { migrateToLatest } from '../../src/platform/store/migrations/index.js';
import type { OAuthTokensTable } from '../../src/platform/store/schema.js';
import { freshPostgresDatabase, type Backend } from './backends.js';

// A bare store for the revocation and inventory tests: migrated, with a real audit writer and a manual clock;
// tokens are inserted as the token endpoint would insert them.

export interface StoreFixture {
  db: Database;
  audit: ReturnType<typeof createAuditWriter>;
  clock: ReturnType<typeof manualClock>;
  /** A second connection to the same store (another node). */
  openAnother(): Database;
  events(type?: string): Promise<AuditEvent[]>;
  close(): Promise<void>;
}

export async function openStoreFixture(backend: Backend): Promise<StoreFixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-revocation-'));
  const pgdb = backend === 'postgres' ? await freshPostgresDatabase() : undefined;
  const db = openDatabase({ dataDir: dir, databaseUrl: pgdb?.url });
  await migrateToLatest(db.kysely, db.dialect);
  const clock = manualClock('2026-03-01T12:00:00.000Z');
  const audit = createAuditWriter({ keys: createKeyRing(generateMasterKey()), clock, newId });
  const others: Database[] = [];
  return {
    db, audit, clock,
    openAnother() {
      const other = openDatabase({ dataDir: dir, databaseUrl: pgdb?.url });
      others.push(other);
      return other;
    },
    async events(type) {
      let q = db.kysely.selectFrom('audit_events').select('canonical').orderBy('seq');
      if (type) q = q.where('type', '=', type);
      return (await q.execute()).map((r) => JSON.parse(r.canonical) as AuditEvent);
    },
    async close() {
      for (const o of others) await o.close();
      await db.close();
      await pgdb?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function tokenRow(over: Partial<OAuthTokensTable> & { jti: string; principal_id: string }, issuedAt: Date, ttlSeconds = 900): OAuthTokensTable {
  return {
    client_id: over.principal_id, family_id: over.jti, parent_jti: null, depth: 0, grant_type: 'client_credentials',
    auth_method: 'private_key_jwt', credential_id: null, scope: 'model:invoke', audience: '["urn:custos:resource:gw"]',
    purpose: 'support', jkt: null, act_chain: '[]', kid: 'k1', issued_at: issuedAt.toISOString(),
    expires_at: new Date(issuedAt.getTime() + ttlSeconds * 1000).toISOString(), revoked_at: null, revoked_reason: null,
    ...over,
  };
}

export function testOperator(role: 'admin' | 'security' | 'auditor' | 'owner', id = newId(), teamIds: string[] = []): Actor {
  return operatorActor({
    principal: { id, name: `op-${role}`, kind: 'human', status: 'active', ownerId: null },
    credentialId: 'aaaaaaaaaaaaaaaa', role, teamIds, provenance: NO_PROVENANCE,
  });
}
