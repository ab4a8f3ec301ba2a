import type { TargetKind } from './limits.js';

// What the limits part needs of the registry, declared here and provided by the composition root: whether a
// principal, team or resource exists, and its name. The limits part never reads identity's tables.

export interface LimitTarget {
  id: string;
  name: string;
}

export interface LimitTargets {
  /** A principal, team or resource by id or name (a UUID is an id); undefined when there is none. */
  find(kind: TargetKind, ref: string): Promise<LimitTarget | undefined>;
  /** Names by id, for views; an id with no entry (a target removed since) is shown without a name. */
  names(kind: TargetKind, ids: readonly string[]): Promise<Map<string, string>>;
}
