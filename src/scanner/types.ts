// Shared shapes of the scanner: rules, findings, scan results.

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export interface RuleExamples {
  /** Strings that must produce exactly this rule's finding (whole text is scanned). */
  truePositives: string[];
  /** Strings that must not produce a finding of this rule. */
  falsePositives: string[];
}

export interface Rule {
  id: string;
  description: string;
  provider: string;
  severity: Severity;
  /** Lower-case keywords; the rule runs only when one occurs in the text (case-insensitive). */
  keywords: string[];
  /**
   * Pattern with bounded quantifiers only. Capture group `secret` (named) is the secret;
   * without it the whole match is. Compiled with the `g` flag (plus `flags`).
   */
  pattern: string;
  flags?: string;
  /** Minimum Shannon entropy (bits per char) of the secret. */
  minEntropy?: number;
  /** Extra check on the secret (checksum, structure). Returns false to drop the match. */
  validate?: (secret: string, match: RegExpExecArray) => boolean;
  /** Regexes; a secret matching any of them is dropped (placeholders, examples). */
  allow?: RegExp[];
  /** Only run on files whose path matches (content-aware rules). */
  pathPattern?: RegExp;
  /**
   * The pattern starts with one of the rule's keywords: it is tried only where the prefilter saw a
   * keyword (sticky), instead of over the whole text. For rules whose keywords are common words,
   * or whose regex is slow to sweep a whole text (a leading lookbehind defeats V8's literal search).
   */
  anchored?: boolean;
  /**
   * Anchored rules only: a cheap necessary condition checked at each keyword site (`end` = offset
   * just after the keyword). False means the pattern cannot match at this site, so the regex is not
   * entered there. Must never say false where the pattern would match (property-tested).
   */
  site?: (text: string, end: number) => boolean;
  /** Path the example texts are scanned under (needed with `pathPattern`). */
  examplePath?: string;
  /** Findings of a validated-by-checksum rule are certain; shown in output. */
  checksum?: boolean;
  examples: RuleExamples;
}

/** Where a finding was seen. Source-specific fields are optional. */
export interface Location {
  path: string;
  line: number;
  column: number;
  /** Extra position inside a file, e.g. `cell 3` of a notebook, `env` of an image config. */
  within?: string;
  /** Notebooks: the 1-based cell, and output of that cell, the secret is in (`line`/`column` are the file's). */
  cell?: number;
  output?: number;
  commit?: string;
  author?: string;
  date?: string;
  image?: string;
  layer?: string;
  /** Image only: a later layer deleted this file (whiteout). */
  deletedInLaterLayer?: boolean;
  /** Archive chain, outermost first, when the file sat inside archives. */
  archive?: string[];
}

export interface Finding {
  ruleId: string;
  description: string;
  provider: string;
  severity: Severity;
  fingerprint: string;
  /** A few leading characters, a length bucket and a keyed hash tag; never the full secret. */
  redacted: string;
  /**
   * Custos tokens only: the first 16 hex characters of the token's plain SHA-256, which `--report` sends so
   * the server can match its stored hash (safe for high-entropy tokens alone; see finding.ts).
   */
  secretHash?: string;
  location: Location;
  /** Checksum or signature structure verified offline. */
  verified: boolean;
  /** For Custos credentials: the credential id, parsed offline. */
  credential?: { kind: string; id: string };
}

export interface Skipped {
  path: string;
  reason: string;
}

export interface ScanResult {
  source: 'dir' | 'git' | 'image';
  target: string;
  findings: Finding[];
  /** How many findings are at or above `--fail-on` (the `fail-on` filter): the run fails when > 0. */
  failing: number;
  skipped: Skipped[];
  /** Set when a limit was reached; such a result is never clean. */
  incomplete: boolean;
  incompleteReasons: string[];
  stats: { files: number; bytes: number; durationMs: number };
}
