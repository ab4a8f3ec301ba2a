// The rule engine: one keyword pass picks the rules worth running, then each picked rule's
// bounded regex runs over the text. Pure: text in, matches out.
import type { Rule, Severity } from './types.js';
import { shannonEntropy } from './rules/checksum.js';
import { compileKeywords } from './keyword-automaton.js';

export interface RawMatch {
  rule: Rule;
  secret: string;
  /** Offset of the secret in the scanned text. */
  index: number;
  line: number;
  column: number;
  /** The match's line and the line before it (each at most 4 KB), for the inline-allow filter. */
  lineText: string;
  previousLineText: string;
}

export interface RuleTuning {
  /** Rule ids to turn off. */
  disable?: string[];
  /** Severity per rule id. */
  severity?: Record<string, Severity>;
}

interface Compiled {
  rule: Rule;
  re: RegExp;
}

interface Selected {
  c: Compiled;
  /** Anchored rules: keyword start offsets, ascending. */
  starts?: number[];
}

export function createEngine(deps: { rules: Rule[]; tuning?: RuleTuning }) {
  const disabled = new Set(deps.tuning?.disable ?? []);
  const compiled: Compiled[] = deps.rules
    .filter((r) => !disabled.has(r.id))
    .map((r) => {
      const sev = deps.tuning?.severity?.[r.id];
      const rule = sev ? { ...r, severity: sev } : r;
      return { rule, re: new RegExp(r.pattern, (r.anchored ? 'y' : 'g') + (r.flags ?? '')) };
    });

  // keyword → indexes of rules that need it; one automaton pass finds them all.
  const byKeyword = new Map<string, number[]>();
  compiled.forEach((c, i) => {
    for (const k of c.rule.keywords) {
      const key = k.toLowerCase();
      const list = byKeyword.get(key) ?? [];
      list.push(i);
      byKeyword.set(key, list);
    }
  });
  const keywords = [...byKeyword.keys()];
  const keywordRules = keywords.map((k) => byKeyword.get(k)!);
  const matcher = compileKeywords(keywords);

  const keywordLen = keywords.map((k) => k.length);
  /** Anchored rules that each keyword feeds. */
  const anchoredOf = keywordRules.map((rs) => rs.filter((i) => compiled[i]!.rule.anchored === true));
  const anchoredRules = compiled.map((c, i) => (c.rule.anchored === true ? i : -1)).filter((i) => i >= 0);

  /**
   * Which rules have a keyword in the text, and where anchored rules' keywords start (one pass).
   * An anchored rule keeps only sites that pass its `site` check, and is dropped when none does.
   */
  function selectRules(text: string, path: string, ascii: Uint8Array | undefined): Selected[] {
    const hit = new Uint8Array(compiled.length);
    const seen = new Uint8Array(keywords.length);
    const starts: Array<number[] | undefined> = [];
    // Anchored rules whose path filter lets this file through; the others collect no sites.
    let live: Uint8Array | undefined;
    for (const i of anchoredRules) {
      const pp = compiled[i]!.rule.pathPattern;
      if (!pp || pp.test(path)) (live ??= new Uint8Array(compiled.length))[i] = 1;
    }
    if (live === undefined) {
      // No anchored rule runs here: stop at the first hit of every rule.
      let remaining = compiled.length - anchoredRules.length;
      matcher.scan(text, (k) => {
        if (seen[k] === 1) return false;
        seen[k] = 1;
        for (const i of keywordRules[k]!) {
          if (hit[i] === 0 && compiled[i]!.rule.anchored !== true) {
            hit[i] = 1;
            remaining--;
          }
        }
        return remaining === 0;
      });
    } else {
      const hs = matcher.hits(ascii ?? text);
      for (let h = 0; h < hs.length; h += 2) {
        const k = hs[h]!;
        const end = hs[h + 1]!;
        const as = anchoredOf[k]!;
        for (let j = 0; j < as.length; j++) {
          const i = as[j]!;
          if (live[i] === 0) continue;
          const site = compiled[i]!.rule.site;
          if (site !== undefined && !site(text, end)) continue;
          hit[i] = 1;
          (starts[i] ??= []).push(end - keywordLen[k]!);
        }
        if (seen[k] === 1) continue;
        seen[k] = 1;
        for (const i of keywordRules[k]!) if (compiled[i]!.rule.anchored !== true) hit[i] = 1;
      }
    }
    const out: Selected[] = [];
    compiled.forEach((c, i) => {
      if (!hit[i]) return;
      // Starts arrive in ascending order of keyword end; nearly sorted is fine for the sticky loop.
      out.push(c.rule.anchored ? { c, starts: starts[i] ?? [] } : { c });
    });
    return out;
  }

  /** Global regex over the whole text, or the sticky regex tried at each keyword start; calls `each` per match. */
  function matches(sel: Selected, text: string, each: (m: RegExpExecArray) => void): void {
    const re = sel.c.re;
    const starts = sel.starts;
    if (starts === undefined) {
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(text)) !== null) {
        if (m[0].length === 0) re.lastIndex++;
        else each(m);
      }
      return;
    }
    let from = 0;
    for (let j = 0; j < starts.length; j++) {
      const p = starts[j]!;
      if (p < from) continue;
      // test() allocates nothing; most keyword sites are not assignments of a literal.
      re.lastIndex = p;
      if (!re.test(text)) continue;
      re.lastIndex = p;
      const m = re.exec(text);
      if (m && m[0].length > 0) {
        from = m.index + m[0].length;
        each(m);
      }
    }
  }

  /**
   * Matches in `text`. `ascii`, when given, is the same text as bytes, all below 0x80 (so offsets
   * agree): the keyword pass then reads the bytes.
   */
  function scanText(text: string, path = '', ascii?: Uint8Array): RawMatch[] {
    if (ascii !== undefined && ascii.length !== text.length) throw new Error('ascii bytes must be the text itself');
    const rules = selectRules(text, path, ascii);
    if (rules.length === 0) return [];
    const out: RawMatch[] = [];
    // Spans taken by earlier (more specific) rules, sorted by start, for a binary-search overlap test.
    let taken: Array<[number, number]> = [];
    let lines: number[] | undefined;
    for (const sel of rules) {
      const rule = sel.c.rule;
      const mine: Array<[number, number]> = [];
      if (rule.pathPattern && !rule.pathPattern.test(path)) continue;
      matches(sel, text, (m) => {
        const g = m.groups;
        const secret = g?.secret ?? g?.secret2 ?? m[0];
        const rel = m[0].indexOf(secret);
        const index = m.index + (rel < 0 ? 0 : rel);
        if (!acceptSecret(rule, secret, m)) return;
        const end = index + secret.length;
        if (overlaps(taken, index, end)) return;
        // Line starts only for texts with a finding: most texts have none.
        lines ??= lineStarts(text);
        const { line, column } = position(lines, index);
        mine.push([index, end]);
        out.push({ rule, secret, index, line, column, lineText: lineText(text, lines, line), previousLineText: lineText(text, lines, line - 1) });
      });
      if (mine.length > 0) taken = [...taken, ...mine].sort((a, b) => a[0] - b[0]);
    }
    return out.sort((a, b) => a.index - b.index);
  }

  return { scanText, rules: compiled.map((c) => c.rule) };
}
export type Engine = ReturnType<typeof createEngine>;

