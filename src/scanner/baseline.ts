// Baseline file: accepted findings by fingerprint, holding only redacted values. The `baseline` step of
// `filters.ts` applies it.
import type { Finding } from './types.js';

export interface Baseline {
  version: 1;
  findings: Array<{ fingerprint: string; ruleId: string; redacted: string; path: string }>;
}

export function makeBaseline(findings: Finding[]): Baseline {
  const byFp = new Map<string, Baseline['findings'][number]>();
  for (const f of findings) {
    if (!byFp.has(f.fingerprint)) byFp.set(f.fingerprint, { fingerprint: f.fingerprint, ruleId: f.ruleId, redacted: f.redacted, path: f.location.path });
  }
  return { version: 1, findings: [...byFp.values()].sort((a, b) => a.fingerprint.localeCompare(b.fingerprint)) };
}

export function parseBaseline(text: string): Set<string> {
  const v = JSON.parse(text) as Partial<Baseline>;
  if (v.version !== 1 || !Array.isArray(v.findings)) throw new Error('not a Custos scan baseline (version 1)');
  return new Set(v.findings.map((f) => String(f.fingerprint)));
}
