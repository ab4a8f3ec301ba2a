// The log's integrity state, kept in `meta` so every node of a PostgreSQL deployment, and every restart,
// sees it:
//   audit_next_seq    high-water mark: the next sequence number to assign, written in the same transaction
//                     as the events. Kept outside the events table, so deleting the tail of the log
//                     (even past the last signed checkpoint) is seen, and numbers are never reused.
//   audit_integrity   the first integrity failure found (JSON). While it is present every audit.record
//                     fails with audit_integrity_failed and /readyz is red; only the audited recovery
//                     (`custos audit recover`) removes it, recording what it said in its event.
import type { Database, Trx } from '../platform/store/db.js';
import { AppError } from '../platform/http/errors.js';
import { getMeta, insertMetaIfAbsent, putMeta } from '../platform/store/meta.repo.js';

export const NEXT_SEQ_KEY = 'audit_next_seq';
export const INTEGRITY_KEY = 'audit_integrity';

export type IntegrityKind =
  | 'edited' | 'column-edited' | 'deleted' | 'reordered' | 'truncated' | 'bad-checkpoint'
  /** Stored subtree hashes (audit_nodes) disagree with the events or the latest signed root. */
  | 'nodes'
  /** The verified-up-to marker does not match the signed checkpoint at its size. */
  | 'marker';

export interface IntegrityFailure {
  kind: IntegrityKind;
  /** First bad sequence number, when it can be named. */
  first_bad_seq: number | null;
  message: string;
  detected_at: string;
  /** Where the detection ran: start-up (from the verified marker), while integrating, or the writer. */
  detected_by: 'start' | 'checkpointer' | 'writer' | 'recover';
}

export function integrityError(f: Pick<IntegrityFailure, 'kind' | 'first_bad_seq' | 'message'>): AppError {
  return new AppError('audit_integrity_failed', `the audit log does not match its signed checkpoints (${f.kind}${f.first_bad_seq !== null ? ` at seq ${f.first_bad_seq}` : ''}: ${f.message}); governed writes are refused until \`custos audit recover\``, { kind: f.kind, first_bad_seq: f.first_bad_seq });
}

export function parseFailure(value: string | null | undefined): IntegrityFailure | undefined {
  if (value === null || value === undefined) return undefined;
  try {
    const f = JSON.parse(value) as IntegrityFailure;
    if (f && typeof f === 'object' && typeof f.kind === 'string') return f;
  } catch {
    // Unreadable: still a failure (someone wrote it), named as such.
  }
  return { kind: 'edited', first_bad_seq: null, message: 'the stored integrity record is unreadable', detected_at: new Date(0).toISOString(), detected_by: 'start' };
}

export async function readFailure(db: Database | Trx): Promise<IntegrityFailure | undefined> {
  const k = 'kysely' in db ? db.kysely : db;
  return parseFailure(await getMeta(k, INTEGRITY_KEY));
}

/** Records a failure unless one is already recorded (the first finding is the evidence kept). */
export async function persistFailure(db: Database, f: IntegrityFailure): Promise<void> {
  await db.write(async (trx) => {
    await insertMetaIfAbsent(trx, INTEGRITY_KEY, JSON.stringify(f));
  });
}

export async function readNextSeq(db: Database | Trx): Promise<number | undefined> {
  const k = 'kysely' in db ? db.kysely : db;
  const value = await getMeta(k, NEXT_SEQ_KEY);
  const n = value !== undefined ? Number(value) : NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}
