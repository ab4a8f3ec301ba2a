// Post-match filters: the one ordered sequence every match passes through before it is reported, applied in
// one place (the collector's `admit`, in the thread that holds the scan's result). Each step is a small
// function whose header states its rule; the first step that says `drop` ends the sequence for that match.
// The rules' own semantics (entropy, checksums, a rule's placeholder list, which rule wins an overlap) stay
// in the engine: these steps are what the user and the run decide.
//
//   inline-allow → allow-list → dedupe → baseline → fail-on
import type { Finding, Severity } from './types.js';
import { severityRank } from './types.js';

/** A match on its way to becoming a finding. The secret is held in memory only, and only until `admit`. */
export interface Candidate {
  finding: Finding;
  secret: string;
  /** The finding's line and the line before it (each at most 4 KB), for inline allow comments. */
  lineText: string;
  previousLineText: string;
}

/** `drop`: not reported. `pass`: next step. `fail`: reported, and counts toward exit 1 (last step only). */
export type Verdict = 'drop' | 'pass' | 'fail';

export interface FilterOptions {
  /** Scan config `allow`: regex sources; a secret matching any of them is not reported. */
  allow?: string[];
  /** `--baseline`: accepted fingerprints. */
  baseline?: ReadonlySet<string>;
  /** `--fail-on`: the lowest severity that fails the run (default `low`: every finding). */
  failOn?: Severity;
}

interface FilterRun {
  readonly allow: RegExp[];
  readonly baseline: ReadonlySet<string>;
  readonly failOn: Severity;
  /** Dedupe keys seen so far. */
  readonly seen: Set<string>;
  /** First finding per fingerprint dropped by the baseline (so `--write-baseline` keeps them). */
  readonly baselined: Map<string, Finding>;
}

interface FilterStep {
  name: string;
  apply(c: Candidate, run: FilterRun): Verdict;
}

/** inline-allow: `custos:allow` on the finding's line, or `custos:allow-next-line` on the line before, drops it. */
function inlineAllow(c: Candidate): Verdict {
  if (c.lineText.includes('custos:allow')) return 'drop';
  return c.previousLineText.includes('custos:allow-next-line') ? 'drop' : 'pass';
}

/** allow-list: a secret matching any `allow` regex of the scan config is dropped (tested on the secret itself). */
function allowList(c: Candidate, run: FilterRun): Verdict {
  return run.allow.some((a) => a.test(c.secret)) ? 'drop' : 'pass';
}

/**
 * dedupe: one finding per fingerprint per place (file, line, cell, commit, layer, archive chain). The same
 * secret elsewhere is another location of the same fingerprint and is kept.
 */
function dedupe(c: Candidate, run: FilterRun): Verdict {
  const f = c.finding;
  const l = f.location;
  const key = `${f.fingerprint}\0${l.path}\0${l.line}\0${l.within ?? ''}\0${l.commit ?? ''}\0${l.layer ?? ''}\0${(l.archive ?? []).join('/')}`;
  if (run.seen.has(key)) return 'drop';
  run.seen.add(key);
  return 'pass';
}

/** baseline: a fingerprint listed in `--baseline` is accepted, so dropped; it is remembered for `--write-baseline`. */
function baseline(c: Candidate, run: FilterRun): Verdict {
  if (!run.baseline.has(c.finding.fingerprint)) return 'pass';
  if (!run.baselined.has(c.finding.fingerprint)) run.baselined.set(c.finding.fingerprint, c.finding);
  return 'drop';
}

/** fail-on: never drops; a finding at or above `--fail-on` fails the run (exit 1), one below is only reported. */
function failOn(c: Candidate, run: FilterRun): Verdict {
  return severityRank(c.finding.severity) >= severityRank(run.failOn) ? 'fail' : 'pass';
}

export const FILTERS: readonly FilterStep[] = [
  { name: 'inline-allow', apply: inlineAllow },
  { name: 'allow-list', apply: allowList },
  { name: 'dedupe', apply: dedupe },
  { name: 'baseline', apply: baseline },
  { name: 'fail-on', apply: failOn },
];

export function createFilters(opts: FilterOptions = {}) {
  const run: FilterRun = {
    allow: (opts.allow ?? []).map((s) => new RegExp(s)),
    baseline: opts.baseline ?? new Set(),
    failOn: opts.failOn ?? 'low',
    seen: new Set(),
    baselined: new Map(),
  };
  /** Runs the sequence on one candidate: `drop`, or the verdict of the last step that ran (`pass`/`fail`). */
  function admit(c: Candidate): Verdict {
    let v: Verdict = 'pass';
    for (const step of FILTERS) {
      v = step.apply(c, run);
      if (v === 'drop') return 'drop';
    }
    return v;
  }
  return { admit, baselined: (): Finding[] => [...run.baselined.values()] };
}
export type Filters = ReturnType<typeof createFilters>;