function acceptSecret(rule: Rule, secret: string, m: RegExpExecArray): boolean {
  if (rule.minEntropy !== undefined && shannonEntropy(secret) < rule.minEntropy) return false;
  // validate before the allow-lists: the generic rules' looksRandom rejects most candidates cheaply.
  if (rule.validate && !rule.validate(secret, m)) return false;
  if (rule.allow?.some((a) => a.test(secret))) return false;
  return true;
}

/** Whether [start, end) overlaps any span of a start-sorted list of non-overlapping spans. */
function overlaps(spans: Array<[number, number]>, start: number, end: number): boolean {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid]![0] < end) lo = mid + 1;
    else hi = mid;
  }
  // spans[lo-1] is the last span starting before `end`; spans before it end no later than it starts... check a few.
  for (let i = lo - 1; i >= 0 && i >= lo - 4; i--) if (spans[i]![1] > start) return true;
  return false;
}

export function lineStarts(text: string): number[] {
  const starts = [0];
  let i = -1;
  while ((i = text.indexOf('\n', i + 1)) !== -1) starts.push(i + 1);
  return starts;
}

/** 1-based line and column of an offset. */
export function position(starts: number[], index: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= index) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: index - starts[lo]! + 1 };
}

/** Line `line` (1-based) of the text, at most 4 KB of it; '' when there is no such line. */
function lineText(text: string, starts: number[], line: number): string {
  const s = line >= 1 ? starts[line - 1] : undefined;
  if (s === undefined) return '';
  const e = starts[line] ?? text.length;
  return text.slice(s, Math.min(e, s + 4096));
}
