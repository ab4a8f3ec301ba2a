// The findings payload a `--report` upload will POST to the server (/v1/findings). Pure.
import type { Finding, ScanResult } from '../types.js';

export interface FindingsPayload {
  scanner: { name: 'custos-scan'; version: string };
  source: ScanResult['source'];
  target: string;
  incomplete: boolean;
  incompleteReasons: string[];
  findings: Array<{
    fingerprint: string;
    ruleId: string;
    provider: string;
    severity: Finding['severity'];
    verified: boolean;
    redacted: string;
    location: Finding['location'];
    /** Custos credentials only: parsed offline so the server can revoke without the secret. */
    credential?: { kind: string; id: string };
  }>;
}

export function toFindingsPayload(r: ScanResult, version = '0.1.0'): FindingsPayload {
  return {
    scanner: { name: 'custos-scan', version },
    source: r.source,
    target: r.target,
    incomplete: r.incomplete,
    incompleteReasons: r.incompleteReasons,
    findings: r.findings.map((f) => ({
      fingerprint: f.fingerprint,
      ruleId: f.ruleId,
      provider: f.provider,
      severity: f.severity,
      verified: f.verified,
      redacted: f.redacted,
      location: f.location,
      ...(f.credential ? { credential: f.credential } : {}),
    })),
  };
}
