import type { Kysely } from 'kysely';
import type { AccessRequestsTable, ApprovalsTable, DB } from '../../platform/store/schema.js';

// Thin queries over access requests and their approvals; no rules live here. Break-glass rows share the table
// (break-glass/ has its own queries for them).

type Q = Kysely<DB>;

export async function insertRequest(db: Q, row: AccessRequestsTable): Promise<void> {
  await db.insertInto('access_requests').values(row).execute();
}

export async function findRequest(db: Q, id: string): Promise<AccessRequestsTable | undefined> {
  return db.selectFrom('access_requests').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Applies a change only if the request is still pending at `revision`; whether it did (a concurrent decision wins once). */
export async function updatePending(db: Q, id: string, revision: number, patch: Partial<AccessRequestsTable>): Promise<boolean> {
  const r = await db.updateTable('access_requests').set(patch).where('id', '=', id).where('status', '=', 'pending').where('revision', '=', revision).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function listRequests(db: Q, f: {
  afterId?: string; limit: number; status?: string; kind?: string; subjectId?: string; mineOf?: string; selfOf?: string;
}): Promise<AccessRequestsTable[]> {
  let q = db.selectFrom('access_requests').selectAll();
  if (f.status) q = q.where('status', '=', f.status as AccessRequestsTable['status']);
  if (f.kind) q = q.where('kind', '=', f.kind as AccessRequestsTable['kind']);
  if (f.subjectId) q = q.where('subject_id', '=', f.subjectId);
  if (f.mineOf) { const me = f.mineOf; q = q.where((eb) => eb.or([eb('requester_id', '=', me), eb('accountable_id', '=', me)])); }
  if (f.selfOf) { const me = f.selfOf; q = q.where((eb) => eb.or([eb('requester_id', '=', me), eb('subject_id', '=', me)])); }
  if (f.afterId) q = q.where('id', '>', f.afterId);
  return q.orderBy('id').limit(f.limit).execute();
}

/** Pending requests whose time ran out. */
export async function duePending(db: Q, now: string, limit: number): Promise<AccessRequestsTable[]> {
  return db.selectFrom('access_requests').selectAll().where('status', '=', 'pending').where('pending_until', '<=', now).orderBy('id').limit(limit).execute();
}

export async function insertApproval(db: Q, row: ApprovalsTable): Promise<void> {
  await db.insertInto('approvals').values(row).execute();
}

export async function approvalsOf(db: Q, requestId: string): Promise<ApprovalsTable[]> {
  return db.selectFrom('approvals').selectAll().where('request_id', '=', requestId).orderBy('id').execute();
}
