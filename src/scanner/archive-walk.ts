// Streams through nested archives (tar, gzip, zip) without writing anything to disk.
// Depth, decompressed bytes and entry counts are capped; a cap reached marks the scan incomplete.
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type yauzl from 'yauzl';
import type { Collector, ContentLocation } from './collector.js';

export type ArchiveKind = 'gzip' | 'tar' | 'zip' | null;

export function sniffArchive(head: Uint8Array): ArchiveKind {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'zip';
  if (head.length >= 262 && Buffer.from(head.subarray(257, 262)).toString('latin1') === 'ustar') return 'tar';
  return null;
}

/** Entry names come from untrusted archives: only shown, never used as file-system paths. */
export function displayName(name: string): string {
  // eslint-disable-next-line no-control-regex
  return name.replace(/[\x00-\x1f\x7f]/g, '?');
}

/** Reads until at least `n` bytes (or the end), and returns them with a stream of the whole. */
export async function peek(stream: Readable, n: number): Promise<{ head: Buffer; whole: Readable }> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  while (size < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    chunks.push(chunk);
    size += chunk.length;
  }
  const head = Buffer.concat(chunks);
  async function* rest() {
    yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { head, whole: Readable.from(rest(), { objectMode: false }) };
}

async function drain(stream: Readable): Promise<void> {
  for await (const _ of stream) { /* discard */ }
}

/** Collects a stream up to `max` bytes; returns null (after draining the rest) when larger. */
async function collect(stream: Readable, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  for await (const chunk of stream) {
    if (over) continue;
    size += (chunk as Buffer).length;
    if (size > max) {
      over = true;
      chunks.length = 0;
      continue;
    }
    chunks.push(chunk as Buffer);
  }
  return over ? null : Buffer.concat(chunks);
}

export interface WalkHooks {
  /** Sees every tar entry header at the top level of this walk (images track whiteouts with it). */
  onTarEntry?: (name: string, type: string) => void;
}

/**
 * Scans one stream: descends into it when it is an archive, else scans it as a file.
 * `depth` is how many archives already enclose it.
 */
export async function scanStream(c: Collector, stream: Readable, loc: ContentLocation, depth: number, hooks: WalkHooks = {}): Promise<void> {
  const { head, whole } = await peek(stream, 512);
  const kind = sniffArchive(head);
  if (kind === null) {
    const buf = await collect(whole, c.limits.maxFileBytes);
    if (buf === null) c.skip(loc, `larger than ${c.limits.maxFileBytes} bytes`, true);
    else c.scanContent(buf, loc);
    return;
  }
  if (depth >= c.limits.maxArchiveDepth) {
    c.skip(loc, `archive nesting deeper than ${c.limits.maxArchiveDepth}`, true);
    await drain(whole);
    return;
  }
  const chain = [...(loc.archive ?? []), loc.path];
  try {
    if (kind === 'gzip') await walkGzip(c, whole, loc, depth + 1, hooks);
    else if (kind === 'tar') await walkTar(c, whole, { ...loc, archive: chain }, depth + 1, hooks);
    else await walkZip(c, whole, { ...loc, archive: chain }, depth + 1);
  } catch (err) {
    c.skip(loc, `unreadable ${kind} archive (${(err as Error).message})`, true);
    whole.destroy();
  }
}

async function walkGzip(c: Collector, input: Readable, loc: ContentLocation, depth: number, hooks: WalkHooks): Promise<void> {
  const gunzip = createGunzip();
  input.on('error', (e) => gunzip.destroy(e));
  input.pipe(gunzip);
  // Counted so a gzip bomb stops at the scan-wide budget; the rest of the input is drained, not inflated.
  const counted = countDecompressed(c, gunzip, loc.path, () => {
    input.unpipe(gunzip);
    input.resume();
  });
  const inner = loc.path.replace(/\.(?:t?gz|gzip)$/i, (m) => (m.toLowerCase() === '.tgz' ? '.tar' : ''));
  // gzip counts as a level too, so self-similar gzip chains stop at the depth cap.
  await scanStream(c, counted, { ...loc, path: inner === loc.path ? `${loc.path}#gunzip` : inner, archive: [...(loc.archive ?? []), loc.path] }, depth, hooks);
}

