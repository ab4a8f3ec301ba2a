// The audited recovery (`custos audit recover`, POST /v1/audit/recover): the only way out of an
// integrity failure, designed so it cannot hide what was found.
//
// 1. What is wrong: the failure recorded by the server (start-up, checkpointer or writer), or, when none
//    is recorded, a fresh strict check; with neither there is nothing to recover (409).
// 2. Everything wrong: a full verification of the stored log (every event, column, delegation row and
//    checkpoint). Its problems are written into the recovery event; later verifiers mark exactly those
//    (kind and seq) as acknowledged and nothing else, so tampering after or beside a recovery still fails.
// 3. Where to resume: the tree from the verified marker (or the pruned prefix), extended over the stored
//    events with their stored leaf hashes up to the first gap, then zero "tombstone" leaves up to R, the
//    first sequence number never used: max(stored events, high-water mark, largest signed size). So
//    numbers are never reused, and a truncation below a signed checkpoint keeps the original tree.
// 4. One transaction: the integrity record is removed, the `audit.recovered` event is written at R
//    carrying the finding, the problems, the resume tree state and the evidence (stored end, high-water
//    mark, largest signed size, marker); a checkpoint is signed at R+1 over the resumed tree plus that
//    event, and the verified marker moves there. Old checkpoints and rows are left as they are: evidence.
//    Verifiers that reach a gap followed by the recovery event resume from its tree state (verify-log.ts).
import type { Actor } from '../platform/actor.js';
import type { Database } from '../platform/store/db.js';
import { AppError } from '../platform/http/errors.js';
import { deleteMeta, putMeta } from '../platform/store/meta.repo.js';
import * as repo from './audit.repo.js';
import { canonicalBytes } from './canonical.js';
import { signCheckpoint } from './checkpoint.js';
import { INTEGRITY_KEY, readFailure, readNextSeq, type IntegrityFailure } from './integrity.js';
import type { LogKey } from './log-key.js';
import { createLogScanner } from './log-scanner.js';
import { hashLeaf, HASH_SIZE } from './merkle.js';
import { createTreeBuilder } from './tree-builder.js';
import { serializeState, VERIFIED_STATE_KEY } from './tree-state.js';
import { verifyDatabase } from './verify-store.js';
import { RECORD_RECOVERY, type AuditWriter } from './writer.js';

export interface RecoveryResult {
  found: Omit<IntegrityFailure, 'detected_at' | 'detected_by'> & Partial<Pick<IntegrityFailure, 'detected_at' | 'detected_by'>>;
  problems: number;
  event_seq: number;
  resumed_at: number;
  tombstones: [number, number] | null;
  checkpoint: string;
}

export async function recoverLog(deps: { db: Database; key: LogKey; audit: AuditWriter }, actor: Actor, reason: string): Promise<RecoveryResult> {
  const { db, key } = deps;
  let found: RecoveryResult['found'] | undefined = await readFailure(db);
  // One full verification serves both the search for a finding and the list of problems recorded below.
  let full: Awaited<ReturnType<typeof verifyDatabase>> | undefined;
  if (!found) {
    const strict = createLogScanner({ db, key });
    let f = (await strict.open()) ?? (await strict.integrate());
    if (!f && (strict.signedAhead() ?? 0) > strict.tree.size) {
      f = { kind: 'truncated', first_bad_seq: strict.tree.size, message: `the log holds ${strict.tree.size} events but a checkpoint it signed covers ${strict.signedAhead()}` };
    }
    f ??= await strict.latestRootCheck();
    if (!f) {
      full = await verifyDatabase(db, key.vkey, []);
      const p = full.problems.find((x) => x.acknowledgedBy === undefined);
      if (p) f = { kind: p.kind === 'split-view' || p.kind === 'rollback' ? 'bad-checkpoint' : p.kind, first_bad_seq: p.seq, message: p.message };
    }
    if (!f) throw new AppError('recovery_not_needed', 'the audit log verifies against its checkpoints and nothing is recorded as wrong; nothing was changed');
    found = f;
  }

  full ??= await verifyDatabase(db, key.vkey, []);
  const problems = full.problems.filter((p) => p.acknowledgedBy === undefined).map((p) => ({ kind: p.kind, seq: p.seq, ...(p.column ? { column: p.column } : {}), message: p.message }));

  const scanner = createLogScanner({ db, key, lenient: true });
  await scanner.open();
  await scanner.integrate();
  const t = scanner.tree;
  const contiguous = t.size;
  const maxStored = await repo.maxSeq(db.kysely);
  const hwm = (await readNextSeq(db)) ?? 0;
  const latest = await repo.latestCheckpoint(db.kysely);
  const largestSigned = latest ? Number(latest.tree_size) : 0;
  const resumeAt = Math.max(contiguous, maxStored + 1, hwm, largestSigned);
  const zero = Buffer.alloc(HASH_SIZE);
  for (let i = contiguous; i < resumeAt; i++) t.append(zero);
  const resume = t.state();
  const nodesBefore = scanner.takeNodes();
  const counts = await repo.storedNodeCounts(db.kysely);

  const out = await db.write(async (trx, batch) => {
    await deleteMeta(trx, INTEGRITY_KEY);
    const event = await deps.audit[RECORD_RECOVERY](trx, batch, {
      type: 'audit.recovered', action: 'audit.recover', actor, outcome: 'success',
      details: {
        reason,
        found: { kind: found.kind, first_bad_seq: found.first_bad_seq, message: found.message, detected_at: found.detected_at ?? null, detected_by: found.detected_by ?? 'recover' },
        problems: problems.slice(0, 100),
        resume_state: serializeState(resume),
        evidence: {
          verified_marker_size: scanner.start.size, contiguous_events_end: contiguous, stored_events_end: maxStored + 1,
          high_water_mark: hwm, largest_signed_size: largestSigned, latest_signed_root: latest ? Buffer.from(latest.root_hash, 'hex').toString('base64') : null,
          tombstones: resumeAt > contiguous ? [contiguous, resumeAt] : null,
        },
      },
    }, resumeAt);
    if (event.seq !== resumeAt) throw new Error(`recovery event got seq ${event.seq}, expected ${resumeAt}`);
    // The tree over the resumed state and this event (rebuilt here: a job may run twice).
    const nodes = nodesBefore.filter((n) => n.idx >= (counts.get(n.level) ?? 0));
    const tree = createTreeBuilder({
      state: resume, nodeLevels: repo.STORED_NODE_LEVELS,
      onNode: (level, idx, hash) => { if (idx >= (counts.get(level) ?? 0)) nodes.push({ level, idx, hash: hash.toString('hex') }); },
    });
    tree.append(hashLeaf(canonicalBytes(event)));
    const size = tree.size;
    const root = tree.root();
    const note = signCheckpoint({ origin: key.origin, size, rootHash: root }, key.signer);
    for (let i = 0; i < nodes.length; i += 500) await repo.insertNodesIfAbsent(trx, nodes.slice(i, i + 500));
    await repo.insertCheckpoint(trx, { tree_size: size, root_hash: root.toString('hex'), time: event.time, note });
    await putMeta(trx, VERIFIED_STATE_KEY, JSON.stringify(serializeState(tree.state())));
    return { event, note };
  });
  return {
    found, problems: problems.length, event_seq: out.event.seq, resumed_at: resumeAt,
    tombstones: resumeAt > contiguous ? [contiguous, resumeAt] : null, checkpoint: out.note,
  };
}
