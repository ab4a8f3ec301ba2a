// Turning raw matches into findings: redaction, the keyed fingerprint, and (Custos tokens only) the hash
// prefix the server matches against its stored hash.
//
// Every hash a finding shows or is keyed by is an HMAC-SHA-256 under the installation's scan key
// (`scan-key.ts`): a short password's hash in a report cannot be brute-forced without that key. The one
// exception is `secretHash`, a plain SHA-256 prefix sent with `--report` so the server can match a leaked
// Custos token against the SHA-256 it stores: safe only because a Custos token carries 190 random bits,
// so it is set for Custos tokens alone.
import { createHmac, randomBytes } from 'node:crypto';
import type { RawMatch } from './engine.js';
import type { Finding, Location } from './types.js';
import { hashCustosToken, parseCustosToken } from '../platform/credential-format.js';

export function createSecretHasher(key: Uint8Array) {
  const mac = (...parts: string[]) => {
    const h = createHmac('sha256', key);
    for (const p of parts) h.update(p, 'utf8');
    return h.digest('hex');
  };
  return {
    /** Location-independent: the same secret under the same rule has one fingerprint wherever it appears. */
    fingerprint: (ruleId: string, secret: string): string => mac('custos-scan-v2\0fingerprint\0', ruleId, '\0', secret).slice(0, 32),
    /** The 12 hex characters a redacted value shows. */
    tag: (secret: string): string => mac('custos-scan-v2\0tag\0', secret).slice(0, 12),
    /** Names the key without revealing it: baselines record it, so one written under another key is refused. */
    keyId: mac('custos-scan-v2\0key-id').slice(0, 16),
  };
}
export type SecretHasher = ReturnType<typeof createSecretHasher>;

/** For library callers that pass no key: fingerprints are then stable within this process only. */
let processKey: Buffer | undefined;
export function ephemeralScanKey(): Buffer {
  return (processKey ??= randomBytes(32));
}

/** Exact length only from 32 characters on (a token's length is its format); below, a bucket. */
export function lengthBucket(n: number): string {
  if (n < 12) return '<12';
  if (n < 24) return '12-23';
  if (n < 32) return '24-31';
  return String(n);
}

/**
 * A few leading characters (4 from 24 characters, 2 from 12, none below: within the length bucket, so they
 * tell no more than it), the length bucket and the keyed tag; the rest of the secret is never kept.
 */
export function redact(secret: string, hasher: SecretHasher): string {
  const shown = secret.length >= 24 ? 4 : secret.length >= 12 ? 2 : 0;
  return `${secret.slice(0, shown)}…[${lengthBucket(secret.length)} chars, hmac:${hasher.tag(secret)}]`;
}

export function toFinding(m: RawMatch, location: Location, hasher: SecretHasher): Finding {
  const { rule, secret } = m;
  const f: Finding = {
    ruleId: rule.id,
    description: rule.description,
    provider: rule.provider,
    severity: rule.severity,
    fingerprint: hasher.fingerprint(rule.id, secret),
    redacted: redact(secret, hasher),
    location,
    verified: rule.checksum === true,
  };
  if (rule.id.startsWith('custos-')) {
    const parsed = parseCustosToken(secret);
    if (parsed) {
      f.credential = parsed;
      f.secretHash = hashCustosToken(secret).slice(0, 16);
    }
  }
  return f;
}
