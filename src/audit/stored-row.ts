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

/** End (exclusive) of the JSON string starting at s[i] === '"': the next quote not escaped (native search). */
function stringEnd(s: string, i: number): number {
  if (i < 0) return -1;
  let j = i + 1;
  for (;;) {
    const q = s.indexOf('"', j);
    if (q < 0) return -1;
    let k = q - 1;
    while (k > i && s.charCodeAt(k) === BS) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    j = q + 1;
  }
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
  /** The canonical text the positions refer to. */
  text: string;
  /** For column i of INDEXED_COLUMNS: its source field's raw JSON at text[at[2i], at[2i+1]); (-1, -1) for null (no target). */
  at: number[];
  /** Raw JSON of actor.delegation_chain at text[chain[0], chain[1]); (-1, -1) when absent. */
  chain: [number, number];
};

const COL = Object.fromEntries(INDEXED_COLUMNS.map((c, i) => [c, i])) as Record<IndexedColumn, number>;

/** Raw JSON text of a column's source field ('null' where the event holds null or has no target). */
export function rawField(f: IndexedFields, col: IndexedColumn): string {
  const i = COL[col];
  return f.at[2 * i]! < 0 ? 'null' : f.text.slice(f.at[2 * i], f.at[2 * i + 1]);
}

/** Raw JSON of the delegation chain ('[]' when absent). */
export function rawChain(f: IndexedFields): string {
  return f.chain[0] < 0 ? '[]' : f.text.slice(f.chain[0], f.chain[1]);
}

/** End of the JSON string or null at s[i] (the only scalars these fields hold), or -1. */
function stringOrNullEnd(s: string, i: number): number {
  if (s.charCodeAt(i) === Q) return stringEnd(s, i);
  return s.startsWith('null', i) ? i + 4 : -1;
}

/** s has `text` at i: the position after it, or -1. */
function expect(s: string, i: number, text: string): number {
  return i >= 0 && s.startsWith(text, i) ? i + text.length : -1;
}

/**
 * The writer's own event layout (every member, in canonical order), read front to back: each member is
 * expected at the exact position where the previous one ends, string ends are found with a native
 * search, and only `details` (arbitrary JSON) is skipped value by value. Any other layout returns
 * undefined and the general scan decides.
 */
