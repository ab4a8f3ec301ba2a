import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MASTER_KEY_FILE_NAME } from './data-dir.js';

// The master key never leaves this module. Everything secret at rest is sealed with AES-256-GCM under a
// key derived from it (HKDF, one derived key per purpose), so a copy of the database alone reveals nothing.

export const MASTER_KEY_FILE = MASTER_KEY_FILE_NAME;
const KEY_CHECK_PLAINTEXT = 'custos-master-key-check-v1';

export class SealedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealedError';
  }
}

export interface KeyRing {
  /** Encrypts `plaintext`; `context` is bound as additional data so a ciphertext cannot be moved elsewhere. */
  seal(plaintext: Buffer, context: string): string;
  open(sealed: string, context: string): Buffer;
  /** A 32-byte key for one purpose (e.g. 'audit-hmac'), stable for a given master key. */
  deriveKey(purpose: string): Buffer;
  /** A value stored in the database so a wrong master key is detected at start. */
  keyCheck(): string;
  verifyKeyCheck(check: string): boolean;
}

export function parseMasterKey(encoded: string, source: string): Buffer {
  const trimmed = encoded.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== 32 || key.toString('base64') !== trimmed) {
    throw new SealedError(`${source} must be 32 random bytes in base64 (44 characters); generate one with: openssl rand -base64 32`);
  }
  return key;
}

export function generateMasterKey(): Buffer {
  return crypto.randomBytes(32);
}

/** Reads the master key from the environment value or the key file; undefined when neither exists. */
export function loadMasterKey(dataDir: string, fromEnv: string | undefined): Buffer | undefined {
  if (fromEnv !== undefined) return parseMasterKey(fromEnv, 'CUSTOS_MASTER_KEY');
  const file = path.join(dataDir, MASTER_KEY_FILE);
  if (!fs.existsSync(file)) return undefined;
  return parseMasterKey(fs.readFileSync(file, 'utf8'), file);
}

export function writeMasterKeyFile(dataDir: string, key: Buffer): string {
  const file = path.join(dataDir, MASTER_KEY_FILE);
  // 'wx': never overwrite an existing key (that would seal away every secret sealed under it).
  fs.writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return file;
}

export function createKeyRing(masterKey: Buffer): KeyRing {
  const sealingKey = hkdf(masterKey, 'custos/seal/v1');
  const ring: KeyRing = {
    seal(plaintext, context) {
      const iv = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv('aes-256-gcm', sealingKey, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return ['v1', iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    },
    open(sealed, context) {
      const [version, iv, body, tag] = sealed.split('.');
      if (version !== 'v1' || !iv || body === undefined || !tag) throw new SealedError('sealed value is malformed');
      const decipher = crypto.createDecipheriv('aes-256-gcm', sealingKey, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      try {
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
      } catch {
        throw new SealedError('sealed value cannot be opened with this master key');
      }
    },
    deriveKey(purpose) {
      return hkdf(masterKey, `custos/derive/${purpose}`);
    },
    keyCheck() {
      return ring.seal(Buffer.from(KEY_CHECK_PLAINTEXT), 'key-check');
    },
    verifyKeyCheck(check) {
      try {
        return ring.open(check, 'key-check').toString() === KEY_CHECK_PLAINTEXT;
      } catch {
        return false;
      }
    },
  };
  return ring;
}

function hkdf(key: Buffer, info: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', key, Buffer.alloc(0), Buffer.from(info, 'utf8'), 32));
}
