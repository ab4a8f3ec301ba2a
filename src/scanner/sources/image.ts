// Container image source: `docker save` archives and OCI image layouts (a directory or a tar of one),
// read in place as streams. Every layer is scanned, so files a later layer deleted are still seen;
// the image config's environment and build history are scanned too. Anything else is refused with
// `NotAnImage` (a usage error), never reported clean: a plain tar, a directory or a text file is not an image.
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Collector } from '../collector.js';
import { displayName, loadTar, peek, scanStream, sniffArchive } from '../archive-walk.js';

interface ImageConfig {
  config?: { Env?: unknown };
  history?: Array<{ created_by?: unknown }>;
  rootfs?: { diff_ids?: unknown };
}

const MAX_JSON = 8 * 1024 * 1024;

export class NotAnImage extends Error {
  constructor(target: string) {
    super(`not an image: ${path.basename(target)} is neither a docker save archive nor an OCI image layout`);
  }
}

/** The files at an image's root that say what it is: docker save's `manifest.json`, an OCI layout's `oci-layout` + `index.json`. */
const MARKERS = new Set(['manifest.json', 'oci-layout', 'index.json']);

/**
 * A docker save archive has a root `manifest.json` listing entries with `Config` and `Layers`; an OCI
 * layout has a root `oci-layout` naming its `imageLayoutVersion` and an `index.json` with `manifests`.
 * `json` holds the root marker files as parsed (`null`: not JSON).
 */
export function isImageRoot(json: Map<string, unknown>): boolean {
  const m = json.get('manifest.json');
  if (Array.isArray(m) && m.some((e: { Config?: unknown; Layers?: unknown } | null) => typeof e?.Config === 'string' && Array.isArray(e.Layers))) return true;
  const layout = json.get('oci-layout') as { imageLayoutVersion?: unknown } | null | undefined;
  const index = json.get('index.json') as { manifests?: unknown } | null | undefined;
  return typeof layout?.imageLayoutVersion === 'string' && Array.isArray(index?.manifests);
}

async function readRootMarkers(dir: string): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for (const name of MARKERS) {
    const text = await readFile(path.join(dir, name), 'utf8').catch(() => null);
    if (text === null) continue;
    try {
      out.set(name, JSON.parse(text));
    } catch {
      out.set(name, null);
    }
  }
  return out;
}

