// Directory source: walks a tree, honouring .gitignore files (every level) unless told not to.
// Only regular files are read; symlinks are never followed (one pointing out of the root is reported).
import { open, readdir, readFile, realpath } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import type { Ignore } from 'ignore';
import type { Collector } from '../collector.js';
import { scanStream, sniffArchive } from '../archive-walk.js';

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
  // Loaded here, not at module start: worker threads import this module only to read files.
  const { default: ignore } = await import('ignore');
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
        c.skip(rel, await symlinkReason(path.join(abs, e.name), absRoot));
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

/** Why a symlink is skipped: its target is inside the root (scanned in place), outside it, missing, or a loop. */
async function symlinkReason(link: string, absRoot: string): Promise<string> {
  try {
    const target = await realpath(link);
    const inside = target === absRoot || target.startsWith(absRoot + path.sep);
    return inside ? 'symlink not followed (its target inside the root is scanned in place)' : 'symlink pointing outside the root, not followed';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'dangling symlink (its target does not exist), not followed';
    if (code === 'ELOOP') return 'symlink loop, not followed';
    return `symlink not followed (unresolvable: ${code ?? (err as Error).message})`;
  }
}

/** Scans the listed files in this thread, one after the other (worker threads give the parallelism). */
export async function scanFiles(c: Collector, absRoot: string, files: string[]): Promise<void> {
  for (let i = 0; i < files.length && !c.timeUp(); i++) await scanFile(c, absRoot, files[i]!);
}

/**
 * One read buffer per thread, grown to the largest file read so far. Files are read with blocking
 * calls into it: for many small files the promise API's four round trips per file cost more CPU
 * than the reads themselves, and the text is decoded from it at once, so nothing holds on to it.
 */
let scratch = Buffer.allocUnsafe(1 << 20);

/** Reads the open file from the start until EOF; null once it passes `max` bytes (it grew after stat). */
function readAll(fd: number, sizeHint: number, max: number): Buffer | null {
  if (scratch.length < sizeHint + 1) scratch = Buffer.allocUnsafe(Math.min(Math.max(sizeHint + 1, scratch.length * 2), max + 1));
  let n = 0;
  for (;;) {
    if (n === scratch.length) {
      if (n > max) return null;
      const bigger = Buffer.allocUnsafe(Math.min(n * 2, max + 1));
      scratch.copy(bigger, 0, 0, n);
      scratch = bigger;
    }
    const r = readSync(fd, scratch, n, scratch.length - n, n);
    if (r === 0) break;
    n += r;
  }
  return n > max ? null : scratch.subarray(0, n);
}

export async function scanFile(c: Collector, absRoot: string, rel: string): Promise<void> {
  const abs = path.join(absRoot, rel);
  try {
    let fd: number | undefined;
    let text: Buffer | null = null;
    let archive: Buffer | null = null;
    let big = false;
    try {
      // O_NOFOLLOW: a file swapped for a symlink after the walk is refused, not followed.
      fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      const st = fstatSync(fd);
      if (!st.isFile()) return;
      if (st.size <= c.limits.maxFileBytes) {
        const buf = readAll(fd, st.size, c.limits.maxFileBytes);
        if (buf === null) big = true;
        // Archives are walked asynchronously: they get their own copy, the scratch buffer is reused.
        else if (sniffArchive(buf.subarray(0, 512)) !== null) archive = Buffer.from(buf);
        else text = buf;
      } else {
        const head = Buffer.alloc(512);
        const n = readSync(fd, head, 0, 512, 0);
        if (sniffArchive(head.subarray(0, n)) === null) big = true;
        else {
          // Large archives are streamed; any other large file is skipped unread.
          const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
          await scanStream(c, fh.createReadStream(), { path: rel }, 0);
          return;
        }
      }
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    if (text) c.scanContent(text, { path: rel });
    else if (archive) await scanStream(c, Readable.from([archive]), { path: rel }, 0);
    else if (big) c.skip(rel, `larger than ${c.limits.maxFileBytes} bytes`, true);
  } catch (err) {
    c.skip(rel, `unreadable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, true);
  }
}
