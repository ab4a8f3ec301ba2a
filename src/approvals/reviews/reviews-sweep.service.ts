import type { ApprovalsPartContext } from '../parts.js';
import { isPast, suspendsOnLapse } from './reviews.js';
import * as repo from './reviews.repo.js';
import type { ReviewService } from './reviews.service.js';

// The time-driven half of access reviews, run by the approvals module's sweep (and by tests with a manual clock):
// 1. schedule: principals whose review date has passed and that are in no open campaign get an item in the
//    scheduler's campaign of the day (`scheduled-YYYY-MM-DD`), so recertification "every N days by risk tier" never
//    waits for someone to start a campaign. Reading the registry is the costly part, so it runs at most every
//    SCHEDULE_EVERY_MS of the injected clock;
// 2. remind: pending items past their campaign's due date get one `review.overdue` notice (recorded in `notified`,
//    audited as `review.item_overdue`);
// 3. lapse: pending items past the grace period become `lapsed`; a principal of a tier in the campaign's
//    `suspend_unreviewed` (fixed when the campaign started; high and critical by default) is suspended through
//    identity, which revokes its credentials and audits it (`review.item_lapsed` names the outcome);
// 4. close: open campaigns with nothing pending close.
//
// Each item is its own db.write job (group-committed together), so one that fails — a principal decommissioned
// meanwhile, say — rolls back alone; every job re-reads its item inside the transaction, so a decision made since
// the list was read wins. The sweep throws the first failure after finishing the rest.

export const SCHEDULE_EVERY_MS = 10 * 60_000;
/** Items handled per stage and sweep: a backlog is worked off over several sweeps, never in one huge batch. */
const BATCH = 500;

async function settleAll(jobs: Array<Promise<unknown>>): Promise<void> {
  const failures = (await Promise.allSettled(jobs)).filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failures.length === 1) throw failures[0]!.reason;
  if (failures.length > 1) throw new AggregateError(failures.map((f) => f.reason), `${failures.length} review sweep jobs failed`);
}

export function createReviewSweep(ctx: ApprovalsPartContext, reviews: ReviewService) {
  const { db, audit, clock, directory } = ctx;
  let nextScheduleAt = Number.NEGATIVE_INFINITY;

  async function schedule(): Promise<void> {
    const now = clock.now().getTime();
    if (now < nextScheduleAt) return;
    await reviews.scheduleDue();
    nextScheduleAt = now + SCHEDULE_EVERY_MS;
  }

  async function remind(): Promise<void> {
    const rows = await repo.overdueUnnotified(db.kysely, clock.now().toISOString(), BATCH);
    await settleAll(rows.map((r) => db.write(async (trx, batch) => {
      const row = await repo.findItem(trx, r.id);
      if (!row || row.status !== 'pending' || row.campaign_status !== 'open') return;
      const notified = reviews.notifiedOf(row);
      if (notified.includes('overdue') || !isPast(row.due_at, clock.now())) return;
      const campaign = (await repo.findCampaign(trx, row.campaign_id))!;
      const s = reviews.snapshotOf(row);
      const recipients = await reviews.recipientsOf(trx, s.reviewer, row.reviewer_team_id);
      await ctx.notify(trx, batch, {
        type: 'review.overdue',
        data: reviews.noticeData(row.id, campaign, s, reviews.settingsOf(campaign).suspend_unreviewed),
        recipients,
      });
      await repo.setNotified(trx, row.id, JSON.stringify([...notified, 'overdue']));
      await audit.record(trx, batch, {
        type: 'review.item_overdue', action: 'review.item_overdue', actor: ctx.workflowActor(`review/${row.id}`),
        target: { type: 'review_item', id: row.id, name: s.principal.name }, outcome: 'success',
        details: { campaign: { id: campaign.id, name: campaign.name }, due_at: row.due_at, grace_until: row.grace_until, notified: recipients },
      });
    })));
  }

  async function lapse(): Promise<void> {
    const rows = await repo.pastGrace(db.kysely, clock.now().toISOString(), BATCH);
    await settleAll(rows.map((r) => db.write(async (trx, batch) => {
      const row = await repo.findItem(trx, r.id);
      if (!row || row.status !== 'pending' || row.campaign_status !== 'open' || !isPast(row.grace_until, clock.now())) return;
      const campaign = (await repo.findCampaign(trx, row.campaign_id))!;
      const rules = reviews.settingsOf(campaign);
      const s = reviews.snapshotOf(row);
      const p = await directory.principal(trx, row.principal_id);
      const tier = p?.riskTier ?? s.principal.risk_tier;
      const workflow = ctx.workflowActor(`review/${row.id}`);
      const suspend = suspendsOnLapse(rules.suspend_unreviewed, tier) && p?.status === 'active';
      if (suspend) {
        await directory.suspend(trx, batch, workflow, p.id, `access review ${row.id} in campaign '${campaign.name}' was not decided by ${row.grace_until} (due ${row.due_at}, then the grace period)`);
      }
      const applied = { lapsed: true, risk_tier: tier, suspended: suspend, status_before: p?.status ?? null, suspend_unreviewed: rules.suspend_unreviewed };
      const now = clock.now().toISOString();
      if (!(await repo.settleItem(trx, row.id, {
        status: 'lapsed', decided_by: workflow.label, decided_at: now, decision_reason: `not reviewed by ${row.grace_until}`, applied: JSON.stringify(applied),
      }))) return;
      await audit.record(trx, batch, {
        type: 'review.item_lapsed', action: 'review.item_lapsed', actor: workflow, target: { type: 'review_item', id: row.id, name: s.principal.name },
        outcome: 'success',
        details: { campaign: { id: campaign.id, name: campaign.name }, principal: { id: row.principal_id, name: s.principal.name }, due_at: row.due_at, grace_until: row.grace_until, applied },
      });
      await reviews.closeIfDone(trx, batch, workflow, campaign.id);
    })));
  }

  async function close(): Promise<void> {
    const rows = await repo.openCampaignsWithoutPending(db.kysely, BATCH);
    await settleAll(rows.map((c) => db.write((trx, batch) => reviews.closeIfDone(trx, batch, ctx.workflowActor(`review-campaign/${c.id}`), c.id))));
  }

  return {
    /** One pass: schedule, remind, lapse, close. Every stage runs; the first failure is thrown at the end. */
    async sweep(): Promise<void> {
      const failures: unknown[] = [];
      for (const stage of [schedule, remind, lapse, close]) {
        try {
          await stage();
        } catch (error) {
          failures.push(error);
        }
      }
      if (failures.length) throw failures[0];
    },
  };
}

export type ReviewSweep = ReturnType<typeof createReviewSweep>;
