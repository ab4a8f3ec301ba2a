// Content-aware extraction: which text segments of a file to scan, and where each sits.
// Notebooks are parsed (sources and text outputs, not base64 images); YAML manifests get their
// Kubernetes Secret `data` decoded; everything else is scanned as is.
import { createRequire } from 'node:module';
import type { Node } from 'yaml';
import { notebookPieces } from './notebook.js';

// yaml is loaded on the first Kubernetes Secret manifest, not at start (it is ~70 ms of module loading,
// paid again by every worker thread).
const require = createRequire(import.meta.url);
let yaml: typeof import('yaml') | undefined;
const loadYaml = (): typeof import('yaml') => (yaml ??= require('yaml') as typeof import('yaml'));

export interface Segment {
  text: string;
  /** Added to the engine's 1-based line to get the file line. */
  lineOffset: number;
  within?: string;
  /** Notebooks: the file offset of each character of `text` (then line and column are the file's own). */
  offsets?: Int32Array;
  /** Notebooks: 1-based cell and output the text came from. */
  cell?: number;
  output?: number;
}

export function isBinary(buf: Uint8Array): boolean {
  const n = Math.min(buf.length, 8000);
  for (let i = 0; i < n; i++) if (buf[i] === 0) return true;
  return false;
}

export function segmentsFor(path: string, text: string): Segment[] {
  const lower = path.toLowerCase();
  if (lower.endsWith('.ipynb')) return notebookSegments(text) ?? [{ text, lineOffset: 0 }];
  if (/\.ya?ml$/.test(lower) && /^\s*kind:\s*Secret\b/m.test(text)) {
    const { masked, segments } = k8sSecretSegments(text);
    return [{ text: masked, lineOffset: 0 }, ...segments];
  }
  return [{ text, lineOffset: 0 }];
}

/** Jupyter: cell sources and text outputs (stream text, text/plain, errors); images are skipped. */
export function notebookSegments(text: string): Segment[] | null {
  const pieces = notebookPieces(text);
  if (!pieces) return null;
  return pieces.map((p) => ({
    text: p.text, lineOffset: 0, offsets: p.offsets, cell: p.cell,
    within: p.output === undefined ? `cell ${p.cell}` : `cell ${p.cell} output ${p.output}`,
    ...(p.output !== undefined ? { output: p.output } : {}),
  }));
}

/**
 * Kubernetes Secret `data:` values are base64: decode them so the rules see the secret. The raw
 * text comes back with those values blanked (same length) so a secret is not reported twice.
 */
export function k8sSecretSegments(text: string): { masked: string; segments: Segment[] } {
  const out: Segment[] = [];
  const ranges: Array<[number, number]> = [];
  const { LineCounter, parseAllDocuments, isMap, isScalar, isPair } = loadYaml();
  const lc = new LineCounter();
  let docs;
  try {
    docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: false });
  } catch {
    return { masked: text, segments: out };
  }
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const root = doc.contents as Node | null;
    if (!isMap(root) || root.get('kind') !== 'Secret') continue;
    const data = root.get('data', true);
    if (!isMap(data)) continue;
    for (const item of data.items) {
      if (!isPair(item) || !isScalar(item.key) || !isScalar(item.value)) continue;
      const key = String(item.key.value);
      const raw = String(item.value.value ?? '');
      const decoded = Buffer.from(raw, 'base64').toString('utf8');
      if (!decoded || isBinary(Buffer.from(decoded))) continue;
      const line = item.value.range ? lc.linePos(item.value.range[0]).line : 1;
      if (item.value.range) ranges.push([item.value.range[0], item.value.range[1]]);
      // Rendered as an assignment so contextual rules see the key name too.
      out.push({ text: `${key}: "${decoded}"`, lineOffset: line - 1, within: `Secret data ${key} (base64-decoded)` });
    }
  }
  let masked = text;
  for (const [a, b] of ranges) masked = masked.slice(0, a) + masked.slice(a, b).replace(/[^\n]/g, ' ') + masked.slice(b);
  return { masked, segments: out };
}
