// Scan use cases: build the engine and collector, run one source, return the result.
import { createEngine, type RuleTuning } from './engine.js';
import { createCollector, DEFAULT_LIMITS, type Limits } from './collector.js';
import { RULES } from './rules/rules.js';
import { listFiles, scanFiles } from './sources/dir.js';
import { scanFilesInWorkers } from './sources/dir.pool.js';
import { scanGit } from './sources/git.js';
import { scanImage } from './sources/image.js';
import type { Rule, ScanResult } from './types.js';

export interface ScanOptions {
  rules?: Rule[];
  tuning?: RuleTuning;
  limits?: Partial<Limits>;
  /** Directory scans: honour .gitignore files (default true). */
  gitignore?: boolean;
  /** Directory scans: extra paths to skip, gitignore syntax. */
  exclude?: string[];
  onProgress?: (bytes: number, files: number) => void;
  /** Directory scans: worker threads to spread files over (0 = scan in this thread). Built-in rules only. */
  workers?: number;
  /** Clock in milliseconds (durations and the time limit). */
  now?: () => number;
}

function setup(opts: ScanOptions) {
  const engine = createEngine({ rules: opts.rules ?? RULES, ...(opts.tuning ? { tuning: opts.tuning } : {}) });
  const collector = createCollector({
    engine, limits: { ...DEFAULT_LIMITS, ...opts.limits },
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const now = opts.now ?? (() => performance.now());
  return { engine, collector, now, t0: now() };
}

export async function scanDirectory(root: string, opts: ScanOptions = {}): Promise<ScanResult> {
  const { collector, now, t0 } = setup(opts);
  const { absRoot, files } = await listFiles(collector, root, { gitignore: opts.gitignore ?? true, exclude: opts.exclude ?? [] });
  const workers = opts.rules ? 0 : Math.min(opts.workers ?? 0, Math.ceil(files.length / 64));
  if (workers > 1) {
    let bytes = 0;
    await scanFilesInWorkers(collector, absRoot, files, {
      workers, tuning: opts.tuning ?? {},
      onProgress: (n) => { bytes += n; opts.onProgress?.(bytes, 0); },
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
