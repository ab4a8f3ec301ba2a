// The tree state (size and frontier) that pruning, verification and the checkpointer share, and where
// each is kept in `meta`:
//   audit_pruned_state    the tree state where the stored log begins after retention pruning
//   audit_verified_state  the tree state the server last verified and signed a checkpoint for (start-up
//                         re-verifies only what came after it; see integrity.ts)
import type { Database } from '../platform/store/db.js';
import { getMeta } from '../platform/store/meta.repo.js';
import { hashChildren, emptyRoot } from './merkle.js';
import type { TreeState } from './tree-builder.js';

export interface SerializedState {
  size: number;
  frontier: string[];
}

export const PRUNED_STATE_KEY = 'audit_pruned_state';
export const VERIFIED_STATE_KEY = 'audit_verified_state';

export const serializeState = (s: TreeState): SerializedState => ({ size: s.size, frontier: s.frontier.map((h) => h.toString('base64')) });
export const parseState = (s: SerializedState): TreeState => ({ size: s.size, frontier: s.frontier.map((h) => Buffer.from(h, 'base64')) });

/** Root of the tree a state describes (frontier folded right to left). */
export function stateRoot(s: TreeState): Buffer {
  if (s.frontier.length === 0) return emptyRoot();
  let r = s.frontier[s.frontier.length - 1]!;
  for (let i = s.frontier.length - 2; i >= 0; i--) r = hashChildren(s.frontier[i]!, r);
  return Buffer.from(r);
}

async function readState(db: Database, key: string): Promise<TreeState | undefined> {
  const value = await getMeta(db.kysely, key);
  if (value === undefined) return undefined;
  try {
    const s = JSON.parse(value) as SerializedState;
    if (!Number.isSafeInteger(s.size) || !Array.isArray(s.frontier)) return undefined;
    return parseState(s);
  } catch {
    return undefined;
  }
}

/** The tree state where the stored log begins (size 0 unless a prefix was pruned). */
export const prunedState = (db: Database) => readState(db, PRUNED_STATE_KEY);

/** The tree state at the last checkpoint the server verified and signed (undefined before the first). */
export const verifiedState = (db: Database) => readState(db, VERIFIED_STATE_KEY);
