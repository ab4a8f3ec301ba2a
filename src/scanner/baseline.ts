// Baseline file: accepted findings by fingerprint, holding only redacted values. The `baseline` step of
// `filters.ts` applies it.
import type { Finding } from './types.js';

export interface Baseline {
  version: 2;
  /** Id of the scan key the fingerprints are keyed with (`SecretHasher.keyId`). */
  key: string;
  findings: Array<{ fingerprint: string; ruleId: string; redacted: string; path: string }>;
}

export function makeBaseline(findings: Finding[], keyId: string): Baseline {
  const byFp = new Map<string, Baseline['findings'][number]>();
  for (const f of findings) {
    if (!byFp.has(f.fingerprint)) byFp.set(f.fingerprint, { fingerprint: f.fingerprint, ruleId: f.ruleId, redacted: f.redacted, path: f.location.path });
  }
  return { version: 2, key: keyId, findings: [...byFp.values()].sort((a, b) => a.fingerprint.localeCompare(b.fingerprint)) };
}

/** The accepted fingerprints; refuses a baseline keyed with another scan key, and version 1 (unkeyed SHA-256). */
export function parseBaseline(text: string, keyId: string): Set<string> {
  const v = JSON.parse(text) as { version?: unknown; key?: unknown; findings?: unknown };
  if (v.version === 1) throw new Error('version 1 baselines hold unkeyed SHA-256 fingerprints, which no longer match: write a new one with --write-baseline');
  if (v.version !== 2 || !Array.isArray(v.findings) || typeof v.key !== 'string') throw new Error('not a Custos scan baseline (version 2)');
  if (v.key !== keyId) throw new Error(`written with another scan key (key id ${v.key}, this one is ${keyId}): use that key (--key-file or CUSTOS_SCAN_KEY_FILE) or write a new baseline`);
  return new Set((v.findings as Array<{ fingerprint?: unknown }>).map((f) => String(f.fingerprint)));
}
