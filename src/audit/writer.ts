import crypto from 'node:crypto';
import type { AuditEventsTable } from '../platform/store/schema.js';
import { actorName, type Actor } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import type { Trx, WriteBatch } from '../platform/store/db.js';
import type { IdGenerator } from '../platform/ids.js';
import type { KeyRing } from '../platform/keys.js';
import { AppError } from '../platform/http/errors.js';
import { putMeta } from '../platform/store/meta.repo.js';
import * as repo from './audit.repo.js';
import { canonicalBytes } from './canonical.js';
import { hashLeaf } from './merkle.js';
import { INTEGRITY_KEY, integrityError, NEXT_SEQ_KEY, parseFailure, type IntegrityFailure } from './integrity.js';

// The one writer every module records through. An event is inserted inside the same group-committed
// transaction as the change it describes, so a change is never durable without its record and the
// response is sent only after both are committed (audit before response).

export interface AuditInput {
  type: string;
  actor: Actor;
  action: string;
  target?: { type: string; id: string | null; name?: string | null } | null;
  decision?: 'allow' | 'deny' | null;
  reasons?: string[];
  policyVersion?: string | null;
  purpose?: string | null;
  outcome: 'success' | 'failure';
  /** Structured facts about the change. Never put a secret here: use hmac() for values that must be matchable. */
  details?: Record<string, unknown>;
}

export interface AuditEvent {
  v: 1;
  seq: number;
  id: string;
  time: string;
  type: string;
  action: string;
  actor: {
    principal_id: string | null;
    principal_name: string | null;
    credential_id: string | null;
    auth_method: string;
    role: string | null;
    delegation_chain: string[];
  };
  target: { type: string; id: string | null; name: string | null } | null;
  decision: 'allow' | 'deny' | null;
  reasons: string[];
  policy_version: string | null;
  purpose: string | null;
  provenance: { source_ip: string | null; request_id: string | null; trace_id: string | null; user_agent: string | null };
  outcome: 'success' | 'failure';
  details: Record<string, unknown>;
}

const NEXT_SEQ = Symbol('audit.nextSeq');
const STAGED = Symbol('audit.staged');
const REFUSED = Symbol('audit.refused');
/** Batch flag set by the recovery job: its event is recorded although the log is marked as failed. */
const RECOVERING = Symbol('audit.recovering');
/** Module-private: how the recovery in audit.service.ts records its event at a chosen seq (see recoverEvent). */
export const RECORD_RECOVERY = Symbol('audit.recordRecovery');
/** Rows per multi-row insert: well under SQLite's and PostgreSQL's bound-parameter limits (12 columns each). */
const FLUSH_CHUNK = 500;

type Staged = { rows: AuditEventsTable[]; delegation: Array<{ seq: number; principal_id: string }> };

export interface AuditWriterDeps {
  keys: KeyRing;
  clock: Clock;
  newId: IdGenerator;
}

