// Builders for test archives and images (tar-stream and fflate write them; nothing is hand-assembled).
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { zipSync } from 'fflate';

export interface TarItem {
  name: string;
  content?: string | Buffer;
  type?: 'file' | 'symlink' | 'directory';
  linkname?: string;
}

export async function makeTar(items: TarItem[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => { chunks.push(c as Buffer); });
  const done = new Promise<void>((resolve, reject) => { pack.on('end', resolve); pack.on('error', reject); });
  for (const it of items) {
    if (it.type === 'symlink') pack.entry({ name: it.name, type: 'symlink', linkname: it.linkname ?? '/etc/passwd' });
    else if (it.type === 'directory') pack.entry({ name: it.name, type: 'directory' });
    else pack.entry({ name: it.name }, typeof it.content === 'string' ? Buffer.from(it.content) : (it.content ?? Buffer.alloc(0)));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function makeZip(files: Record<string, string | Buffer>): Buffer {
  const entries: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(files)) entries[k] = typeof v === 'string' ? Buffer.from(v) : v;
  return Buffer.from(zipSync(entries, { level: 9 }));
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface ImageSpec {
  layers: TarItem[][];
  env?: string[];
  history?: string[];
  gzipLayers?: boolean;
}

/** A `docker save` archive (modern layout: blobs/sha256/… plus manifest.json). */
export async function makeDockerSave(spec: ImageSpec): Promise<Buffer> {
  const layerTars = await Promise.all(spec.layers.map((l) => makeTar(l)));
  const blobs = layerTars.map((t) => (spec.gzipLayers ? gzipSync(t) : t));
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux',
    config: { Env: spec.env ?? ['PATH=/usr/bin'] },
    history: (spec.history ?? []).map((h) => ({ created_by: h })),
    rootfs: { type: 'layers', diff_ids: layerTars.map((t) => `sha256:${sha256(t)}`) },
  }));
  const configName = `blobs/sha256/${sha256(config)}`;
  const layerNames = blobs.map((b) => `blobs/sha256/${sha256(b)}`);
  const manifest = [{ Config: configName, RepoTags: ['demo:latest'], Layers: layerNames }];
  return makeTar([
    ...blobs.map((b, i) => ({ name: layerNames[i]!, content: b })),
    { name: configName, content: config },
    { name: 'manifest.json', content: JSON.stringify(manifest) },
  ]);
}

/** OCI image layout files (index.json, oci-layout, blobs), to be written as a directory or a tar. */
export async function makeOciLayout(spec: ImageSpec): Promise<TarItem[]> {
  const layerTars = await Promise.all(spec.layers.map((l) => makeTar(l)));
  const blobs = layerTars.map((t) => gzipSync(t));
  const config = Buffer.from(JSON.stringify({
    config: { Env: spec.env ?? [] }, history: (spec.history ?? []).map((h) => ({ created_by: h })),
    rootfs: { type: 'layers', diff_ids: layerTars.map((t) => `sha256:${sha256(t)}`) },
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha256(config)}`, size: config.length },
    layers: blobs.map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${sha256(b)}`, size: b.length })),
  }));
  const index = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha256(manifest)}`, size: manifest.length }] };
  return [
    { name: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', content: JSON.stringify(index) },
    ...[config, manifest, ...blobs].map((b) => ({ name: `blobs/sha256/${sha256(b)}`, content: b })),
  ];
}
