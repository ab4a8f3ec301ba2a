// SARIF 2.1.0 report (GitHub code scanning and other viewers).
import type { Log, ReportingDescriptor, Result } from 'sarif';
import type { Rule, ScanResult, Severity } from '../types.js';

const LEVEL: Record<Severity, Result.level> = { critical: 'error', high: 'error', medium: 'warning', low: 'note' };
const SCORE: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0' };

export function renderSarif(r: ScanResult, rules: Rule[], version = '0.1.0'): string {
  const used = new Set(r.findings.map((f) => f.ruleId));
  const descriptors: ReportingDescriptor[] = rules.filter((x) => used.has(x.id)).map((x) => ({
    id: x.id,
    name: x.id.replace(/(^|-)([a-z])/g, (_m, _d, ch: string) => ch.toUpperCase()),
    shortDescription: { text: x.description },
    fullDescription: { text: `${x.description} (${x.provider}).` },
    defaultConfiguration: { level: LEVEL[x.severity] },
    properties: { tags: ['security', 'secret'], 'security-severity': SCORE[x.severity] },
  }));
  const index = new Map(descriptors.map((d, i) => [d.id, i]));
  const results: Result[] = r.findings.map((f) => {
    const l = f.location;
    const uri = [...(l.archive ?? []), l.path].join('!/');
    const context = [l.within, l.commit && `commit ${l.commit} by ${l.author} on ${l.date}`, l.image && `image ${l.image}`,
      l.layer && `layer ${l.layer}`, l.deletedInLaterLayer && 'deleted by a later layer'].filter(Boolean).join('; ');
    return {
      ruleId: f.ruleId,
      ruleIndex: index.get(f.ruleId) ?? -1,
      level: LEVEL[f.severity],
      message: { text: `${f.description}: ${f.redacted}${context ? ` (${context})` : ''}` },
      locations: [{
        physicalLocation: {
          artifactLocation: { uri: encodeURI(uri) },
          region: { startLine: Math.max(1, l.line), startColumn: Math.max(1, l.column) },
        },
      }],
      partialFingerprints: { 'custosSecret/v2': f.fingerprint },
      properties: {
        severity: f.severity, verified: f.verified, ...(l.commit ? { commit: l.commit } : {}), ...(l.layer ? { layer: l.layer } : {}),
        ...(l.cell !== undefined ? { cell: l.cell } : {}), ...(l.output !== undefined ? { output: l.output } : {}),
      },
    };
  });
  const log: Log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'custos-scan', version, rules: descriptors } },
      results,
      invocations: [{
        executionSuccessful: !r.incomplete,
        toolExecutionNotifications: r.incompleteReasons.map((reason) => ({ level: 'warning' as const, message: { text: `incomplete: ${reason}` } })),
      }],
      properties: { incomplete: r.incomplete, skipped: r.skipped.length },
    }],
  };
  return JSON.stringify(log, null, 2) + '\n';
}
