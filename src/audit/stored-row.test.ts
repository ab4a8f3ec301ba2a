import { describe, expect, it } from 'vitest';
import { canonicalBytes } from './canonical.js';
import { columnMismatch, expectedDelegation, indexedFields, INDEXED_COLUMNS } from './stored-row.js';

// The column check reads fields out of canonical text without parsing it whole: it must agree with
// JSON.parse on every event, including ones whose details or names try to look like the fields.

const event = (over: Record<string, unknown> = {}) => ({
  v: 1, seq: 7, id: 'ev-1', time: '2026-01-01T00:00:00.000Z', type: 'principal.created', action: 'principal.create',
  actor: { principal_id: 'p-1', principal_name: 'a "quoted" \\ name', credential_id: 'c-1', auth_method: 'operator_token', role: 'admin', delegation_chain: ['p-0', 'p-1'] },
  target: { type: 'principal', id: 't-1', name: '{"type":"x"}' }, decision: null, reasons: ['},"id":"evil"'], policy_version: null, purpose: null,
  provenance: { source_ip: null, request_id: null, trace_id: null, user_agent: 'ua' }, outcome: 'success',
  details: { type: 'not-the-type', outcome: 'failure', id: 'nested', actor: { principal_id: 'x' }, list: [{ time: 1 }], s: 'é✓😀\u0001' },
  ...over,
});
const text = (e: object) => canonicalBytes(e).toString('utf8');
const columnsOf = (e: ReturnType<typeof event>) => ({
  id: e.id, time: e.time, type: e.type, outcome: e.outcome, decision: e.decision,
  actor_principal_id: e.actor.principal_id, actor_credential_id: e.actor.credential_id,
  target_type: (e.target as { type: string } | null)?.type ?? null, target_id: (e.target as { id: string | null } | null)?.id ?? null,
});

describe('stored columns against the canonical event', () => {
  it('agree on an event whose details and strings imitate the fields', () => {
    const e = event();
    const f = indexedFields(text(e));
    expect(columnMismatch(f, columnsOf(e))).toBeUndefined();
    expect(new Set(expectedDelegation(f))).toEqual(new Set(['p-0', 'p-1']));
  });

  it('agree with null target, null actor ids and a decision, and name each differing column', () => {
    const e = event({ target: null, decision: 'deny', actor: { principal_id: null, principal_name: null, credential_id: null, auth_method: 'system', role: null, delegation_chain: [] } });
    const f = indexedFields(text(e));
    const cols = columnsOf(e);
    expect(columnMismatch(f, cols)).toBeUndefined();
    expect(expectedDelegation(f)).toEqual([]);
    for (const c of INDEXED_COLUMNS) {
      expect(columnMismatch(f, { ...cols, [c]: 'other' }), c).toBe(c);
    }
    expect(columnMismatch(f, { ...cols, decision: null }), 'null is not deny').toBe('decision');
    expect(columnMismatch(f, Object.values(cols))).toBeUndefined();
  });

  it('text that is not an event object disagrees with every row', () => {
    expect(columnMismatch(indexedFields('not json'), columnsOf(event()))).toBe('id');
    expect(columnMismatch(indexedFields('{"id":'), columnsOf(event()))).toBe('id');
  });
});

describe('the writer-layout reader agrees with the general scan', () => {
  it('on varied events (nulls, chains, escapes, nested look-alikes), and declines other layouts', async () => {
    const { generalFields } = await import('./stored-row.js');
    const variants = [
      event(), event({ target: null }), event({ decision: 'allow', details: {} }),
      event({ actor: { principal_id: null, principal_name: null, credential_id: null, auth_method: 'x"y', role: null, delegation_chain: [] } }),
      event({ target: { type: 'r', id: null, name: null }, type: 'a,"type":"b', time: 't"},"time":"u' }),
      event({ details: { z: '},"id":"no","outcome":"no"', id: 'no', nested: { target: null, time: 'no', type: 'no' } } }),
    ];
    for (const e of variants) {
      const t = text(e);
      expect(indexedFields(t)).toEqual(generalFields(t));
      expect(columnMismatch(indexedFields(t), columnsOf(e))).toBeUndefined();
    }
    // Another layout (a member missing): the general scan answers.
    const { outcome: _o, ...noOutcome } = event();
    expect(columnMismatch(indexedFields(text(noOutcome)), { ...columnsOf(event()), outcome: null })).toBeUndefined();
  });
});
