// JSON report: the scan result as is (findings already hold only redacted secrets).
import type { ScanResult } from '../types.js';

export function renderJson(r: ScanResult): string {
  return JSON.stringify({ ...r, status: statusOf(r) }, null, 2) + '\n';
}

/** `incomplete` wins over `clean`: a scan that hit a limit is never called clean. */
export function statusOf(r: ScanResult): 'findings' | 'incomplete' | 'clean' {
  if (r.findings.length > 0) return 'findings';
  return r.incomplete ? 'incomplete' : 'clean';
}
