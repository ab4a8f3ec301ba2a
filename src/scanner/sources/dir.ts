// Directory source: walks a tree, honouring .gitignore files (every level) unless told not to.
// Only regular files are read; symlinks are never followed (one pointing out of the root is reported).
import { open, readdir, readFile, realpath } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { constants } from 'node:fs';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import type { Collector } from '../collector.js';
import { scanStream, sniffArchive } from '../archive.js';

export interface DirOptions {
  gitignore: boolean;
  /** Extra paths to skip, gitignore syntax, relative to the root. */
  exclude: string[];
}

interface IgnoreScope {
  base: string;
  ig: Ignore;
}

/** Walks the tree: returns the files to scan; symlinks and special files go to `skipped`. */
export async function listFiles(c: Collector, root: string, opts: DirOptions): Promise<{ absRoot: string; files: string[] }> {
  const absRoot = await realpath(root);
  const excluder = ignore().add(opts.exclude);
  const files: string[] = [];

  function ignored(rel: string, isDir: boolean, scopes: IgnoreScope[]): boolean {
    const p = isDir ? `${rel}/` : rel;
    if (excluder.ignores(p)) return true;
    if (!opts.gitignore) return false;
    for (const s of scopes) {
      const sub = s.base ? path.posix.relative(s.base, rel) : rel;
      if (sub && !sub.startsWith('..') && s.ig.ignores(isDir ? `${sub}/` : sub)) return true;
    }
    return false;
  }

  async function walk(dirRel: string, parentScopes: IgnoreScope[]): Promise<void> {
    const abs = path.join(absRoot, dirRel);
    let scopes = parentScopes;
    if (opts.gitignore) {
      const gi = await readFile(path.join(abs, '.gitignore'), 'utf8').catch(() => null);
      if (gi !== null) scopes = [...parentScopes, { base: dirRel, ig: ignore().add(gi) }];
    }
    const entries = await readdir(abs, { withFileTypes: true });
    for (const e of entries) {
      const rel = dirRel ? `${dirRel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (e.name === '.git') continue;
        if (ignored(rel, true, scopes)) continue;
        await walk(rel, scopes);
      } else if (e.isSymbolicLink()) {
        if (ignored(rel, false, scopes)) continue;
        const target = await realpath(path.join(abs, e.name)).catch(() => null);
        const inside = target !== null && (target === absRoot || target.startsWith(absRoot + path.sep));
        c.skip(rel, inside ? 'symlink not followed (its target inside the root is scanned in place)' : 'symlink pointing outside the root, not followed');
      } else if (e.isFile()) {
        if (ignored(rel, false, scopes)) continue;
        files.push(rel);
      } else {
        c.skip(rel, 'not a regular file');
      }
    }
  }

  await walk('', []);
  return { absRoot, files };
}

/** Scans the listed files in this thread, a few reads in flight at a time. */
export async function scanFiles(c: Collector, absRoot: string, files: string[], concurrency = 8): Promise<void> {
  let next = 0;
  async function lane(): Promise<void> {
    while (next < files.length && !c.timeUp()) await scanFile(c, absRoot, files[next++]!);
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, lane));
}

export async function scanFile(c: Collector, absRoot: string, rel: string): Promise<void> {
  const abs = path.join(absRoot, rel);
  try {
    // O_NOFOLLOW: a file swapped for a symlink after the walk is refused, not followed.
    const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    let buf: Buffer | null = null;
    let head: Buffer | null = null;
    try {
      const st = await fh.stat();
      if (!st.isFile()) return;
      if (st.size <= c.limits.maxFileBytes) buf = await fh.readFile();
      else {
        head = Buffer.alloc(512);
        await fh.read(head, 0, 512, 0);
      }
    } finally {
      await fh.close();
    }
    if (buf) {
      if (sniffArchive(buf.subarray(0, 512)) !== null) await scanStream(c, Readable.from([buf]), { path: rel }, 0);
      else c.scanContent(buf, { path: rel });
    } else if (head && sniffArchive(head) !== null) {
      // Large archives are streamed; any other large file is skipped unread.
      const big = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
      await scanStream(c, big.createReadStream(), { path: rel }, 0);
    } else {
      c.skip(rel, `larger than ${c.limits.maxFileBytes} bytes`, true);
    }
  } catch (err) {
    c.skip(rel, `unreadable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, true);
  }
}
