// The installation's scan key: the HMAC key of every fingerprint and shown hash (`finding.ts`). Without a
// key, a finding's hash of a short secret (`hunter2`) could be reversed by anyone who reads the report, and
// reports go to code scanning. One random key per installation, kept readable by its user only:
//   --key-file FILE  >  $CUSTOS_SCAN_KEY_FILE  >  $XDG_CONFIG_HOME/custos/scan-key (default ~/.config/custos/scan-key)
// created on first use (32 random bytes, hex, mode 0600). Fingerprints, and so baselines, match only
// between runs that use the same key.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

export class ScanKeyError extends Error {}

export function scanKeyPath(env: NodeJS.ProcessEnv, flag?: string): string {
  if (flag) return flag;
  if (env.CUSTOS_SCAN_KEY_FILE) return env.CUSTOS_SCAN_KEY_FILE;
  // Never relative to the working directory: without HOME, the account's home from the password database.
  const config = env.XDG_CONFIG_HOME || path.join(env.HOME || env.USERPROFILE || homedir(), '.config');
  return path.join(config, 'custos', 'scan-key');
}

function parseKey(text: string, file: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new ScanKeyError(`scan key file ${file} must hold 64 hex characters (32 random bytes)`);
  return Buffer.from(hex, 'hex');
}

/** Reads the key, creating it first (0600, parent 0700) when the file does not exist yet. */
export async function loadScanKey(env: NodeJS.ProcessEnv, flag?: string): Promise<Buffer> {
  const file = scanKeyPath(env, flag);
  const existing = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw new ScanKeyError(`cannot read scan key file ${file}: ${err.code ?? err.message}`);
  });
  if (existing !== null) return parseKey(existing, file);
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    // `wx`: when two scans start at once, one creates the key and the other reads it.
    await writeFile(file, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new ScanKeyError(`cannot create scan key file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseKey(await readFile(file, 'utf8'), file);
}
