import crypto from 'node:crypto';
import type { Actor } from '../platform/actor.js';
import type { Database } from '../platform/store/db.js';
import { AppError } from '../platform/http/errors.js';
import { deleteMeta, insertMeta } from '../platform/store/meta.repo.js';
import * as repo from './audit.repo.js';
import { openCheckpoint, parseVerifierKey, signCheckpoint } from './checkpoint.js';
import type { LogKey } from './log-key.js';
import { hashLeafText, verifyConsistency } from './merkle.js';
import { createTreeBuilder, proveConsistency, rootAt } from './tree-builder.js';
import { parseState, prunedState, serializeState, type SerializedState } from './tree-state.js';
import type { AuditWriter } from './writer.js';

// Retention: a range [from, to) of the log is written to an archive file that can be verified on its own
// (it carries the tree state where it starts and the signed checkpoint where it ends), and only then pruned.
// The store keeps the tree state at the prune point, so the remaining log still verifies.

export const ARCHIVE_FORMAT = 'custos-audit-archive/v1';
/** Archives end on a multiple of 256 events, so proofs for later events use the stored level-8 subtree hashes. */
export const ARCHIVE_ALIGNMENT = 256;

export interface AuditArchive {
  format: typeof ARCHIVE_FORMAT;
  origin: string;
  vkey: string;
  from_seq: number;
  to_seq: number;
  start_state: SerializedState;
  end_state: SerializedState;
  /** Signed checkpoint at to_seq: the archived events' root. */
  checkpoint: string;
  /** Proof that the archived tree is a prefix of the live log at archive time. */
  consistency: { to_size: number; proof: string[]; checkpoint: string };
  /** Canonical events, in order: each one's leaf hash is SHA-256(0x00 || UTF-8 bytes). */
  events: string[];
}

export function archiveDigest(archive: AuditArchive): string {
  const h = crypto.createHash('sha256');
  h.update(`${archive.from_seq}:${archive.to_seq}:${archive.checkpoint}`);
  for (const e of archive.events) h.update(hashLeafText(e));
  return h.digest('hex');
}

/** Checks an archive with the public key alone: signature, start state, every event, end state. */
export function verifyArchive(archive: AuditArchive, vkey: string): { ok: true; events: number } | { ok: false; reason: string } {
  if (archive.format !== ARCHIVE_FORMAT) return { ok: false, reason: `not a ${ARCHIVE_FORMAT} file` };
  let cp;
  try {
    cp = openCheckpoint(archive.checkpoint, parseVerifierKey(vkey));
  } catch (error) {
    return { ok: false, reason: `checkpoint does not verify: ${(error as Error).message}` };
  }
  if (cp.size !== archive.to_seq) return { ok: false, reason: 'checkpoint size does not match the archive end' };
  if (archive.start_state.size !== archive.from_seq || archive.events.length !== archive.to_seq - archive.from_seq) {
    return { ok: false, reason: 'archive range and event count disagree' };
  }
  const tree = createTreeBuilder(archive.from_seq > 0 ? { state: parseState(archive.start_state) } : {});
  for (let i = 0; i < archive.events.length; i++) {
    const e = archive.events[i]!;
    let seq: unknown;
    try { seq = (JSON.parse(e) as { seq?: unknown }).seq; } catch { seq = undefined; }
    if (seq !== archive.from_seq + i) return { ok: false, reason: `event at position ${archive.from_seq + i} records seq ${String(seq)}` };
    tree.append(hashLeafText(e));
  }
  if (!tree.root().equals(cp.rootHash)) return { ok: false, reason: 'archived events do not hash to the signed root' };
  const end = serializeState(tree.state());
  if (JSON.stringify(end) !== JSON.stringify(archive.end_state)) return { ok: false, reason: 'end state does not match the events' };
  // The archived tree is a prefix of the log as it was signed later.
  try {
    const later = openCheckpoint(archive.consistency.checkpoint, parseVerifierKey(vkey));
    const proof = archive.consistency.proof.map((p) => Buffer.from(p, 'base64'));
    const consistent = verifyConsistency(cp.size, later.size, proof, cp.rootHash, later.rootHash);
    if (later.size !== archive.consistency.to_size || !consistent.ok) return { ok: false, reason: 'the archive is not a prefix of the later signed log' };
  } catch (error) {
    return { ok: false, reason: `later checkpoint does not verify: ${(error as Error).message}` };
  }
  return { ok: true, events: archive.events.length };
}

