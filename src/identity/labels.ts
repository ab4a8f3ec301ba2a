import { errors } from '../platform/http/errors.js';
import { MAX_LABELS } from './fields.schemas.js';

// Label updates. `labels` replaces the whole set (what a PATCH of a map means); `labels_add` and
// `labels_remove` change single keys and leave the rest alone. Mixing the two would make "which wins"
// a guess, so it is refused. Pure: the services store what this returns.

export interface LabelPatch {
  labels?: Record<string, string>;
  labels_add?: Record<string, string>;
  labels_remove?: string[];
}

/** The label set after a patch, or undefined when the patch does not touch labels. */
export function nextLabels(current: Record<string, string>, patch: LabelPatch): Record<string, string> | undefined {
  const incremental = patch.labels_add !== undefined || patch.labels_remove !== undefined;
  if (patch.labels !== undefined && incremental) {
    throw errors.validation('give either labels (replaces the whole set) or labels_add/labels_remove, not both');
  }
  if (patch.labels !== undefined) return { ...patch.labels };
  if (!incremental) return undefined;
  const removed = new Set(patch.labels_remove ?? []);
  const added = patch.labels_add ?? {};
  const clash = Object.keys(added).filter((k) => removed.has(k));
  if (clash.length) throw errors.validation(`a label cannot be added and removed at once: ${clash.join(', ')}`);
  const next: Record<string, string> = {};
  for (const [k, v] of Object.entries(current)) if (!removed.has(k)) next[k] = v;
  Object.assign(next, added);
  if (Object.keys(next).length > MAX_LABELS) throw errors.validation(`at most ${MAX_LABELS} labels; this change would leave ${Object.keys(next).length}`);
  return next;
}

/** Same content, whatever the key order: a no-op label change records nothing. */
export function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && b[k] === a[k]);
}

/** A `label=key=value` list filter: the first `=` splits key from value (values may contain `=`). */
export function parseLabelFilter(filter: string | undefined): { key: string; value: string } | undefined {
  if (!filter) return undefined;
  const i = filter.indexOf('=');
  return i < 0 ? undefined : { key: filter.slice(0, i), value: filter.slice(i + 1) };
}
