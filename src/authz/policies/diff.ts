// Which policies two policy texts add, remove or change, by id (`@id`, else Cedar's positional `policyN`; give
// every policy an @id so a diff, a decision's reasons and an impact report name it the same way in every version).
// A policy is changed when its text, formatted by Cedar's formatter, differs: layout changes are not changes.
import { formatPolicyText, splitPolicies } from '../cedar.js';

export interface PolicyDiff {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

export function diffPolicies(before: string, after: string): PolicyDiff {
  const a = splitPolicies(before);
  const b = splitPolicies(after);
  const out: PolicyDiff = { added: [], removed: [], changed: [], unchanged: [] };
  for (const id of Object.keys(a)) if (!(id in b)) out.removed.push(id);
  for (const [id, text] of Object.entries(b)) {
    if (!(id in a)) out.added.push(id);
    else if (normalise(a[id]!) !== normalise(text)) out.changed.push(id);
    else out.unchanged.push(id);
  }
  return out;
}

function normalise(policy: string): string {
  return formatPolicyText(policy).trim();
}

/**
 * A line diff of two texts (longest common subsequence): lines as `  ` (both), `- ` (before only), `+ ` (after only).
 * For showing how a changed policy changed; policies are short, so the quadratic table is small.
 */
export function lineDiff(before: string, after: string): string[] {
  const a = before.replace(/\s+$/, '').split('\n');
  const b = after.replace(/\s+$/, '').split('\n');
  const n = a.length;
  const m = b.length;
  // common[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const common = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) common[i]![j] = a[i] === b[j] ? common[i + 1]![j + 1]! + 1 : Math.max(common[i + 1]![j]!, common[i]![j + 1]!);
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) { out.push(`  ${a[i]}`); i++; j++; }
    else if (i < n && (j === m || common[i + 1]![j]! >= common[i]![j + 1]!)) out.push(`- ${a[i++]}`);
    else out.push(`+ ${b[j++]}`);
  }
  return out;
}

/** The Cedar text of each policy of a text, by id (for showing a changed policy). */
export function policiesById(text: string): Record<string, string> {
  return splitPolicies(text);
}
