import type { ScanResult } from '../scanner/index.js';
import type { ReportInput } from './findings.schemas.js';

// What `custos scan --report` sends: no secret, only its redaction, a 64-bit hash prefix (enough for the server
// to confirm a Custos credential against its stored hash) and, for Custos credentials, the id parsed offline.
export function toReportBody(result: ScanResult, exposure: { publicRepo?: boolean; pushedImage?: boolean }, version: string): ReportInput {
  return {
    scanner: { name: 'custos-scan', version },
    source: result.source,
    target: result.target,
    incomplete: result.incomplete,
    incomplete_reasons: result.incompleteReasons,
    exposure: { public_repo: exposure.publicRepo ?? false, pushed_image: exposure.pushedImage ?? false },
    findings: result.findings.map((f) => ({
      fingerprint: f.fingerprint,
      rule_id: f.ruleId,
      provider: f.provider,
      severity: f.severity,
      verified: f.verified,
      redacted: f.redacted,
      secret_sha256_prefix: f.secretHash,
      location: { ...f.location },
      ...(f.credential ? { credential: f.credential } : {}),
    })),
  };
}
