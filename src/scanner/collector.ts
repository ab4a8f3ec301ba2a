// Gathers what a scan saw: findings (each match through the post-match filters, `filters.ts`), skipped
// items, limits reached, byte counts. Every source funnels file contents through `scanContent`, and every
// match through `addMatch`.
import { isAscii } from 'node:buffer';
import { lineStarts, position, type Engine, type RawMatch } from './engine.js';
import type { Finding, Location, ScanResult, Skipped } from './types.js';
import { isBinary, segmentsFor } from './segments.js';
import { toFinding, type SecretHasher } from './finding.js';
import { createFilters, type Candidate, type Filters } from './filters.js';

export interface Limits {
  /** Larger files are skipped and make the result incomplete. */
  maxFileBytes: number;
  /** How many archives deep to descend (an archive in a layer in an image is depth 2). */
  maxArchiveDepth: number;
  /** Total bytes decompressed from archives in one scan. */
  maxDecompressedBytes: number;
  /** Entries read from one archive. */
  maxArchiveEntries: number;
  /** Whole zip archives are buffered (zip needs random access); above this they are skipped. */
  maxZipBytes: number;
  /** Wall-clock budget for one scan in seconds (0 = none); what is left when it runs out is not scanned. */
  maxSeconds: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxFileBytes: 10 * 1024 * 1024,
  maxArchiveDepth: 6,
  maxDecompressedBytes: 4 * 1024 * 1024 * 1024,
  maxArchiveEntries: 200_000,
  maxZipBytes: 256 * 1024 * 1024,
  maxSeconds: 0,
};

export type ContentLocation = Omit<Location, 'line' | 'column'>;

/** A path inside archives, outermost archive first: `outer.tar!inner.zip!path/file`. */
export function chainedPath(loc: Pick<Location, 'path' | 'archive'>): string {
  return [...(loc.archive ?? []), loc.path].join('!');
}

/** What a worker thread hands back: its matches unfiltered (secrets included, in memory only), the rest as is. */
export type PartialResult = Pick<ScanResult, 'skipped' | 'incompleteReasons' | 'stats'> & { candidates: Candidate[] };

/**
 * `filters`: the post-match filters, run here on every match (default: `createFilters()`). `null` (a worker
 * thread): matches are kept as candidates for the thread that owns the filters (`partial()` → `merge`).
 */
export function createCollector(deps: { engine: Engine; limits: Limits; hasher: SecretHasher; filters?: Filters | null; onProgress?: (bytes: number, files: number) => void; now?: () => number }) {
  const filters = deps.filters === undefined ? createFilters() : deps.filters;
  const now = deps.now ?? (() => Date.now());
  const deadline = deps.limits.maxSeconds > 0 ? now() + deps.limits.maxSeconds * 1000 : Infinity;
  let outOfTime = false;
  const findings: Finding[] = [];
  const candidates: Candidate[] = [];
  let failing = 0;
  const skipped: Skipped[] = [];
  const reasons = new Set<string>();
  let files = 0;
  let bytes = 0;
  let decompressed = 0;

  /** The one place a match becomes a reported finding: through the filter sequence (or kept for the owner's). */
  function admit(c: Candidate): void {
    if (filters === null) {
      candidates.push(c);
      return;
    }
    const verdict = filters.admit(c);
    if (verdict === 'drop') return;
    findings.push(c.finding);
    if (verdict === 'fail') failing++;
  }

  function addMatch(m: RawMatch, location: Location): void {
    admit({ finding: toFinding(m, location, deps.hasher), secret: m.secret, lineText: m.lineText, previousLineText: m.previousLineText });
  }

  function incomplete(reason: string): void {
    reasons.add(reason);
  }

  /** `where`: a path, or a location whose archive chain is shown too (`outer.tar!inner.zip!path/file`). */
  function skip(where: string | ContentLocation, reason: string, makesIncomplete = false): void {
    const path = typeof where === 'string' ? where : chainedPath(where);
    skipped.push({ path, reason });
    if (makesIncomplete) incomplete(`${reason}: ${path}`);
  }

  /** True once the time budget is spent (and from then on); marks the result incomplete. */
  function timeUp(): boolean {
    if (outOfTime) return true;
    if (deadline === Infinity || now() < deadline) return false;
    outOfTime = true;
    incomplete(`time limit of ${deps.limits.maxSeconds} s reached: the rest was not scanned`);
    return true;
  }

  /** Scans one file's bytes (already known not to be an archive). */
  function scanContent(buf: Buffer, loc: ContentLocation): void {
    if (timeUp()) return;
    files++;
    bytes += buf.length;
    deps.onProgress?.(bytes, files);
    if (isBinary(buf)) {
      skip(loc, 'binary');
      return;
    }
    // Nearly all source is ASCII: then Latin-1 decoding is a plain copy, and the engine's keyword
    // pass can read the bytes themselves.
    if (isAscii(buf)) scanText(buf.toString('latin1'), loc, 0, buf);
    else scanText(buf.toString('utf8'), loc);
  }

  function scanText(text: string, loc: ContentLocation, lineOffset = 0, ascii?: Uint8Array): void {
    let fileLines: number[] | undefined;
    for (const seg of segmentsFor(loc.path, text)) {
      for (const m of deps.engine.scanText(seg.text, loc.path, seg.text === text ? ascii : undefined)) {
        const within = seg.within ?? loc.within;
        // A segment with offsets (a notebook's cell) maps back to the file's own line and column.
        const at = seg.offsets ? position(fileLines ??= lineStarts(text), seg.offsets[m.index] ?? 0) : { line: m.line + seg.lineOffset, column: m.column };
        addMatch(m, {
          ...loc, ...(within ? { within } : {}),
          ...(seg.cell !== undefined ? { cell: seg.cell } : {}), ...(seg.output !== undefined ? { output: seg.output } : {}),
          line: at.line + lineOffset, column: at.column,
        });
      }
    }
  }

  /** Counts decompressed bytes; false once the scan-wide cap is passed. */
  function takeDecompressed(n: number): boolean {
    decompressed += n;
    return decompressed <= deps.limits.maxDecompressedBytes;
  }

  function result(source: ScanResult['source'], target: string, durationMs: number): ScanResult {
    return {
      source, target, findings, failing, skipped,
      incomplete: reasons.size > 0,
      incompleteReasons: [...reasons],
      stats: { files, bytes, durationMs },
    };
  }

  /** Counts a file whose text is scanned through another path (git diffs). */
  function scanned(): void {
    files++;
    deps.onProgress?.(bytes, files);
  }

  /** Findings whose location names this image (the image source annotates layers afterwards). */
  function findingsOf(image: string): Finding[] {
    return findings.filter((f) => f.location.image === image);
  }

  /** What this (filterless, worker) collector saw, for the owner's `merge`. */
  function partial(): PartialResult {
    return { candidates, skipped, incompleteReasons: [...reasons], stats: { files, bytes, durationMs: 0 } };
  }

  /** Folds in what another collector (a worker thread's) saw; its matches go through this one's filters. */
  function merge(part: PartialResult): void {
    for (const c of part.candidates) admit(c);
    skipped.push(...part.skipped);
    for (const r of part.incompleteReasons) reasons.add(r);
    files += part.stats.files;
    bytes += part.stats.bytes;
  }

  return { addMatch, merge, partial, timeUp, findingsOf, scanned, scanContent, scanText, skip, incomplete, takeDecompressed, result, limits: deps.limits, addBytes: (n: number) => { bytes += n; } };
}
export type Collector = ReturnType<typeof createCollector>;
