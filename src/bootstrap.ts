import fs from 'node:fs';
import path from 'node:path';
import { systemActor } from './platform/actor.js';
import { BOOTSTRAP_TOKEN_FILE } from './platform/data-dir.js';
import type { Database } from './platform/store/db.js';
import { getMeta, insertMeta } from './platform/store/meta.repo.js';
import {
  SealedError, createKeyRing, generateMasterKey, loadMasterKey, writeMasterKeyFile, type KeyRing,
} from './platform/keys.js';
import type { AuditWriter } from './audit/index.js';
import type { PrincipalService } from './identity/index.js';
import { MAX_TTL_SECONDS, type OperatorTokenService } from './operators/index.js';

// First start and unsealing. A store that has been initialised opens only with its own master key;
// a missing or wrong key stops the start with a clear message instead of starting an empty control plane.

export { BOOTSTRAP_TOKEN_FILE };
export const BOOTSTRAP_PRINCIPAL = 'bootstrap-admin';
/** meta key of the sealed value that proves the master key is this store's. */
const KEY_CHECK = 'key_check';

export function ensureDataDir(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dataDir, 0o700);
}

/** Whether the store was initialised (it holds the master key check). */
export async function isInitialised(db: Database): Promise<boolean> {
  return (await getMeta(db.kysely, KEY_CHECK)) !== undefined;
}

/** Loads the master key and checks it against the store. Returns the key ring, and whether the store is new. */
export async function unseal(db: Database, dataDir: string, envKey: string | undefined): Promise<{ keys: KeyRing; fresh: boolean }> {
  const check = await getMeta(db.kysely, KEY_CHECK);
  let master = loadMasterKey(dataDir, envKey);
  if (check) {
    if (!master) {
      throw new SealedError(
        `the store is sealed: it was initialised with a master key, but neither ${path.join(dataDir, 'master.key')} nor CUSTOS_MASTER_KEY is present. Restore the key; Custos will not start an empty control plane over existing data.`,
      );
    }
    const keys = createKeyRing(master);
    if (!keys.verifyKeyCheck(check)) {
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
  db: Database; keys: KeyRing; audit: AuditWriter; principals: PrincipalService; tokens: OperatorTokenService; dataDir: string;
}): Promise<BootstrapResult> {
  const actor = systemActor('startup');
  // One transaction: the key check, the admin principal (through the principal service, like any other), its
  // token and the events describing them commit together, so a crash never leaves a half-initialised store.
  const token = await deps.db.write(async (trx, batch) => {
    await insertMeta(trx, KEY_CHECK, deps.keys.keyCheck());
    const admin = await deps.principals.createIn(trx, batch, actor, {
      name: BOOTSTRAP_PRINCIPAL, kind: 'human', status: 'active', risk_tier: 'critical', display_name: 'Bootstrap administrator',
      description: 'Created by custos init; mint personal operator tokens and retire this one.', reason: 'bootstrap',
    });
    await deps.audit.record(trx, batch, { type: 'system.initialised', action: 'system.init', actor, outcome: 'success', details: { bootstrap_principal: admin.id } });
    const minted = await deps.tokens.insert(trx, batch, actor, admin, 'admin', MAX_TTL_SECONDS, 'bootstrap admin token');
    return minted.token;
  });
  const tokenFile = path.join(deps.dataDir, BOOTSTRAP_TOKEN_FILE);
  fs.writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
  fs.chmodSync(tokenFile, 0o600);
  return { token, tokenFile };
}
