// Scan use cases: build the engine and collector, run one source, return the result.
import { createEngine, type RuleTuning } from './engine.js';
import { createCollector, DEFAULT_LIMITS, type Limits } from './collector.js';
import type { Filters } from './filters.js';
import { createSecretHasher, ephemeralScanKey } from './finding.js';
import { RULES } from './rules/rules.js';
import { listFiles, scanFiles } from './sources/dir.js';
import { scanFilesInWorkers } from './sources/dir.pool.js';
import { scanGit } from './sources/git.js';
import { scanImage } from './sources/image.js';
import type { Rule, ScanResult } from './types.js';

export interface ScanOptions {
  rules?: Rule[];
  tuning?: RuleTuning;
  /** HMAC key of fingerprints and shown hashes (`loadScanKey`); default a random key for this process. */
  key?: Uint8Array;
  /** The post-match filters (`createFilters`: allow-list, baseline, fail-on); default: none but dedupe. */
  filters?: Filters;
  limits?: Partial<Limits>;
  /** Directory scans: honour .gitignore files (default true). */
  gitignore?: boolean;
  /** Directory scans: extra paths to skip, gitignore syntax. */
  exclude?: string[];
  onProgress?: (bytes: number, files: number) => void;
  /**
   * Directory scans: threads that scan files, this one and `workers - 1` worker threads (0 or 1 = this
   * thread alone). Built-in rules only.
   */
  workers?: number;
  /** Clock in milliseconds (durations and the time limit). */
  now?: () => number;
}

function setup(opts: ScanOptions, onProgress = opts.onProgress) {
  const engine = createEngine({ rules: opts.rules ?? RULES, ...(opts.tuning ? { tuning: opts.tuning } : {}) });
  const key = opts.key ?? ephemeralScanKey();
  const collector = createCollector({
    engine, hasher: createSecretHasher(key), limits: { ...DEFAULT_LIMITS, ...opts.limits }, ...(opts.filters ? { filters: opts.filters } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const now = opts.now ?? (() => performance.now());
  return { engine, collector, key, now, t0: now() };
}

export async function scanDirectory(root: string, opts: ScanOptions = {}): Promise<ScanResult> {
  // Progress counts this thread's bytes and files plus what the workers last said.
  let workerBytes = 0;
  let here = { bytes: 0, files: 0 };
  const report = opts.onProgress;
  const { collector, key, now, t0 } = setup(opts, report && ((bytes, files) => { here = { bytes, files }; report(bytes + workerBytes, files); }));
  const { absRoot, files } = await listFiles(collector, root, { gitignore: opts.gitignore ?? true, exclude: opts.exclude ?? [] });
  const threads = opts.rules ? 0 : Math.min(opts.workers ?? 0, Math.ceil(files.length / 64));
  if (threads > 1) {
    await scanFilesInWorkers(collector, absRoot, files, {
      workers: threads - 1, tuning: opts.tuning ?? {}, key,
      onProgress: (n) => { workerBytes += n; report?.(here.bytes + workerBytes, here.files); },
    });
  } else {
    await scanFiles(collector, absRoot, files);
  }
  return collector.result('dir', root, now() - t0);
}

export async function scanGitHistory(repo: string, opts: ScanOptions = {}): Promise<ScanResult> {
  const { engine, collector, now, t0 } = setup(opts);
  await scanGit(collector, engine, repo);
  return collector.result('git', repo, now() - t0);
}

export async function scanContainerImage(archive: string, opts: ScanOptions = {}): Promise<ScanResult> {
  const { collector, now, t0 } = setup(opts);
  await scanImage(collector, archive);
  return collector.result('image', archive, now() - t0);
}
