// Turning raw matches into findings: redaction, secret hash and the stable fingerprint.
import { createHash } from 'node:crypto';
import type { RawMatch } from './engine.js';
import type { Finding, Location } from './types.js';
import { parseCustosToken } from '../platform/credential-format.js';

export function secretHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A few leading characters and 12 hex chars of the SHA-256; the rest of the secret is never kept. */
export function redact(secret: string): string {
  const shown = secret.length >= 24 ? 4 : secret.length >= 12 ? 2 : 0;
  return `${secret.slice(0, shown)}…[${secret.length} chars, sha256:${secretHash(secret).slice(0, 12)}]`;
}

/**
 * Location-independent: the same secret under the same rule is one finding wherever it appears
 * (moved files, history rewrites and re-runs keep the fingerprint; a baseline entry covers every copy).
 */
export function fingerprint(ruleId: string, secret: string): string {
  return createHash('sha256').update(`custos-scan-v1\0${ruleId}\0`).update(secretHash(secret)).digest('hex').slice(0, 32);
}

export function toFinding(m: RawMatch, location: Location): Finding {
  const { rule, secret } = m;
  const f: Finding = {
    ruleId: rule.id,
    description: rule.description,
    provider: rule.provider,
    severity: rule.severity,
    fingerprint: fingerprint(rule.id, secret),
    redacted: redact(secret),
    secretHash: secretHash(secret).slice(0, 16),
    location,
    verified: rule.checksum === true,
  };
  if (rule.id.startsWith('custos-')) {
    const parsed = parseCustosToken(secret);
    if (parsed) f.credential = parsed;
  }
  return f;
}
