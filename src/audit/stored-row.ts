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
  at: Int32Array;
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
 * The writer's own event layout, read with native searches: the actor fields from the front (every
 * member in canonical order), the rest from the back, where the members after `details` hold only
 * strings, nulls and string arrays, so the last occurrence of a key there is the top-level one (a raw
 * `"` cannot occur inside a JSON string). Every position is chained to the next, so any other layout
 * returns undefined and the general scan decides.
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
  if (expect(s, decisionEnd, ',"details":{') < 0) return undefined;

  // Back: …},"id":S,"outcome":S,"policy_version":…,"seq":N,"target":(null|{"id":X,"name":X,"type":S}),"time":S,"type":S,"v":1}
  if (!s.endsWith(',"v":1}')) return undefined;
  const end = s.length - 7;
  const typeKey = s.lastIndexOf(',"type":"', end);
  const typeAt = typeKey + 8;
  if (typeKey < decisionEnd || stringEnd(s, typeAt) !== end) return undefined;
  const timeKey = s.lastIndexOf(',"time":"', typeKey);
  const timeAt = timeKey + 8;
  if (timeKey < decisionEnd || stringEnd(s, timeAt) !== typeKey) return undefined;
  const targetKey = s.lastIndexOf(',"target":', timeKey);
  if (targetKey < decisionEnd) return undefined;
  const targetAt = targetKey + 10;
  let targetId: [number, number] = [-1, -1];
  let targetType: [number, number] = [-1, -1];
  if (s.startsWith('null', targetAt)) {
    if (targetAt + 4 !== timeKey) return undefined;
  } else {
    const idAt = expect(s, targetAt, '{"id":');
    if (idAt < 0) return undefined;
    const idEnd = stringOrNullEnd(s, idAt);
    const nameAt = expect(s, idEnd, ',"name":');
    if (nameAt < 0) return undefined;
    const tAt = expect(s, stringOrNullEnd(s, nameAt), ',"type":');
    if (tAt < 0 || s.charCodeAt(tAt) !== Q) return undefined;
    const tEnd = stringEnd(s, tAt);
    if (tEnd < 0 || tEnd + 1 !== timeKey || s.charCodeAt(tEnd) !== RB) return undefined;
    targetId = [idAt, idEnd];
    targetType = [tAt, tEnd];
  }
  const outcomeKey = s.lastIndexOf(',"outcome":"', targetKey);
  if (outcomeKey < decisionEnd) return undefined;
  const outcomeAt = outcomeKey + 11;
  const outcomeEnd = stringEnd(s, outcomeAt);
  if (expect(s, outcomeEnd, ',"policy_version":') < 0) return undefined;
  const idKey = s.lastIndexOf('},"id":"', outcomeKey);
  const idAt = idKey + 7;
  if (idKey < decisionEnd || stringEnd(s, idAt) !== outcomeKey) return undefined;
  const at = new Int32Array(2 * INDEXED_COLUMNS.length);
  const put = (col: IndexedColumn, a: number, b: number) => {
    at[2 * COL[col]] = a;
    at[2 * COL[col] + 1] = b;
  };
  put('id', idAt, outcomeKey);
  put('time', timeAt, typeKey);
  put('type', typeAt, end);
  put('outcome', outcomeAt, outcomeEnd);
  put('decision', decisionAt, decisionEnd);
  put('actor_principal_id', principalAt, principalEnd);
  put('actor_credential_id', credAt, credEnd);
  put('target_type', targetType[0], targetType[1]);
  put('target_id', targetId[0], targetId[1]);
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
  const at = new Int32Array(2 * INDEXED_COLUMNS.length).fill(-1);
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
function matches(text: string, a: number, b: number, v: unknown): boolean {
  if (v === null || v === undefined) return a < 0 || (b - a === 4 && text.startsWith('null', a));
  if (a < 0) return false;
  if (typeof v !== 'string') return JSON.stringify(v) === text.slice(a, b);
  // Without escapes the JSON form is the value in quotes: compare in place, nothing allocated.
  if (b - a === v.length + 2 && text.charCodeAt(a) === Q && text.startsWith(v, a + 1)) {
    const bs = text.indexOf('\\', a);
    if (bs < 0 || bs >= b) return true;
  }
  return JSON.stringify(v) === text.slice(a, b);
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
    if (!matches(fields.text, fields.at[2 * i]!, fields.at[2 * i + 1]!, v)) return col;
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
