import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, toCsv } from './principals.csv.js';
import type { PrincipalView } from './principals.schemas.js';

const base: PrincipalView = {
  id: '0190', name: 'bot', kind: 'agent', display_name: null, description: null, status: 'active', owner: { id: 'o', name: 'ana' },
  owner_team: null, team: null, scopes: ['model:invoke'], purposes: [], autonomy: null, platform: null, framework: null, environment: 'prod',
  data_ceiling: null, risk_tier: 'low', external_ids: {}, labels: { a: 'b' }, may_delegate_to: [], orphaned: false, review_due_at: null, status_reason: null,
  created_at: '2026-01-01T00:00:00.000Z', created_by: null, updated_at: '2026-01-01T00:00:00.000Z', version: 1,
};

describe('toCsv', () => {
  it('writes a header and one row per principal that parse back', () => {
    const rows = parse(toCsv([base, { ...base, id: '0191', name: 'bot-2', platform: 'a,"b"\nc' }])) as string[][];
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(3);
    expect(rows[2]![CSV_COLUMNS.indexOf('platform')]).toBe('a,"b"\nc');
    expect(rows[1]![CSV_COLUMNS.indexOf('labels')]).toBe('{"a":"b"}');
  });
  it('lists who may act for a principal as names and kind: entries, space-separated', () => {
    const [head, row] = parse(toCsv([{ ...base, may_delegate_to: ['planner', 'kind:agent'] }])) as string[][];
    expect(head![CSV_COLUMNS.indexOf('may_delegate_to')]).toBe('may_delegate_to');
    expect(row![CSV_COLUMNS.indexOf('may_delegate_to')]).toBe('planner kind:agent');
    expect(row![CSV_COLUMNS.indexOf('purposes')]).toBe('');
  });
  it('never emits a cell a spreadsheet would run as a formula, and keeps the text recoverable', () => {
    fc.assert(fc.property(fc.string({ maxLength: 30 }), fc.constantFrom('=', '+', '-', '@', '\t', '\r', ''), (tail, lead) => {
      const value = lead + tail;
      const [, row] = parse(toCsv([{ ...base, platform: value, framework: value }])) as string[][];
      for (const cell of row!) expect(/^[=+\-@\t\r]/.test(cell)).toBe(false);
      const cell = row![CSV_COLUMNS.indexOf('platform')]!;
      expect(cell === value || cell === `'${value}`).toBe(true);
    }));
  });
});