export function createRetention(deps: { db: Database; key: LogKey; audit: AuditWriter; latestCheckpointSize: () => Promise<number> }) {
  const { db, key } = deps;

  return {
    async buildArchive(toSeq: number): Promise<AuditArchive> {
      const start = (await prunedState(db)) ?? { size: 0, frontier: [] };
      const latest = await deps.latestCheckpointSize();
      if (toSeq % ARCHIVE_ALIGNMENT !== 0) throw new AppError('archive_unaligned', `archives end on a multiple of ${ARCHIVE_ALIGNMENT} events; ${toSeq} is not`);
      if (toSeq <= start.size) throw new AppError('archive_empty', `events before ${start.size} are already pruned`);
      if (toSeq >= latest) throw new AppError('archive_too_recent', `archives must end before the latest signed checkpoint (size ${latest})`);
      const rows = await repo.eventsBetween(db.kysely, start.size, toSeq);
      const tree = createTreeBuilder(start.size > 0 ? { state: start } : {});
      for (const r of rows) tree.append(hashLeafText(r.canonical));
      const reader = repo.hashReader(db.kysely);
      // The server signs the historical root at toSeq after checking it against the stored tree.
      const storedRoot = await rootAt(reader, toSeq);
      if (!storedRoot.equals(tree.root())) throw new AppError('archive_mismatch', 'stored events do not match the stored tree; run custos audit verify');
      let cp = await repo.checkpointAt(db.kysely, toSeq);
      if (!cp) {
        const note = signCheckpoint({ origin: key.origin, size: toSeq, rootHash: storedRoot }, key.signer);
        await db.write(async (trx) => { await repo.insertCheckpoint(trx, { tree_size: toSeq, root_hash: storedRoot.toString('hex'), time: new Date().toISOString(), note }); });
        cp = await repo.checkpointAt(db.kysely, toSeq);
      }
      const latestCp = (await repo.checkpointAt(db.kysely, latest))!;
      const consistency = await proveConsistency(reader, toSeq, latest);
      return {
        format: ARCHIVE_FORMAT, origin: key.origin, vkey: key.vkey, from_seq: start.size, to_seq: toSeq,
        start_state: serializeState(start), end_state: serializeState(tree.state()), checkpoint: cp!.note,
        consistency: { to_size: latest, proof: consistency.map((h) => h.toString('base64')), checkpoint: latestCp.note },
        events: rows.map((r) => r.canonical),
      };
    },

    /** Deletes [from, toSeq) after the caller proves (by digest) it holds the archive of exactly that range. */
    async prune(actor: Actor, toSeq: number, digest: string) {
      const archive = await this.buildArchive(toSeq);
      if (archiveDigest(archive) !== digest) throw new AppError('archive_digest_mismatch', 'the archive digest does not match the stored range; archive again before pruning');
      await db.write(async (trx, batch) => {
        await insertMeta(trx, 'audit_prune_allowed', '1');
        await repo.deleteDelegationBefore(trx, toSeq);
        await repo.deleteEventsBefore(trx, toSeq);
        await deleteMeta(trx, 'audit_prune_allowed', 'audit_pruned_state');
        await insertMeta(trx, 'audit_pruned_state', JSON.stringify(archive.end_state));
        await deps.audit.record(trx, batch, {
          type: 'audit.pruned', action: 'audit.prune', actor, outcome: 'success',
          details: { from_seq: archive.from_seq, to_seq: toSeq, archive_digest: digest, checkpoint_root: openCheckpoint(archive.checkpoint, parseVerifierKey(key.vkey)).rootHash.toString('base64') },
        });
      });
      return { pruned_from: archive.from_seq, pruned_to: toSeq };
    },
  };
}
export type Retention = ReturnType<typeof createRetention>;
