import type { Kysely } from 'kysely';
import type { AccessRequestsTable, DB } from '../../platform/store/schema.js';

// Thin queries over the break-glass rows of access_requests (kind 'break_glass'); no rules live here. Every query
// names the kind, so this part never reads or changes an ordinary access or registration request (those belong
// to the requests part, which shares the table). Closing a review is a conditional update — only an open review
// closes — so two reviewers racing cannot both close it, and nothing else ever reopens one.

type Q = Kysely<DB>;

export type BreakGlassRow = AccessRequestsTable;

const KIND = 'break_glass' as const;

export async function insertBreakGlass(db: Q, row: BreakGlassRow): Promise<void> {
  await db.insertInto('access_requests').values({ ...row, kind: KIND }).execute();
}

export async function findBreakGlass(db: Q, id: string): Promise<BreakGlassRow | undefined> {
  return db.selectFrom('access_requests').selectAll().where('kind', '=', KIND).where('id', '=', id).executeTakeFirst();
}

export async function listBreakGlass(db: Q, q: { afterId?: string; limit: number; review?: 'open' | 'closed'; userId?: string }): Promise<BreakGlassRow[]> {
  let query = db.selectFrom('access_requests').selectAll().where('kind', '=', KIND);
  if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
  if (q.review !== undefined) query = query.where('review_status', '=', q.review);
  if (q.userId !== undefined) query = query.where('subject_id', '=', q.userId);
  return query.orderBy('id').limit(q.limit).execute();
}

/** Closes an open review; whether this call closed it. */
export async function closeReview(db: Q, id: string, change: { finding: string; by: string; at: string }): Promise<boolean> {
  const r = await db.updateTable('access_requests')
    .set({ review_status: 'closed', review_finding: change.finding, review_closed_by: change.by, review_closed_at: change.at, updated_at: change.at })
    .where('kind', '=', KIND).where('id', '=', id).where('review_status', '=', 'open')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function touch(db: Q, id: string, at: string): Promise<void> {
  await db.updateTable('access_requests').set({ updated_at: at }).where('kind', '=', KIND).where('id', '=', id).execute();
}
