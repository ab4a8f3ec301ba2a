// The columns stored beside each event's canonical bytes, checked against those bytes.
//
// Queries filter on columns (type, actor, target, time, outcome, decision) and on `audit_delegation` rows,
// not on the canonical JSON. The canonical bytes are covered by the leaf hash and the signed tree; these
// columns are not, so editing one would hide an event from a filtered query while the tree still
// verifies. Every verifier therefore checks each column against the canonical event.
//
// Speed: verification runs over millions of events, and JSON.parse of a whole event costs several µs.
// The canonical text is RFC 8785 (members sorted, no whitespace, strings escaped as JSON.stringify does),
// so a stored column equals the event's field exactly when JSON.stringify(column) equals the raw JSON
// text of that field. `locate` finds the raw text of the few members needed in one scan, skipping other
// values without building them; nothing is unescaped or allocated per member skipped.

/** Columns of audit_events derived from the canonical event, and where in the event each comes from. */
export const INDEXED_COLUMNS = [
  'id', 'time', 'type', 'outcome', 'decision', 'actor_principal_id', 'actor_credential_id', 'target_type', 'target_id',
] as const;
export type IndexedColumn = typeof INDEXED_COLUMNS[number];
export type IndexedValues = Record<IndexedColumn, unknown>;

const Q = 0x22; // "
const BS = 0x5c; // \
const LB = 0x7b; // {
const RB = 0x7d; // }
const LS = 0x5b; // [
const RS = 0x5d; // ]
const COMMA = 0x2c;
const COLON = 0x3a;

/** End (exclusive) of the JSON string starting at s[i] === '"'. */
function stringEnd(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === BS) j++;
    else if (c === Q) return j + 1;
  }
  return -1;
}

/** End (exclusive) of the JSON value starting at s[i]. */
function valueEnd(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === Q) return stringEnd(s, i);
  if (c === LB || c === LS) {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const d = s.charCodeAt(j);
      if (d === Q) {
        j = stringEnd(s, j) - 1;
        if (j < 0) return -1;
      } else if (d === LB || d === LS) depth++;
      else if (d === RB || d === RS) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  for (let j = i; j < s.length; j++) {
    const d = s.charCodeAt(j);
    if (d === COMMA || d === RB || d === RS) return j;
  }
  return -1;
}

/**
 * The raw JSON text of the members `wanted` of the object at s[start] (no whitespace, as canonical text
 * has none). Members not present are absent from the result; undefined when the text is not such an object.
 */
function locate(s: string, start: number, wanted: readonly string[]): Map<string, [number, number]> | undefined {
  if (s.charCodeAt(start) !== LB) return undefined;
  const out = new Map<string, [number, number]>();
  let i = start + 1;
  if (s.charCodeAt(i) === RB) return out;
  for (;;) {
    if (s.charCodeAt(i) !== Q) return undefined;
    const keyEnd = stringEnd(s, i);
    if (keyEnd < 0 || s.charCodeAt(keyEnd) !== COLON) return undefined;
    const v = keyEnd + 1;
    const e = valueEnd(s, v);
    if (e < 0) return undefined;
    const key = s.slice(i + 1, keyEnd - 1);
    if (wanted.includes(key)) out.set(key, [v, e]);
    const next = s.charCodeAt(e);
    if (next === RB) return out;
    if (next !== COMMA) return undefined;
    i = e + 1;
  }
}

const TOP = ['id', 'time', 'type', 'outcome', 'decision', 'actor', 'target'];
const ACTOR = ['principal_id', 'credential_id', 'delegation_chain'];
const TARGET = ['id', 'type'];

export type IndexedFields = {
  /** Raw JSON text of each column's source field ('null' where the event holds null or no target). */
  raw: Record<IndexedColumn, string>;
  /** Raw JSON of actor.delegation_chain ('[]' when empty). */
  chainRaw: string;
};

/** The fields the stored columns must equal, as raw JSON text; undefined when the canonical text is not an event object. */
export function indexedFields(canonical: string): IndexedFields | undefined {
  const top = locate(canonical, 0, TOP);
  if (!top) return undefined;
  const raw = (m: Map<string, [number, number]> | undefined, k: string) => {
    const r = m?.get(k);
    return r ? canonical.slice(r[0], r[1]) : 'null';
  };
  const actorAt = top.get('actor');
  const actor = actorAt ? locate(canonical, actorAt[0], ACTOR) : undefined;
  const targetAt = top.get('target');
  const target = targetAt && canonical.charCodeAt(targetAt[0]) === LB ? locate(canonical, targetAt[0], TARGET) : undefined;
  return {
    raw: {
      id: raw(top, 'id'), time: raw(top, 'time'), type: raw(top, 'type'), outcome: raw(top, 'outcome'), decision: raw(top, 'decision'),
      actor_principal_id: raw(actor, 'principal_id'), actor_credential_id: raw(actor, 'credential_id'),
      target_type: raw(target, 'type'), target_id: raw(target, 'id'),
    },
    chainRaw: actor?.get('delegation_chain') ? raw(actor, 'delegation_chain') : '[]',
  };
}

/** A stored column value as the JSON text the canonical event would hold for it. */
function asJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  return JSON.stringify(v);
}

/**
 * The first stored column that differs from the canonical event, or undefined when all agree. `values`
 * is the row's columns in INDEXED_COLUMNS order from `offset` (as a raw row read gives them) or by name.
 */
export function columnMismatch(fields: IndexedFields | undefined, values: readonly unknown[] | IndexedValues, offset = 0): IndexedColumn | undefined {
  const byIndex = Array.isArray(values);
  for (let i = 0; i < INDEXED_COLUMNS.length; i++) {
    const col = INDEXED_COLUMNS[i]!;
    if (!fields) return col;
    const v = byIndex ? (values as readonly unknown[])[offset + i] : (values as IndexedValues)[col];
    if (asJson(v) !== fields.raw[col]) return col;
  }
  return undefined;
}

/** The principal ids the event must have `audit_delegation` rows for: the acting principal and its delegation chain. */
export function expectedDelegation(fields: IndexedFields | undefined): string[] {
  if (!fields) return [];
  const set = new Set<string>();
  if (fields.chainRaw !== '[]') {
    try {
      for (const p of JSON.parse(fields.chainRaw) as unknown[]) if (typeof p === 'string') set.add(p);
    } catch {
      // Not an array of strings: the event's own bytes are then reported through its leaf hash.
    }
  }
  const principal = fields.raw.actor_principal_id;
  if (principal !== 'null') {
    try {
      const p = JSON.parse(principal) as unknown;
      if (typeof p === 'string') set.add(p);
    } catch {
      // As above.
    }
  }
  return [...set];
}

/** Number of delegation rows the event must have (its principal and chain, without repeats). */
export function expectedDelegationCount(fields: IndexedFields | undefined): number {
  if (!fields) return 0;
  if (fields.chainRaw === '[]') return fields.raw.actor_principal_id === 'null' ? 0 : 1;
  return expectedDelegation(fields).length;
}

/** Columns to select, in INDEXED_COLUMNS order, after seq, canonical and leaf_hash. */
export const INDEXED_COLUMNS_SQL = INDEXED_COLUMNS.join(', ');
