import fs from 'node:fs';
import path from 'node:path';
import { systemActor } from './platform/actor.js';
import { BOOTSTRAP_TOKEN_FILE } from './platform/data-dir.js';
import type { Clock } from './platform/clock.js';
import type { Database } from './platform/store/db.js';
import type { IdGenerator } from './platform/ids.js';
import {
  SealedError, createKeyRing, generateMasterKey, loadMasterKey, writeMasterKeyFile, type KeyRing,
} from './platform/keys.js';
import type { AuditWriter } from './audit/writer.js';
import type { OperatorTokenService } from './operators/operator-tokens.js';
import { MAX_TTL_SECONDS } from './operators/operator-tokens.js';

// First start and unsealing. A store that has been initialised opens only with its own master key;
// a missing or wrong key stops the start with a clear message instead of starting an empty control plane.

export { BOOTSTRAP_TOKEN_FILE };
export const BOOTSTRAP_PRINCIPAL = 'bootstrap-admin';

export function ensureDataDir(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dataDir, 0o700);
}

/** Loads the master key and checks it against the store. Returns the key ring, and whether the store is new. */
export async function unseal(db: Database, dataDir: string, envKey: string | undefined): Promise<{ keys: KeyRing; fresh: boolean }> {
  const check = await db.kysely.selectFrom('meta').select('value').where('key', '=', 'key_check').executeTakeFirst();
  let master = loadMasterKey(dataDir, envKey);
  if (check) {
    if (!master) {
      throw new SealedError(
        `the store is sealed: it was initialised with a master key, but neither ${path.join(dataDir, 'master.key')} nor CUSTOS_MASTER_KEY is present. Restore the key; Custos will not start an empty control plane over existing data.`,
      );
    }
    const keys = createKeyRing(master);
    if (!keys.verifyKeyCheck(check.value)) {
      throw new SealedError('the store is sealed: the master key does not match the one this store was initialised with');
    }
    return { keys, fresh: false };
  }
  if (!master) {
    master = generateMasterKey();
    writeMasterKeyFile(dataDir, master);
  }
  return { keys: createKeyRing(master), fresh: true };
}

export interface BootstrapResult {
  token: string;
  tokenFile: string;
}

/** Initialises a fresh store: the key check, a bootstrap admin principal and its token (printed once). */
export async function initialiseStore(deps: {
  db: Database; keys: KeyRing; audit: AuditWriter; tokens: OperatorTokenService; clock: Clock; newId: IdGenerator; dataDir: string;
}): Promise<BootstrapResult> {
  const actor = systemActor('startup');
  const now = deps.clock.now().toISOString();
  const token = await deps.db.write(async (trx, batch) => {
    await trx.insertInto('meta').values({ key: 'key_check', value: deps.keys.keyCheck() }).execute();
    const id = deps.newId();
    await trx.insertInto('principals').values({
      id, name: BOOTSTRAP_PRINCIPAL, kind: 'human', display_name: 'Bootstrap administrator', description: 'Created by custos init; mint personal operator tokens and retire this one.',
      status: 'active', owner_principal_id: null, owner_team_id: null, team_id: null, scopes: '[]', purposes: '[]', autonomy: null,
      platform: null, framework: null, environment: null, data_ceiling: null, risk_tier: 'critical', external_ids: '{}', labels: '{}',
      orphaned: 0, review_due_at: null, status_reason: 'bootstrap', created_at: now, created_by: null, updated_at: now, version: 1,
    }).execute();
    await deps.audit.record(trx, batch, { type: 'system.initialised', action: 'system.init', actor, outcome: 'success', details: { bootstrap_principal: id } });
    const minted = await deps.tokens.insert(trx, batch, actor, { id, name: BOOTSTRAP_PRINCIPAL }, 'admin', MAX_TTL_SECONDS, 'bootstrap admin token');
    return minted.token;
  });
  const tokenFile = path.join(deps.dataDir, BOOTSTRAP_TOKEN_FILE);
  fs.writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
  fs.chmodSync(tokenFile, 0o600);
  return { token, tokenFile };
}
