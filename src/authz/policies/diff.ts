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
