// Multi-keyword prefilter: an Aho-Corasick automaton compiled to a dense DFA, one pass over the
// text. Characters are first mapped to classes (one per distinct keyword character, ASCII case
// folded; everything else is class 0), which keeps the table small enough to stay in cache.
// V8's regex alternation of the same ~80 literals ran at ~160 MB/s on the benchmark corpus.

export interface KeywordMatcher {
  /** Calls `onHit(keywordIndex, end)` (end = index after the match) per occurrence; returning true stops the scan. */
  scan(text: string, onHit: (keyword: number, end: number) => boolean | void): void;
  /**
   * Every occurrence as `[keyword, end, keyword, end, …]`, in order of `end`. No callback per hit:
   * the loop stays tight when common words (token, secret) hit every few lines. The returned view
   * is reused by the next call. Bytes are read as Latin-1 characters: pass them only when they are
   * ASCII, where offsets are the same as in the decoded string.
   */
  hits(text: string | Uint8Array): Int32Array;
  keywords: readonly string[];
}

export function compileKeywords(keywords: readonly string[]): KeywordMatcher {
  const lower = keywords.map((k) => k.toLowerCase());
  // Character classes over the whole UTF-16 code unit range.
  const classOf = new Uint8Array(65536);
  const lowerClass = new Map<number, number>();
  let nc = 1;
  for (const k of lower) {
    for (let i = 0; i < k.length; i++) {
      const c = k.charCodeAt(i);
      if (c >= 128) throw new Error(`keyword must be ASCII: ${k}`);
      if (lowerClass.has(c)) continue;
      if (nc === 255) throw new Error('too many distinct keyword characters');
      lowerClass.set(c, nc);
      classOf[c] = nc;
      if (c >= 97 && c <= 122) classOf[c - 32] = nc; // upper case moves like lower case
      nc++;
    }
  }
  const next: number[][] = [new Array<number>(nc).fill(-1)];
  const out: number[][] = [[]];
  lower.forEach((k, ki) => {
    let s = 0;
    for (let i = 0; i < k.length; i++) {
      const c = lowerClass.get(k.charCodeAt(i))!;
      let n = next[s]![c]!;
      if (n === -1) {
        n = next.length;
        next.push(new Array<number>(nc).fill(-1));
        out.push([]);
        next[s]![c] = n;
      }
      s = n;
    }
    out[s]!.push(ki);
  });
  // Breadth-first failure links folded into a full transition table.
  const fail = new Array<number>(next.length).fill(0);
  const queue: number[] = [];
  for (let c = 0; c < nc; c++) {
    const n = next[0]![c]!;
    if (n === -1) next[0]![c] = 0;
    else queue.push(n);
  }
  for (let qi = 0; qi < queue.length; qi++) {
    const s = queue[qi]!;
    out[s] = [...out[s]!, ...out[fail[s]!]!];
    for (let c = 0; c < nc; c++) {
      const n = next[s]![c]!;
      if (n === -1) next[s]![c] = next[fail[s]!]![c]!;
      else {
        fail[n] = next[fail[s]!]![c]!;
        queue.push(n);
      }
    }
  }
  // Entries are row offsets; an accepting target is stored as -(offset) - 1.
  const table = new Int32Array(next.length * nc);
  next.forEach((row, s) => row.forEach((n, c) => { table[s * nc + c] = out[n]!.length > 0 ? -(n * nc) - 1 : n * nc; }));

  function scan(text: string, onHit: (keyword: number, end: number) => boolean | void): void {
    let st = 0;
    const len = text.length;
    for (let i = 0; i < len; i++) {
      st = table[st + classOf[text.charCodeAt(i)]!]!;
      if (st < 0) {
        st = -st - 1;
        for (const k of out[st / nc]!) if (onHit(k, i + 1) === true) return;
      }
    }
  }
  // Outputs flattened for the hit loop: keywords of accepting row r at outKw[outStart[r] .. outStart[r + 1]).
  const rows = next.length;
  const outStart = new Int32Array(rows + 1);
  for (let r = 0; r < rows; r++) outStart[r + 1] = outStart[r]! + out[r]!.length;
  const outKw = new Int32Array(outStart[rows]!);
  for (let r = 0; r < rows; r++) outKw.set(out[r]!, outStart[r]!);
  let buf = new Int32Array(1024);

  /** Appends the keywords of accepting row offset `st`, ending at `end`, from position `n` of the hit list. */
  function record(st: number, end: number, n: number): number {
    const r = st / nc;
    for (let j = outStart[r]!, e = outStart[r + 1]!; j < e; j++) {
      if (n + 2 > buf.length) {
        const bigger = new Int32Array(buf.length * 2);
        bigger.set(buf);
        buf = bigger;
      }
      buf[n++] = outKw[j]!;
      buf[n++] = end;
    }
    return n;
  }

  function hitsOfText(text: string): Int32Array {
    let st = 0;
    let n = 0;
    const len = text.length;
    for (let i = 0; i < len; i++) {
      st = table[st + classOf[text.charCodeAt(i)]!]!;
      if (st < 0) {
        st = -st - 1;
        n = record(st, i + 1, n);
      }
    }
    return buf.subarray(0, n);
  }

  // Same loop over bytes: a typed-array read is cheaper than charCodeAt (~20% on the bench corpus).
  function hitsOfBytes(bytes: Uint8Array): Int32Array {
    let st = 0;
    let n = 0;
    const len = bytes.length;
    for (let i = 0; i < len; i++) {
      st = table[st + classOf[bytes[i]!]!]!;
      if (st < 0) {
        st = -st - 1;
        n = record(st, i + 1, n);
      }
    }
    return buf.subarray(0, n);
  }

  function hits(text: string | Uint8Array): Int32Array {
    return typeof text === 'string' ? hitsOfText(text) : hitsOfBytes(text);
  }
  return { scan, hits, keywords: lower };
}
