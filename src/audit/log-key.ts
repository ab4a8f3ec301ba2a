import crypto from 'node:crypto';
import type { Database } from '../platform/store/db.js';
import type { KeyRing } from '../platform/keys.js';
import { deleteMeta, getMetaMany, insertMeta, insertMetaMany } from '../platform/store/meta.repo.js';
import { createNoteSigner, formatVerifierKey, generateNoteKey, privateKeyFromPkcs8, type NoteSigner } from './checkpoint.js';

// The log's identity: an origin line (unique per installation) and an Ed25519 key that signs checkpoints.
// The private key is stored sealed under the master key; the public verifier key is published.

export interface LogKey {
  origin: string;
  signer: NoteSigner;
  /** `<name>+<keyid>+<base64 key>`: all an outsider needs to verify checkpoints and proofs. */
  vkey: string;
  publicKeyRaw: Buffer;
}

const SEALED_CONTEXT = 'audit-signing-key';

export async function loadOrCreateLogKey(db: Database, keys: KeyRing): Promise<LogKey> {
  const stored = await getMetaMany(db.kysely, ['audit_origin', 'audit_signing_key', 'audit_vkey']);
  const get = (k: string) => stored.get(k);
  let origin = get('audit_origin');
  let sealed = get('audit_signing_key');
  if (!origin || !sealed) {
    origin = `custos.local/${crypto.randomBytes(8).toString('hex')}`;
    const fresh = generateNoteKey(origin);
    sealed = keys.seal(fresh.privateKey.export({ format: 'der', type: 'pkcs8' }), SEALED_CONTEXT);
    const o = origin;
    const s = sealed;
    await db.write(async (trx) => {
      await insertMetaMany(trx, [{ key: 'audit_origin', value: o }, { key: 'audit_signing_key', value: s }]);
    });
  }
  const privateKey = privateKeyFromPkcs8(keys.open(sealed, SEALED_CONTEXT));
  const publicKey = crypto.createPublicKey(privateKey);
  const publicKeyRaw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const vkey = formatVerifierKey(origin, publicKey);
  if (get('audit_vkey') !== vkey) {
    // The public key is kept in clear too, so the store can be verified offline without the master key.
    await db.write(async (trx) => {
      await deleteMeta(trx, 'audit_vkey');
      await insertMeta(trx, 'audit_vkey', vkey);
    });
  }
  return { origin, signer: createNoteSigner({ name: origin, privateKey }), vkey, publicKeyRaw };
}