function writerLayout(s: string): IndexedFields | undefined {
  // Front: {"action":S,"actor":{"auth_method":S,"credential_id":X,"delegation_chain":[S…],"principal_id":X,"principal_name":X,"role":X},"decision":X,"details":
  let p = expect(s, 0, '{"action":');
  if (p < 0 || s.charCodeAt(p) !== Q) return undefined;
  p = expect(s, stringEnd(s, p), ',"actor":{"auth_method":');
  if (p < 0 || s.charCodeAt(p) !== Q) return undefined;
  const credAt = expect(s, stringEnd(s, p), ',"credential_id":');
  if (credAt < 0) return undefined;
  const credEnd = stringOrNullEnd(s, credAt);
  const chainAt = expect(s, credEnd, ',"delegation_chain":');
  if (chainAt < 0 || s.charCodeAt(chainAt) !== LS) return undefined;
  let c = chainAt + 1;
  if (s.charCodeAt(c) !== RS) {
    for (;;) {
      if (s.charCodeAt(c) !== Q) return undefined;
      c = stringEnd(s, c);
      if (c < 0) return undefined;
      const d = s.charCodeAt(c);
      if (d === RS) break;
      if (d !== COMMA) return undefined;
      c++;
    }
  }
  const chainEnd = c + 1;
  const principalAt = expect(s, chainEnd, ',"principal_id":');
  if (principalAt < 0) return undefined;
  const principalEnd = stringOrNullEnd(s, principalAt);
  p = expect(s, principalEnd, ',"principal_name":');
  if (p < 0) return undefined;
  p = expect(s, stringOrNullEnd(s, p), ',"role":');
  if (p < 0) return undefined;
  const decisionAt = expect(s, stringOrNullEnd(s, p), '},"decision":');
  if (decisionAt < 0) return undefined;
  const decisionEnd = stringOrNullEnd(s, decisionAt);
  const detailsAt = expect(s, decisionEnd, ',"details":');
  if (detailsAt < 0 || s.charCodeAt(detailsAt) !== LB) return undefined;

  // Then forward again (lastIndexOf searches are slow): …},"id":S,"outcome":S,"policy_version":X,
  // "provenance":{"request_id":X,"source_ip":X,"trace_id":X,"user_agent":X},"purpose":X,"reasons":[S…],
  // "seq":N,"target":(null|{"id":X,"name":X,"type":S}),"time":S,"type":S,"v":1}
  const idAt = expect(s, valueEnd(s, detailsAt), ',"id":');
  if (idAt < 0 || s.charCodeAt(idAt) !== Q) return undefined;
  const idEnd = stringEnd(s, idAt);
  const outcomeAt = expect(s, idEnd, ',"outcome":');
  if (outcomeAt < 0 || s.charCodeAt(outcomeAt) !== Q) return undefined;
  const outcomeEnd = stringEnd(s, outcomeAt);
  p = expect(s, outcomeEnd, ',"policy_version":');
  if (p < 0) return undefined;
  p = expect(s, stringOrNullEnd(s, p), ',"provenance":{"request_id":');
  if (p < 0) return undefined;
  p = expect(s, stringOrNullEnd(s, p), ',"source_ip":');
  if (p < 0) return undefined;
  p = expect(s, stringOrNullEnd(s, p), ',"trace_id":');
  if (p < 0) return undefined;
  p = expect(s, stringOrNullEnd(s, p), ',"user_agent":');
  if (p < 0) return undefined;
  p = expect(s, stringOrNullEnd(s, p), '},"purpose":');
  if (p < 0) return undefined;
  p = expect(s, stringOrNullEnd(s, p), ',"reasons":[');
  if (p < 0) return undefined;
  if (s.charCodeAt(p) !== RS) {
    for (;;) {
      if (s.charCodeAt(p) !== Q) return undefined;
      p = stringEnd(s, p);
      if (p < 0) return undefined;
      const d = s.charCodeAt(p);
      if (d === RS) break;
      if (d !== COMMA) return undefined;
      p++;
    }
  }
  p = expect(s, p + 1, ',"seq":');
  if (p < 0) return undefined;
  while (p < s.length && s.charCodeAt(p) >= 0x30 && s.charCodeAt(p) <= 0x39) p++;
  const targetAt = expect(s, p, ',"target":');
  if (targetAt < 0) return undefined;
  let targetId = -1;
  let targetIdEnd = -1;
  let targetType = -1;
  let targetTypeEnd = -1;
  let timeKey: number;
  if (s.startsWith('null', targetAt)) timeKey = targetAt + 4;
  else {
    targetId = expect(s, targetAt, '{"id":');
    if (targetId < 0) return undefined;
    targetIdEnd = stringOrNullEnd(s, targetId);
    const nameAt = expect(s, targetIdEnd, ',"name":');
    if (nameAt < 0) return undefined;
    targetType = expect(s, stringOrNullEnd(s, nameAt), ',"type":');
    if (targetType < 0 || s.charCodeAt(targetType) !== Q) return undefined;
    targetTypeEnd = stringEnd(s, targetType);
    if (targetTypeEnd < 0 || s.charCodeAt(targetTypeEnd) !== RB) return undefined;
    timeKey = targetTypeEnd + 1;
  }
  const timeAt = expect(s, timeKey, ',"time":');
  if (timeAt < 0 || s.charCodeAt(timeAt) !== Q) return undefined;
  const typeKey = stringEnd(s, timeAt);
  const typeAt = expect(s, typeKey, ',"type":');
  if (typeAt < 0 || s.charCodeAt(typeAt) !== Q) return undefined;
  const end = stringEnd(s, typeAt);
  if (end !== s.length - 7 || !s.endsWith(',"v":1}')) return undefined;

  // In INDEXED_COLUMNS order; a plain array literal (a typed array or a helper closure costs more than the scan).
  const at = [idAt, idEnd, timeAt, typeKey, typeAt, end, outcomeAt, outcomeEnd, decisionAt, decisionEnd,
    principalAt, principalEnd, credAt, credEnd, targetType, targetTypeEnd, targetId, targetIdEnd];
  return { text: s, at, chain: [chainAt, chainEnd] };
}

/** The fields the stored columns must equal, as raw JSON text; undefined when the canonical text is not an event object. */
export function indexedFields(canonical: string): IndexedFields | undefined {
  return writerLayout(canonical) ?? generalFields(canonical);
}