async function walkTar(c: Collector, input: Readable, loc: ContentLocation, depth: number, hooks: WalkHooks): Promise<void> {
  const extract = (await loadTar()).extract();
  input.on('error', (e) => extract.destroy(e));
  input.pipe(extract);
  let entries = 0;
  for await (const entry of extract) {
    const h = entry.header;
    const name = displayName(h.name);
    hooks.onTarEntry?.(h.name, h.type ?? 'file');
    if (c.timeUp()) {
      entry.resume();
      extract.destroy();
      input.destroy();
      return;
    }
    if (++entries > c.limits.maxArchiveEntries) {
      c.incomplete(`entry-count cap of ${c.limits.maxArchiveEntries} reached in ${loc.archive?.at(-1) ?? loc.path}`);
      entry.resume();
      extract.destroy();
      input.destroy();
      return;
    }
    if (h.type === 'file' || h.type === 'contiguous-file') {
      await scanStream(c, entry as unknown as Readable, { ...loc, path: name }, depth);
    } else {
      if (h.type === 'symlink' || h.type === 'link') c.skip({ ...loc, path: name }, `${h.type} not followed`);
      entry.resume();
    }
  }
}

/** The archive libraries load on the first archive met: most directory scans have none. */
export async function loadTar(): Promise<typeof import('tar-stream')> {
  return (await import('tar-stream')).default;
}

async function openZip(buf: Buffer): Promise<yauzl.ZipFile> {
  const { default: zipLib } = await import('yauzl');
  return new Promise((resolve, reject) => {
    zipLib.fromBuffer(buf, { lazyEntries: true, validateEntrySizes: true, strictFileNames: false }, (err, zip) => (err || !zip ? reject(err ?? new Error('zip')) : resolve(zip)));
  });
}

async function walkZip(c: Collector, input: Readable, loc: ContentLocation, depth: number): Promise<void> {
  const buf = await collect(input, c.limits.maxZipBytes);
  if (buf === null) {
    c.skip(loc.archive?.length ? loc.archive.join('!') : loc.path, `zip larger than ${c.limits.maxZipBytes} bytes`, true);
    return;
  }
  const zip = await openZip(buf);
  let entries = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          if (++entries > c.limits.maxArchiveEntries) {
            c.incomplete(`entry-count cap of ${c.limits.maxArchiveEntries} reached in ${loc.archive?.at(-1) ?? loc.path}`);
            resolve();
            return;
          }
          const name = displayName(entry.fileName);
          if (name.endsWith('/')) return zip.readEntry();
          if (!c.takeDecompressed(0) || entry.uncompressedSize > c.limits.maxDecompressedBytes) {
            c.incomplete(`decompressed-size cap of ${c.limits.maxDecompressedBytes} bytes reached in ${loc.archive?.at(-1) ?? loc.path}`);
            resolve();
            return;
          }
          const rs = await new Promise<Readable>((res, rej) => zip.openReadStream(entry, (e, s) => (e || !s ? rej(e ?? new Error('zip entry')) : res(s))));
          const counted = countDecompressed(c, rs, loc.archive?.at(-1) ?? loc.path);
          await scanStream(c, counted, { ...loc, path: name }, depth);
          zip.readEntry();
        })().catch(reject);
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}

/** Passes chunks through while the scan-wide decompressed budget lasts, then ends early. */
function countDecompressed(c: Collector, rs: Readable, where: string, onCap?: () => void): Readable {
  async function* gen() {
    for await (const chunk of rs) {
      if (!c.takeDecompressed((chunk as Buffer).length)) {
        c.incomplete(`decompressed-size cap of ${c.limits.maxDecompressedBytes} bytes reached in ${where}`);
        onCap?.();
        rs.destroy();
        return;
      }
      yield chunk as Buffer;
    }
  }
  return Readable.from(gen(), { objectMode: false });
}
