import { sql, type Kysely } from 'kysely';
import type { DB, ReviewCampaignsTable, ReviewItemsTable } from '../../platform/store/schema.js';

// Thin queries over review_campaigns and review_items (migration 0007); no rules live here, and no other module's
// table is read: what a review shows of its principal and reviewers was copied into the item's snapshot when it
// was created (the registry is asked through the ApprovalDirectory port, inside the caller's transaction).

type Q = Kysely<DB>;

export type CampaignRow = ReviewCampaignsTable;
export type ItemRow = ReviewItemsTable & {
  campaign_name: string;
  campaign_status: ReviewCampaignsTable['status'];
  due_at: string;
  grace_until: string;
};

function selectItems(db: Q) {
  return db.selectFrom('review_items as i')
    .innerJoin('review_campaigns as c', 'c.id', 'i.campaign_id')
    .selectAll('i')
    .select(['c.name as campaign_name', 'c.status as campaign_status', 'c.due_at', 'c.grace_until']);
}

export async function insertCampaign(db: Q, row: CampaignRow): Promise<void> {
  await db.insertInto('review_campaigns').values(row).execute();
}

export async function findCampaign(db: Q, id: string): Promise<CampaignRow | undefined> {
  return db.selectFrom('review_campaigns').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The open campaign of this name started by this actor label (the scheduler's campaign of the day). */
export async function findOpenCampaignByName(db: Q, name: string, createdBy: string): Promise<CampaignRow | undefined> {
  return db.selectFrom('review_campaigns').selectAll()
    .where('name', '=', name).where('created_by', '=', createdBy).where('status', '=', 'open')
    .orderBy('id', 'desc').executeTakeFirst();
}

export async function listCampaigns(db: Q, q: { status?: CampaignRow['status']; afterId?: string; limit: number }): Promise<CampaignRow[]> {
  let query = db.selectFrom('review_campaigns').selectAll();
  if (q.status !== undefined) query = query.where('status', '=', q.status);
  if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
  return query.orderBy('id').limit(q.limit).execute();
}

/** Closes an open campaign; whether this call closed it. */
export async function closeCampaign(db: Q, id: string, at: string): Promise<boolean> {
  const r = await db.updateTable('review_campaigns').set({ status: 'closed', closed_at: at }).where('id', '=', id).where('status', '=', 'open').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Item counts by campaign and status. */
export async function statusCounts(db: Q, campaignIds: readonly string[]): Promise<Array<{ campaign_id: string; status: ItemRow['status']; n: number }>> {
  if (campaignIds.length === 0) return [];
  const rows = await db.selectFrom('review_items')
    .select(['campaign_id', 'status', sql<number | string>`count(*)`.as('n')])
    .where('campaign_id', 'in', [...campaignIds])
    .groupBy(['campaign_id', 'status'])
    .execute();
  return rows.map((r) => ({ campaign_id: r.campaign_id, status: r.status, n: Number(r.n) }));
}

export async function pendingCount(db: Q, campaignId: string): Promise<number> {
  const r = await db.selectFrom('review_items').select(sql<number | string>`count(*)`.as('n'))
    .where('campaign_id', '=', campaignId).where('status', '=', 'pending').executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** Open campaigns without a pending item (closed by the sweep). */
export async function openCampaignsWithoutPending(db: Q, limit: number): Promise<CampaignRow[]> {
  return db.selectFrom('review_campaigns as c').selectAll('c')
    .where('c.status', '=', 'open')
    .where(({ not, exists, selectFrom }) => not(exists(
      selectFrom('review_items as i').select('i.id').whereRef('i.campaign_id', '=', 'c.id').where('i.status', '=', 'pending'),
    )))
    .orderBy('c.id').limit(limit).execute();
}

export async function insertItem(db: Q, row: ReviewItemsTable): Promise<void> {
  await db.insertInto('review_items').values(row).execute();
}

export async function findItem(db: Q, id: string): Promise<ItemRow | undefined> {
  return selectItems(db).where('i.id', '=', id).executeTakeFirst();
}

export interface ItemFilter {
  campaignId?: string;
  status?: ItemRow['status'];
  principalId?: string;
  /** Only items sent to this person or to one of these teams. */
  reviewer?: { principalId: string; teamIds: readonly string[] };
  afterId?: string;
  limit: number;
}

export async function listItems(db: Q, q: ItemFilter): Promise<ItemRow[]> {
  let query = selectItems(db);
  if (q.campaignId !== undefined) query = query.where('i.campaign_id', '=', q.campaignId);
  if (q.status !== undefined) query = query.where('i.status', '=', q.status);
  if (q.principalId !== undefined) query = query.where('i.principal_id', '=', q.principalId);
  if (q.reviewer) {
    const { principalId, teamIds } = q.reviewer;
    query = query.where((eb) => eb.or([
      eb('i.reviewer_id', '=', principalId),
      ...(teamIds.length ? [eb('i.reviewer_team_id', 'in', [...teamIds])] : []),
    ]));
  }
  if (q.afterId !== undefined) query = query.where('i.id', '>', q.afterId);
  return query.orderBy('i.id').limit(q.limit).execute();
}

/** Principals that have an item in an open campaign (decided or not): none is put in a second open campaign. */
export async function principalsInOpenCampaigns(db: Q): Promise<Set<string>> {
  const rows = await db.selectFrom('review_items as i').innerJoin('review_campaigns as c', 'c.id', 'i.campaign_id')
    .select('i.principal_id').distinct().where('c.status', '=', 'open').execute();
  return new Set(rows.map((r) => r.principal_id));
}

/** Pending items of open campaigns past their due date that were not yet reminded. */
export async function overdueUnnotified(db: Q, now: string, limit: number): Promise<ItemRow[]> {
  return selectItems(db)
    .where('c.status', '=', 'open').where('i.status', '=', 'pending').where('c.due_at', '<', now)
    .where((eb) => eb.or([eb('i.notified', 'is', null), eb('i.notified', 'not like', '%"overdue"%')]))
    .orderBy('i.id').limit(limit).execute();
}

/** Pending items of open campaigns past their grace period. */
export async function pastGrace(db: Q, now: string, limit: number): Promise<ItemRow[]> {
  return selectItems(db)
    .where('c.status', '=', 'open').where('i.status', '=', 'pending').where('c.grace_until', '<', now)
    .orderBy('i.id').limit(limit).execute();
}

/** Records a decision or a lapse on a pending item; whether this call did (false: decided meanwhile). */
export async function settleItem(db: Q, id: string, patch: Pick<ReviewItemsTable, 'status' | 'decided_by' | 'decided_at' | 'decision_reason' | 'applied'>): Promise<boolean> {
  const r = await db.updateTable('review_items').set(patch).where('id', '=', id).where('status', '=', 'pending').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function setNotified(db: Q, id: string, notified: string): Promise<void> {
  await db.updateTable('review_items').set({ notified }).where('id', '=', id).execute();
}
