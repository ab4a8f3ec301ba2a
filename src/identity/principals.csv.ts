import { stringify } from 'csv-stringify/sync';
import type { PrincipalView } from './principals.schemas.js';

// The inventory as CSV: the API's format=csv and the CLI's export render through this one function.

export const CSV_COLUMNS = [
  'id', 'name', 'kind', 'status', 'owner', 'owner_team', 'team', 'environment', 'autonomy', 'risk_tier', 'data_ceiling',
  'platform', 'framework', 'scopes', 'purposes', 'may_delegate_to', 'orphaned', 'review_due_at', 'labels', 'created_at', 'updated_at',
] as const;

export function toCsv(items: PrincipalView[]): string {
  const rows = items.map((p) => [
    p.id, p.name, p.kind, p.status, p.owner?.name ?? '', p.owner_team?.name ?? '', p.team?.name ?? '', p.environment ?? '',
    p.autonomy ?? '', p.risk_tier, p.data_ceiling ?? '', p.platform ?? '', p.framework ?? '', p.scopes.join(' '),
    p.purposes.join(' '), p.may_delegate_to.join(' '), String(p.orphaned), p.review_due_at ?? '', JSON.stringify(p.labels), p.created_at, p.updated_at,
  ]);
  // Cells starting with = + - @ are quoted with a leading apostrophe so spreadsheets do not run them as formulas.
  const safe = rows.map((r) => r.map((c) => (/^[=+\-@\t\r]/.test(c) ? `'${c}` : c)));
  return stringify([[...CSV_COLUMNS], ...safe]);
}