/** Any canonical object: members located by a full scan of the top level (and of actor and target). */
export function generalFields(canonical: string): IndexedFields | undefined {
  const top = locate(canonical, 0, TOP);
  if (!top) return undefined;
  const actorAt = top.get('actor');
  const actor = actorAt ? locate(canonical, actorAt[0], ACTOR) : undefined;
  const targetAt = top.get('target');
  const target = targetAt && canonical.charCodeAt(targetAt[0]) === LB ? locate(canonical, targetAt[0], TARGET) : undefined;
  const at: number[] = new Array<number>(2 * INDEXED_COLUMNS.length).fill(-1);
  const put = (col: IndexedColumn, m: Map<string, [number, number]> | undefined, k: string) => {
    const r = m?.get(k);
    if (r) {
      at[2 * COL[col]] = r[0];
      at[2 * COL[col] + 1] = r[1];
    }
  };
  for (const k of ['id', 'time', 'type', 'outcome', 'decision'] as const) put(k, top, k);
  put('actor_principal_id', actor, 'principal_id');
  put('actor_credential_id', actor, 'credential_id');
  put('target_type', target, 'type');
  put('target_id', target, 'id');
  return { text: canonical, at, chain: actor?.get('delegation_chain') ?? [-1, -1] };
}

/** Whether text[a, b) is the JSON form of the stored value v (null, or a string as JSON.stringify writes it). */
function matches(text: string, escapes: boolean, a: number, b: number, v: unknown): boolean {
  if (v === null || v === undefined) return a < 0 || (b - a === 4 && text.startsWith('null', a));
  if (a < 0) return false;
  if (typeof v !== 'string') return JSON.stringify(v) === text.slice(a, b);
  // Without escapes the JSON form is the value in quotes: compare in place, nothing allocated.
  if (b - a === v.length + 2 && text.charCodeAt(a) === Q && text.startsWith(v, a + 1)) {
    // Equal unless the JSON text holds an escape (then v itself differs or needs the slow comparison).
    if (!escapes) return true;
    let escaped = false;
    for (let i = a + 1; i < b - 1; i++) {
      if (text.charCodeAt(i) === BS) {
        escaped = true;
        break;
      }
    }
    if (!escaped) return true;
  }
  return JSON.stringify(v) === text.slice(a, b);
}

/**
 * The first stored column that differs from the canonical event, or undefined when all agree. `values`
 * is the row's columns in INDEXED_COLUMNS order from `offset` (as a raw row read gives them) or by name.
 */
export function columnMismatch(fields: IndexedFields | undefined, values: readonly unknown[] | IndexedValues, offset = 0): IndexedColumn | undefined {
  if (!fields) return INDEXED_COLUMNS[0];
  const byIndex = Array.isArray(values);
  const { text, at } = fields;
  // One native search per event: without any backslash no value needs unescaping.
  const escapes = text.indexOf('\\') >= 0;
  for (let i = 0; i < INDEXED_COLUMNS.length; i++) {
    const v = byIndex ? (values as readonly unknown[])[offset + i] : (values as IndexedValues)[INDEXED_COLUMNS[i]!];
    if (!matches(text, escapes, at[2 * i]!, at[2 * i + 1]!, v)) return INDEXED_COLUMNS[i];
  }
  return undefined;
}

/** The principal ids the event must have `audit_delegation` rows for: the acting principal and its delegation chain. */
export function expectedDelegation(fields: IndexedFields | undefined): string[] {
  if (!fields) return [];
  const set = new Set<string>();
  const chain = rawChain(fields);
  if (chain !== '[]') {
    try {
      for (const p of JSON.parse(chain) as unknown[]) if (typeof p === 'string') set.add(p);
    } catch {
      // Not an array of strings: the event's own bytes are then reported through its leaf hash.
    }
  }
  const principal = rawField(fields, 'actor_principal_id');
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
  const c = fields.chain;
  if (c[0] < 0 || c[1] - c[0] === 2) {
    const p = 2 * COL.actor_principal_id;
    return fields.at[p]! < 0 || (fields.at[p + 1]! - fields.at[p]! === 4 && fields.text.startsWith('null', fields.at[p]!)) ? 0 : 1;
  }
  return expectedDelegation(fields).length;
}

/** Columns to select, in INDEXED_COLUMNS order, after seq, canonical and leaf_hash. */
export const INDEXED_COLUMNS_SQL = INDEXED_COLUMNS.join(', ');