export async function scanImage(c: Collector, target: string): Promise<void> {
  const st = await stat(target);
  const image = path.basename(target);
  /** Root marker files seen, parsed (`null` when not JSON). */
  const roots = new Map<string, unknown>();
  const layerWhiteouts = new Map<string, string[]>();
  const configs = new Map<string, ImageConfig>();
  const manifests: unknown[] = [];

  async function handleEntry(name: string, stream: Readable): Promise<void> {
    const { head, whole } = await peek(stream, 512);
    if (head.length >= 4 && head.readUInt32BE(0) === 0x28b52ffd) {
      c.skip(name, 'zstd-compressed layer not supported', true);
      whole.resume();
      return;
    }
    if (sniffArchive(head) !== null) {
      const wh: string[] = [];
      layerWhiteouts.set(name, wh);
      await scanStream(c, whole, { path: name, image, layer: name }, 0, {
        onTarEntry: (entry) => {
          const base = path.posix.basename(entry);
          if (base.startsWith('.wh.')) wh.push(path.posix.join(path.posix.dirname(entry), base.slice(4)).replace(/^\.?\//, ''));
        },
      });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const ch of whole) {
      size += (ch as Buffer).length;
      if (size <= MAX_JSON) chunks.push(ch as Buffer);
    }
    if (size > MAX_JSON) return;
    let json: unknown;
    try {
      json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return;
    }
    if (MARKERS.has(name)) roots.set(name, json);
    if (name === 'manifest.json' || isOciManifest(json)) manifests.push(json);
    const cfg = json as ImageConfig;
    if (json && typeof json === 'object' && (cfg.config !== undefined || Array.isArray(cfg.history)) && cfg.rootfs) {
      configs.set(name, cfg);
      scanConfig(name, cfg);
    }
  }

  function scanConfig(name: string, cfg: ImageConfig): void {
    const env = Array.isArray(cfg.config?.Env) ? cfg.config.Env.filter((e): e is string => typeof e === 'string') : [];
    // Rendered as KEY="value" so contextual rules see the name next to the value.
    const envText = env.map((e) => {
      const i = e.indexOf('=');
      return i < 0 ? e : `${e.slice(0, i)}="${e.slice(i + 1)}"`;
    }).join('\n');
    if (envText) c.scanText(envText, { path: name, image, within: 'config env' });
    const hist = (cfg.history ?? []).map((h) => (typeof h.created_by === 'string' ? h.created_by : '')).join('\n');
    if (hist) c.scanText(hist, { path: name, image, within: 'config history' });
  }

  if (st.isDirectory()) {
    // An OCI layout (or unpacked docker save) directory, checked before anything is read: every blob is
    // then streamed from where it lies.
    if (!isImageRoot(await readRootMarkers(target))) throw new NotAnImage(target);
    for (const rel of await listFiles(target)) await handleEntry(rel, createReadStream(path.join(target, rel)));
  } else {
    const head = await peekFile(target);
    const kind = sniffArchive(head);
    // `docker save | gzip`: the same tar, read through gunzip (its bytes count toward the decompressed cap).
    const gz = kind === 'gzip';
    if (!gz && kind !== 'tar') throw new NotAnImage(target);
    const extract = (await loadTar()).extract();
    const file = createReadStream(target);
    const input: Readable = gz ? file.pipe(createGunzip()) : file;
    file.on('error', (e) => extract.destroy(e));
    input.on('error', (e) => extract.destroy(e));
    let cutShort = false;
    if (gz) {
      input.on('data', (ch: Buffer) => {
        if (c.takeDecompressed(ch.length)) return;
        cutShort = true;
        c.incomplete(`decompressed-size cap of ${c.limits.maxDecompressedBytes} bytes reached in ${image}`);
        input.unpipe();
        file.destroy();
        input.destroy();
        (extract as unknown as Writable).end();
      });
    }
    input.pipe(extract);
    for await (const entry of extract) {
      const name = displayName(entry.header.name).replace(/^\.?\//, '');
      if (entry.header.type === 'file' || entry.header.type === 'contiguous-file') await handleEntry(name, entry as unknown as Readable);
      else entry.resume();
    }
    // Known only once the whole tar was read: where docker and OCI tools put their root files varies.
    // A tar cut short by the cap is incomplete, not judged.
    if (!cutShort && !isImageRoot(roots)) throw new NotAnImage(target);
  }
  annotateLayers(c, image, orderLayers(manifests, configs), layerWhiteouts);
}

async function peekFile(file: string): Promise<Buffer> {
  const s = createReadStream(file, { start: 0, end: 511 });
  const chunks: Buffer[] = [];
  for await (const ch of s) chunks.push(ch as Buffer);
  return Buffer.concat(chunks);
}

async function listFiles(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(root, r)));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

/** Layer entry names in stack order with their digests, from docker's manifest.json or the OCI index. */
function isOciManifest(v: unknown): v is { layers: Array<{ digest?: unknown }> } {
  return !!v && typeof v === 'object' && Array.isArray((v as { layers?: unknown }).layers) && 'config' in v;
}

function orderLayers(manifests: unknown[], configs: Map<string, ImageConfig>): Array<{ name: string; digest: string }> {
  for (const m of manifests) {
    if (isOciManifest(m)) {
      return m.layers.filter((l) => typeof l.digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(l.digest))
        .map((l) => ({ name: `blobs/sha256/${(l.digest as string).slice(7)}`, digest: l.digest as string }));
    }
    if (Array.isArray(m) && m[0] && typeof m[0] === 'object') {
      const entry = m[0] as { Config?: string; Layers?: string[] };
      const diffIds = configs.get(entry.Config ?? '')?.rootfs?.diff_ids;
      return (entry.Layers ?? []).map((name, i) => ({
        name,
        digest: /^blobs\/sha256\/[0-9a-f]{64}$/.test(name) ? `sha256:${name.slice(13)}`
          : Array.isArray(diffIds) && typeof diffIds[i] === 'string' ? diffIds[i] : name,
      }));
    }
  }
  return [];
}

function annotateLayers(c: Collector, image: string, order: Array<{ name: string; digest: string }>, whiteouts: Map<string, string[]>): void {
  const index = new Map(order.map((l, i) => [l.name, i]));
  for (const f of c.findingsOf(image)) {
    const l = f.location;
    if (!l.layer) continue;
    const layerName = l.layer;
    if (l.archive) l.archive = l.archive.filter((a) => a !== layerName && a !== `${layerName}#gunzip`);
    if (l.archive?.length === 0) delete l.archive;
    const i = index.get(l.layer);
    if (i === undefined) {
      if (/^blobs\/sha256\/[0-9a-f]{64}$/.test(l.layer)) l.layer = `sha256:${l.layer.slice(13)}`;
      continue;
    }
    const file = l.path.replace(/^\.?\//, '');
    l.deletedInLaterLayer = order.slice(i + 1).some((later) => (whiteouts.get(later.name) ?? []).some((w) => {
      if (w.endsWith('.wh..opq')) {
        const dir = w.slice(0, -'.wh..opq'.length).replace(/\/$/, '');
        return file.startsWith(dir ? `${dir}/` : '');
      }
      return file === w || file.startsWith(`${w}/`);
    }));
    l.layer = order[i]!.digest;
  }
}