export function createAuditWriter(deps: AuditWriterDeps) {
  const hmacKey = deps.keys.deriveKey('audit-hmac');
  let lastFailure: string | undefined;
  /** The integrity failure the last batch saw, if any. */
  let integrity: Pick<IntegrityFailure, 'kind' | 'first_bad_seq' | 'message'> | undefined;

  function stagedRows(batch: WriteBatch): Staged {
    let pending = batch.state.get(STAGED) as Staged | undefined;
    if (!pending) {
      const created: Staged = { rows: [], delegation: [] };
      pending = created;
      batch.state.set(STAGED, created);
      batch.beforeCommit(STAGED, (trx) => flush(trx, created));
    }
    return pending;
  }

  async function flush(trx: Trx, pending: Staged): Promise<void> {
    try {
      for (let i = 0; i < pending.rows.length; i += FLUSH_CHUNK) {
        await repo.insertEvents(trx, pending.rows.slice(i, i + FLUSH_CHUNK));
      }
      for (let i = 0; i < pending.delegation.length; i += FLUSH_CHUNK) {
        await repo.insertDelegation(trx, pending.delegation.slice(i, i + FLUSH_CHUNK));
      }
      const last = pending.rows[pending.rows.length - 1];
      // The high-water mark commits with the events, outside their table: a deleted tail is seen, never reused.
      if (last) await putMeta(trx, NEXT_SEQ_KEY, String(last.seq + 1));
      lastFailure = undefined;
    } catch (error) {
      lastFailure = 'audit events could not be written';
      throw new AppError('audit_unavailable', 'the audit log cannot be written; nothing was changed', { cause_code: (error as { code?: string }).code ?? null });
    }
  }

  /**
   * Once per batch, in one statement: the largest stored seq, the high-water mark and the integrity record.
   * A recorded failure, or a high-water mark above the stored events (the tail was deleted), refuses the
   * write: nothing governed proceeds over a log that does not match what was acknowledged.
   */
  async function firstSeq(trx: Trx, batch: WriteBatch): Promise<number> {
    const row = await repo.maxSeqAndMeta(trx, NEXT_SEQ_KEY, INTEGRITY_KEY);
    const stored = row.max_seq === null ? 0 : Number(row.max_seq) + 1;
    const hwm = row.hwm === null ? 0 : Number(row.hwm);
    const next = Math.max(stored, Number.isSafeInteger(hwm) ? hwm : 0);
    if (batch.state.get(RECOVERING)) return next;
    let failure: Pick<IntegrityFailure, 'kind' | 'first_bad_seq' | 'message'> | undefined = parseFailure(row.integrity);
    if (!failure && stored < hwm) {
      failure = { kind: 'truncated', first_bad_seq: stored, message: `events ${stored}..${hwm - 1} were acknowledged but are no longer stored` };
    }
    if (failure) {
      integrity = failure;
      const e = integrityError(failure);
      batch.state.set(REFUSED, e);
      throw e;
    }
    integrity = undefined;
    return next;
  }

  async function nextSeq(trx: Trx, batch: WriteBatch): Promise<number> {
    // Once one job of the batch found the log refused, every later job is refused the same way.
    if (batch.state.get(REFUSED) && !batch.state.get(RECOVERING)) throw batch.state.get(REFUSED) as AppError;
    const assigned = (batch.state.get(NEXT_SEQ) as number | undefined) ?? await firstSeq(trx, batch);
    batch.state.set(NEXT_SEQ, assigned + 1);
    batch.onJobRollback(() => batch.state.set(NEXT_SEQ, assigned));
    return assigned;
  }

  return {
    /** Keyed hash of a value (a token, an IP) so events can be searched by it without storing it. */
    hmac(value: string): string {
      return crypto.createHmac('sha256', hmacKey).update(value, 'utf8').digest('hex');
    },

    /** Readiness: false after an event could not be written, or the log was found tampered, until one is written again. */
    health: () => integrity
      ? { ok: false, detail: `audit log integrity failure (${integrity.kind}${integrity.first_bad_seq !== null ? ` at seq ${integrity.first_bad_seq}` : ''}); run custos audit recover` }
      : { ok: lastFailure === undefined, detail: lastFailure },

    /**
     * Records the recovery event itself, at `atSeq` or later, although the log is marked as failed (only the
     * audited recovery calls this; see audit.service.ts). Later jobs of the same batch are still refused.
     */
    async [RECORD_RECOVERY](trx: Trx, batch: WriteBatch, input: AuditInput, atSeq: number): Promise<AuditEvent> {
      batch.state.set(RECOVERING, true);
      try {
        const first = batch.state.get(NEXT_SEQ) as number | undefined ?? await firstSeq(trx, batch);
        batch.state.set(NEXT_SEQ, Math.max(first, atSeq));
        const event = await stage(trx, batch, input);
        integrity = undefined;
        return event;
      } finally {
        batch.state.delete(RECOVERING);
      }
    },

    /**
     * Stages an event in the caller's transaction. If it cannot be written the whole change fails with 503
     * (fail closed: nothing governed proceeds unrecorded).
     */
    async record(trx: Trx, batch: WriteBatch, input: AuditInput): Promise<AuditEvent> {
      try {
        const event = await stage(trx, batch, input);
        lastFailure = undefined;
        return event;
      } catch (error) {
        if (error instanceof AppError && error.code === 'audit_integrity_failed') throw error;
        lastFailure = 'audit event could not be written';
        throw new AppError('audit_unavailable', 'the audit log cannot be written; the change was not made', { cause_code: (error as { code?: string }).code ?? null });
      }
    },
  };

  async function stage(trx: Trx, batch: WriteBatch, input: AuditInput): Promise<AuditEvent> {
      const seq = await nextSeq(trx, batch);
      const event: AuditEvent = {
        v: 1,
        seq,
        id: deps.newId(),
        time: deps.clock.now().toISOString(),
        type: input.type,
        action: input.action,
        actor: {
          principal_id: input.actor.principal?.id ?? null,
          principal_name: actorName(input.actor),
          credential_id: input.actor.credential?.id ?? null,
          auth_method: input.actor.authMethod,
          role: input.actor.role,
          delegation_chain: input.actor.delegationChain.map((link) => link.principalId),
        },
        target: input.target ? { type: input.target.type, id: input.target.id, name: input.target.name ?? null } : null,
        decision: input.decision ?? null,
        reasons: input.reasons ?? [],
        policy_version: input.policyVersion ?? null,
        purpose: input.purpose ?? null,
        provenance: {
          source_ip: input.actor.provenance.sourceIp,
          request_id: input.actor.provenance.requestId,
          trace_id: input.actor.provenance.traceId,
          user_agent: input.actor.provenance.userAgent,
        },
        outcome: input.outcome,
        details: input.details ?? {},
      };
      const canonical = canonicalBytes(event);
      const row = {
        seq,
        id: event.id,
        time: event.time,
        type: event.type,
        actor_principal_id: event.actor.principal_id,
        actor_credential_id: event.actor.credential_id,
        target_type: event.target?.type ?? null,
        target_id: event.target?.id ?? null,
        decision: event.decision,
        outcome: event.outcome,
        canonical: canonical.toString('utf8'),
        leaf_hash: hashLeaf(canonical).toString('hex'),
      };
      // Rows are staged and written by one multi-row insert just before the batch commits (same transaction,
      // so still all-or-nothing with the change); a job that rolls back takes its rows back out.
      const pending = stagedRows(batch);
      const before = { rows: pending.rows.length, delegation: pending.delegation.length };
      pending.rows.push(row);
      const chain = new Set([...event.actor.delegation_chain, ...(event.actor.principal_id ? [event.actor.principal_id] : [])]);
      for (const principal_id of chain) pending.delegation.push({ seq, principal_id });
      batch.onJobRollback(() => {
        pending.rows.length = before.rows;
        pending.delegation.length = before.delegation;
      });
      return event;
  }
}

export type AuditWriter = ReturnType<typeof createAuditWriter>;
