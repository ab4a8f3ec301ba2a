// Jupyter notebooks: the text of cell sources and text outputs, each character mapped back to its offset
// in the .ipynb file, so a finding points at the file's own line and column (SARIF regions, annotations)
// and carries the cell and output as properties. JSON.parse keeps no positions, hence this small parser:
// strings record where each decoded character came from; anything malformed returns null (the file is
// then scanned as plain text).

export interface NotebookPiece {
  text: string;
  /** `offsets[i]`: offset in the file of `text[i]`; one extra entry for the end. */
  offsets: Int32Array;
  /** 1-based, as in `within: cell N output M`. */
  cell: number;
  output?: number;
}

/** `start`/`end`: the node's span in the file. */
type JsonNode = { start: number; end: number } & (
  | { kind: 'object'; entries: Map<string, JsonNode> }
  | { kind: 'array'; items: JsonNode[] }
  | { kind: 'string' }
  | { kind: 'other' });
type StringNode = Extract<JsonNode, { kind: 'string' }>;

class Malformed extends Error {}

const MAX_DEPTH = 64;

function parseJson(src: string): JsonNode {
  let p = 0;
  const ws = () => { while (p < src.length && (src[p] === ' ' || src[p] === '\n' || src[p] === '\r' || src[p] === '\t')) p++; };
  const expect = (ch: string) => { if (src[p] !== ch) throw new Malformed(); p++; };

  /** Skips a string, checking its escapes; decoded only when its text is wanted (`decode`). */
  function string(): StringNode {
    const start = p;
    expect('"');
    for (;;) {
      if (p >= src.length) throw new Malformed();
      const ch = src.charCodeAt(p);
      if (ch === 0x22) { p++; break; }
      if (ch !== 0x5c) { p++; continue; }
      const e = src[p + 1];
      if (e === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(src.slice(p + 2, p + 6))) throw new Malformed();
        p += 6;
      } else if (e !== undefined && '"\\/bfnrt'.includes(e)) p += 2;
      else throw new Malformed();
    }
    return { kind: 'string', start, end: p };
  }

  function node(depth: number): JsonNode {
    if (depth > MAX_DEPTH) throw new Malformed();
    ws();
    const start = p;
    const ch = src[p];
    if (ch === '"') return string();
    if (ch === '{') {
      p++;
      const entries = new Map<string, JsonNode>();
      ws();
      if (src[p] === '}') { p++; return { kind: 'object', start, end: p, entries }; }
      for (;;) {
        ws();
        const key = decode(src, string()).value;
        ws();
        expect(':');
        entries.set(key, node(depth + 1));
        ws();
        if (src[p] === ',') { p++; continue; }
        expect('}');
        return { kind: 'object', start, end: p, entries };
      }
    }
    if (ch === '[') {
      p++;
      const items: JsonNode[] = [];
      ws();
      if (src[p] === ']') { p++; return { kind: 'array', start, end: p, items }; }
      for (;;) {
        items.push(node(depth + 1));
        ws();
        if (src[p] === ',') { p++; continue; }
        expect(']');
        return { kind: 'array', start, end: p, items };
      }
    }
    const m = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(src.slice(p, p + 64));
    if (!m) throw new Malformed();
    p += m[0].length;
    return { kind: 'other', start, end: p };
  }

  const root = node(0);
  ws();
  if (p !== src.length) throw new Malformed();
  return root;
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** A (well-formed, already checked) string's text, and the file offset each character came from. */
function decode(src: string, n: StringNode): { value: string; offsets: number[] } {
  let value = '';
  const offsets: number[] = [];
  for (let p = n.start + 1; p < n.end - 1;) {
    if (src.charCodeAt(p) !== 0x5c) {
      value += src[p];
      offsets.push(p++);
      continue;
    }
    offsets.push(p);
    const e = src[p + 1]!;
    if (e === 'u') {
      value += String.fromCharCode(parseInt(src.slice(p + 2, p + 6), 16));
      p += 6;
    } else {
      value += ESCAPES[e]!;
      p += 2;
    }
  }
  return { value, offsets };
}

/** Strings of a string-or-array-of-strings value (nbformat's multiline strings). */
function strings(n: JsonNode | undefined): StringNode[] {
  if (!n) return [];
  if (n.kind === 'string') return [n];
  if (n.kind === 'array') return n.items.filter((i): i is StringNode => i.kind === 'string');
  return [];
}

/** Joins parts into one text; a separator, or a non-string part, maps to where its neighbour starts. */
/** A run of text with the file offset of each character. */
interface Part { value: string; offsets: number[] }

/** Joins parts into one text; a separator maps to where the text before it ends. */
function piece(parts: Part[], sep: string, cell: number, output?: number): NotebookPiece | null {
  let text = '';
  const offsets: number[] = [];
  for (const part of parts) {
    if (part.value === '') continue;
    if (text !== '') {
      const at = offsets[offsets.length - 1] ?? 0;
      for (let i = 0; i < sep.length; i++) offsets.push(at);
      text += sep;
    }
    text += part.value;
    for (const o of part.offsets) offsets.push(o);
  }
  if (text === '') return null;
  offsets.push(offsets[offsets.length - 1] ?? 0);
  return { text, offsets: Int32Array.from(offsets), cell, ...(output !== undefined ? { output } : {}) };
}

/** Cell sources and text outputs (stream text, text/plain, JSON data, errors); images are skipped. Null: not a notebook. */
export function notebookPieces(src: string): NotebookPiece[] | null {
  let root: JsonNode;
  try {
    root = parseJson(src);
  } catch (err) {
    if (err instanceof Malformed || err instanceof RangeError) return null;
    throw err;
  }
  const cells = root.kind === 'object' ? root.entries.get('cells') : undefined;
  if (cells?.kind !== 'array') return null;
  const out: NotebookPiece[] = [];
  cells.items.forEach((cell, i) => {
    if (cell.kind !== 'object') return;
    const texts = (n: JsonNode | undefined): Part[] => strings(n).map((x) => decode(src, x));
    const source = piece(texts(cell.entries.get('source')), '', i + 1);
    if (source) out.push(source);
    const outputs = cell.entries.get('outputs');
    if (outputs?.kind !== 'array') return;
    outputs.items.forEach((o, j) => {
      if (o.kind !== 'object') return;
      const data = o.entries.get('data');
      const d = data?.kind === 'object' ? data.entries : new Map<string, JsonNode>();
      const json = d.get('application/json');
      // Each field's strings are one part (joined without separator); the fields are joined by newlines.
      const field = (n: JsonNode | undefined): Part => {
        const ps = texts(n);
        return { value: ps.map((x) => x.value).join(''), offsets: ps.flatMap((x) => x.offsets) };
      };
      const parts = [field(o.entries.get('text')), field(d.get('text/plain'))];
      // JSON output is scanned as its serialisation; all of it maps to where the value starts.
      if (json) {
        const value = JSON.stringify(JSON.parse(src.slice(json.start, json.end)));
        parts.push({ value, offsets: new Array<number>(value.length).fill(json.start) });
      }
      parts.push(field(o.entries.get('evalue')), field(o.entries.get('traceback')));
      const joined = piece(parts, '\n', i + 1, j + 1);
      if (joined) out.push(joined);
    });
  });
  return out;
}
