// Checks the `audit_delegation` rows (one per principal in an event's actor chain, used by
// `delegation_ancestor` queries) against the canonical events, without a pass over the table per event.
//
// The table's key is (principal_id, seq), so rows cannot be read by seq range cheaply. Instead:
//   1. every row is valid: its event exists and its principal is the acting principal (the column,
//      itself checked against the canonical event) or in the event's delegation chain. Only rows whose
//      principal is not the acting principal need the chain, so one join reads the few of them;
//   2. the number of rows for events [from, to) equals the number the events require (counted while the
//      events are checked). Valid and distinct (the key) with the right total means each event has
//      exactly its rows. Only when the total is short is the first event missing rows looked for.
import { acknowledge, type VerifyProblem, type VerifyReport } from './verify-log.js';
import { expectedDelegation, indexedFields } from './stored-row.js';

type MaybePromise<T> = T | Promise<T>;

export type DelegationReader = {
  /** Rows with seq ≥ from whose event is missing or whose principal is not the event's acting principal column, by seq. */
  suspicious(from: number): MaybePromise<Iterable<readonly [number, string, string | null]>>;
  /** Number of rows with seq in [from, to). */
  count(from: number, to: number): MaybePromise<number>;
  /** Every row with seq in [from, to), ordered by seq (only read when the count is short). */
  rows(from: number, to: number): MaybePromise<Iterable<readonly [number, string]>>;
  /** Canonical events with seq in [from, to), ordered by seq (only read when the count is short). */
  events(from: number, to: number): MaybePromise<Iterable<readonly [number, string]>>;
};

const problem = (seq: number, message: string): VerifyProblem => ({ kind: 'column-edited', seq, column: 'audit_delegation', message });

/** Problems in the delegation rows of events [from, to), which required `expected` rows in all. */
export async function checkDelegation(reader: DelegationReader, from: number, to: number, expected: number, max = 100): Promise<VerifyProblem[]> {
  const out: VerifyProblem[] = [];
  for (const [seq, principal, canonical] of await reader.suspicious(from)) {
    if (out.length >= max) break;
    if (canonical === null) {
      out.push(problem(seq, `a delegation row names principal ${principal} for event ${seq}, which is not stored`));
      continue;
    }
    if (!expectedDelegation(indexedFields(canonical)).includes(principal)) {
      out.push(problem(seq, `event ${seq}: a delegation row names principal ${principal}, who is not in the event's actor or delegation chain (delegation_ancestor queries would find it wrongly)`));
    }
  }
  if (to <= from) return out;
  const stored = await reader.count(from, to);
  if (stored >= expected) return out;
  // Some event lacks a row: find the first, comparing row sets event by event.
  const bySeq = new Map<number, Set<string>>();
  for (const [seq, principal] of await reader.rows(from, to)) {
    const set = bySeq.get(seq);
    if (set) set.add(principal);
    else bySeq.set(seq, new Set([principal]));
  }
  for (const [seq, canonical] of await reader.events(from, to)) {
    const want = expectedDelegation(indexedFields(canonical));
    const have = bySeq.get(seq);
    const missing = want.find((p) => !have?.has(p));
    if (missing !== undefined) {
      out.push(problem(seq, `event ${seq}: the delegation row for principal ${missing} is missing (delegation_ancestor queries would not find the event)`));
      break;
    }
  }
  return out;
}

/** Adds problems found apart from the checker (delegation rows) to its report, keeping one problem per seq and kind order. */
export function withProblems(report: VerifyReport, extra: readonly VerifyProblem[], max = 100): VerifyReport {
  if (extra.length === 0) return report;
  const named = new Set(report.problems.map((p) => p.seq));
  const problems = [...report.problems];
  for (const p of extra) {
    if (problems.length >= max) break;
    if (p.seq !== null && named.has(p.seq)) continue;
    problems.push(p);
  }
  const seqs = problems.map((p) => p.seq).filter((s): s is number => s !== null);
  return acknowledge({ ...report, problems, firstBadSeq: seqs.length > 0 ? Math.min(...seqs) : null });
}

/** The SQLite fast path's raw statements (verify-sqlite-fast.ts); the query-builder twin is delegationReader in audit.repo.ts. */
export const DELEGATION_SQL = {
  suspicious: `select d.seq, d.principal_id, e.canonical from audit_delegation d left join audit_events e on e.seq = d.seq
    where d.seq >= ? and (e.seq is null or e.actor_principal_id is null or d.principal_id <> e.actor_principal_id) order by d.seq, d.principal_id`,
  count: 'select count(*) from audit_delegation where seq >= ? and seq < ?',
  rows: 'select seq, principal_id from audit_delegation where seq >= ? and seq < ? order by seq',
  events: 'select seq, canonical from audit_events where seq >= ? and seq < ? order by seq',
} as const;
