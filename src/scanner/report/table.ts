// Table report for people.
import Table from 'cli-table3';
import type { Finding, ScanResult } from '../types.js';
import { statusOf } from './json.js';

/** Paths, author names and archive entries are untrusted: no terminal control sequences reach the screen. */
function safe(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/g, '?');
}

export function where(f: Finding): string {
  return safe(whereRaw(f));
}

function whereRaw(f: Finding): string {
  const l = f.location;
  const parts: string[] = [];
  if (l.image) parts.push(`${l.image}${l.layer ? ` layer ${l.layer.slice(0, 19)}` : ''}`);
  if (l.archive?.length) parts.push(l.archive.join(' > '));
  parts.push(`${l.path}:${l.line}:${l.column}`);
  if (l.within) parts.push(`(${l.within})`);
  if (l.deletedInLaterLayer) parts.push('[deleted by a later layer]');
  if (l.commit) parts.push(`\n${l.commit.slice(0, 12)} ${l.author ?? ''} ${l.date ?? ''}`);
  return parts.join(' ');
}

export function renderTable(r: ScanResult): string {
  const lines: string[] = [];
  if (r.findings.length > 0) {
    const t = new Table({ head: ['severity', 'rule', 'secret', 'location'], wordWrap: true, style: { head: [], border: [] } });
    for (const f of r.findings) t.push([f.severity, `${f.ruleId}${f.verified ? ' ✓' : ''}`, f.redacted, where(f)]);
    lines.push(t.toString());
  }
  const skippedBy = new Map<string, number>();
  for (const s of r.skipped) {
    const key = s.reason.replace(/\d+ bytes/, 'N bytes');
    skippedBy.set(key, (skippedBy.get(key) ?? 0) + 1);
  }
  const mb = (r.stats.bytes / 1e6).toFixed(1);
  lines.push(`${r.findings.length} finding(s) in ${r.stats.files} file(s), ${mb} MB, ${(r.stats.durationMs / 1000).toFixed(2)} s`);
  for (const [reason, n] of skippedBy) lines.push(safe(`skipped ${n}: ${reason}`));
  const status = statusOf(r);
  if (r.incomplete) {
    lines.push('INCOMPLETE: the scan hit a limit, so it cannot be called clean:');
    for (const reason of r.incompleteReasons.slice(0, 20)) lines.push(safe(`  - ${reason}`));
    if (r.incompleteReasons.length > 20) lines.push(`  … ${r.incompleteReasons.length - 20} more`);
  } else if (status === 'clean') {
    lines.push('clean');
  }
  return lines.join('\n') + '\n';
}
