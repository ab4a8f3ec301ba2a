import type { Actor } from '../../platform/actor.js';
import { AppError, errors } from '../../platform/http/errors.js';
import { decodeCursor, pageOf } from '../../platform/http/pagination.js';
import type { Trx, WriteBatch } from '../../platform/store/db.js';
import type { PersonRef } from '../notifications.js';
import type { ApprovalsPartContext } from '../parts.js';
import type { RegistryPrincipal } from '../ports.js';
import { RISK_TIERS, type ApprovalSettings, type Tier } from '../settings.js';
import {
  addDays, DECIDED_STATUS, decisionRefusal, DEFAULT_DUE_DAYS, inCampaignScope, isPast, isReviewerOf, misplacedFields, nextReviewDue,
  progressOf, reducesSomething, routeReview, scheduledCampaignName, suspendsOnLapse, wideningProblems, type ItemStatus, type Route, type RouteReason,
} from './reviews.js';
import * as repo from './reviews.repo.js';
import type { CampaignView, DecisionInput, GrantSnapshot, ItemView, ListCampaignsQuery, ListItemsQuery, StartCampaignInput } from './reviews.schemas.js';

// Access reviews (recertification): campaigns put every active non-human principal in scope in front of the person
// or team answerable for it, with a snapshot of what it holds (scopes, purposes, standing grants); the reviewer keeps,
// reduces or revokes, and the decision takes effect in the same transaction as its audit event. The time-driven half
// (scheduling principals whose review date passed, overdue reminders, lapses) is in reviews-sweep.service.ts and uses
// `enrol`, `closeIfDone` and the views from here.
//
// What it guards against:
// - a decision by someone the item was not sent to, or about oneself (reviews.ts decisionRefusal: 403);
// - a "reduce" that widens or changes nothing (422-class refusals as validation_failed, naming the field);
// - deciding twice, or in a closed campaign (409 review_not_open; the item is re-read and updated only while pending);
// - a principal in two open campaigns at once (principalsInOpenCampaigns), so nobody is asked twice;
// - an owner doing through a review what identity would refuse them directly: the changes are made as the deciding
//   operator where identity's own rules let that operator make them (admins and security: everything; an owner:
//   narrowing and suspending what they own), and otherwise as the workflow (`approvals:review/<item>`), with the
//   decider named in the reason and in `review.item_decided`. Owners never move a review date themselves (identity
//   refuses it), so the next due date is always set by the workflow for them.

export const SCHEDULER_CAUSE = 'review-schedule';

/** What a campaign keeps of how it was started (the `settings` column): its scope and its lapse rules, fixed. */
export interface CampaignSettings {
  automatic: boolean;
  tiers: string[];
  due_only: boolean;
  due_in_days: number;
  grace_days: number;
  suspend_unreviewed: string[];
  principals: string[] | null;
  created_by_name: string | null;
}

/** What an item copied from the registry when it was created (the `snapshot` column). */
export interface ItemSnapshot {
  taken_at: string;
  principal: { id: string; name: string; kind: string; risk_tier: string; status: string };
  owner: PersonRef | null;
  owner_team: PersonRef | null;
  reviewer: PersonRef | null;
  reviewer_team: PersonRef | null;
  route: Route;
  route_reason: RouteReason | null;
  scopes: string[];
  purposes: string[];
  grants: GrantSnapshot[];
}

export type ReviewService = ReturnType<typeof createReviewService>;

export function createReviewService(ctx: ApprovalsPartContext) {
  const { db, audit, clock, directory, grants } = ctx;
  const scheduler = ctx.workflowActor(SCHEDULER_CAUSE);

  const settingsOf = (row: repo.CampaignRow) => JSON.parse(row.settings) as CampaignSettings;
  const snapshotOf = (row: repo.ItemRow) => JSON.parse(row.snapshot) as ItemSnapshot;
  const notifiedOf = (row: { notified: string | null }) => (row.notified ? JSON.parse(row.notified) as string[] : []);
  const by = (actor: Actor) => actor.principal?.id ?? actor.label;

  function campaignView(row: repo.CampaignRow, counts: Partial<Record<ItemStatus, number>>): CampaignView {
    const s = settingsOf(row);
    return {
      id: row.id, name: row.name, status: row.status, automatic: s.automatic, tiers: s.tiers, due_only: s.due_only,
      due_at: row.due_at, grace_until: row.grace_until, suspend_unreviewed: s.suspend_unreviewed, created_at: row.created_at,
      created_by: s.automatic || row.created_by === null ? null : { id: row.created_by, name: s.created_by_name ?? row.created_by },
      closed_at: row.closed_at, progress: progressOf(counts, row.due_at, clock.now()),
    };
  }

  async function campaignViews(q: Trx | typeof db.kysely, rows: repo.CampaignRow[]): Promise<CampaignView[]> {
    const counts = new Map<string, Partial<Record<ItemStatus, number>>>();
    for (const c of await repo.statusCounts(q, rows.map((r) => r.id))) {
      const m = counts.get(c.campaign_id) ?? {};
      m[c.status] = c.n;
      counts.set(c.campaign_id, m);
    }
    return rows.map((r) => campaignView(r, counts.get(r.id) ?? {}));
  }

  function itemView(row: repo.ItemRow): ItemView {
    const s = snapshotOf(row);
    const applied = row.applied ? JSON.parse(row.applied) as Record<string, unknown> : null;
    const decidedName = typeof applied?.decided_by_name === 'string' ? applied.decided_by_name : row.decided_by;
    return {
      id: row.id,
      campaign: { id: row.campaign_id, name: row.campaign_name },
      principal: { id: s.principal.id, name: s.principal.name, kind: s.principal.kind, risk_tier: s.principal.risk_tier },
      reviewer: s.reviewer, reviewer_team: s.reviewer_team, orphaned: row.orphaned === 1, route: s.route, route_reason: s.route_reason,
      status: row.status, overdue: row.status === 'pending' && isPast(row.due_at, clock.now()), due_at: row.due_at, grace_until: row.grace_until,
      snapshot: { scopes: s.scopes, purposes: s.purposes, grants: s.grants, taken_at: s.taken_at },
      decided_by: row.status === 'lapsed' || row.decided_by === null ? null : { id: row.decided_by, name: decidedName ?? row.decided_by },
      decided_at: row.decided_at, decision_reason: row.decision_reason, applied, notified: notifiedOf(row),
    };
  }

  /** The people a notice about this item goes to: its reviewer, or the active human members of its reviewing team. */
  async function recipientsOf(trx: Trx, reviewer: PersonRef | null, reviewerTeamId: string | null, cache = new Map<string, PersonRef[]>()): Promise<PersonRef[]> {
    if (reviewer) return [reviewer];
    if (reviewerTeamId === null) return [];
    const known = cache.get(reviewerTeamId);
    if (known) return known;
    const people: PersonRef[] = [];
    for (const id of await directory.activeHumanMembers(trx, reviewerTeamId)) {
      const p = await directory.principal(trx, id);
      if (p) people.push({ id: p.id, name: p.name });
    }
    cache.set(reviewerTeamId, people);
    return people;
  }

  function noticeData(itemId: string, campaign: { id: string; name: string; due_at: string; grace_until: string }, s: ItemSnapshot, suspendTiers: readonly string[]) {
    return {
      item: { id: itemId },
      campaign: { id: campaign.id, name: campaign.name },
      principal: { id: s.principal.id, name: s.principal.name, kind: s.principal.kind, risk_tier: s.principal.risk_tier },
      reviewer: s.reviewer, reviewer_team: s.reviewer_team, orphaned: s.route === 'security', route_reason: s.route_reason,
      due_at: campaign.due_at, grace_until: campaign.grace_until, suspended_if_unreviewed: suspendsOnLapse(suspendTiers, s.principal.risk_tier),
    };
  }

  /** Opens a campaign row; its lapse rules are those in force now, kept with it. */
  async function openCampaign(trx: Trx, actor: Actor, input: { name: string; automatic: boolean; tiers: string[]; dueOnly: boolean; dueInDays: number; principals: string[] | null }, settings: ApprovalSettings): Promise<repo.CampaignRow> {
    const now = clock.now();
    const dueAt = addDays(now, input.dueInDays);
    const s: CampaignSettings = {
      automatic: input.automatic, tiers: input.tiers, due_only: input.dueOnly, due_in_days: input.dueInDays,
      grace_days: settings.reviews.grace_days, suspend_unreviewed: [...settings.reviews.suspend_unreviewed], principals: input.principals,
      created_by_name: actor.principal?.name ?? actor.label,
    };
    const row: repo.CampaignRow = {
      id: ctx.newId(), name: input.name, status: 'open', settings: JSON.stringify(s), created_at: now.toISOString(), created_by: by(actor),
      due_at: dueAt, grace_until: addDays(dueAt, settings.reviews.grace_days), closed_at: null,
    };
    await repo.insertCampaign(trx, row);
    return row;
  }

  /**
   * One item per principal, routed (reviews.ts routeReview) and snapshotted, each announced to its reviewers as
   * `review.due` in this transaction. Returns how many went where.
   */
  async function enrol(trx: Trx, batch: WriteBatch, campaign: repo.CampaignRow, principals: readonly RegistryPrincipal[], settings: ApprovalSettings): Promise<Record<Route, number>> {
    const security = await directory.team(trx, settings.security_team);
    const suspendTiers = settingsOf(campaign).suspend_unreviewed;
    const people = new Map<string, RegistryPrincipal | undefined>();
    const person = async (id: string) => {
      if (!people.has(id)) people.set(id, await directory.principal(trx, id));
      return people.get(id);
    };
    const teams = new Map<string, PersonRef[]>();
    const byRoute: Record<Route, number> = { owner: 0, owning_team: 0, security: 0 };
    const takenAt = clock.now().toISOString();
    for (const p of principals) {
      const owner = p.ownerId === null ? undefined : await person(p.ownerId);
      const teamPeople = p.ownerTeamId === null ? [] : await recipientsOf(trx, null, p.ownerTeamId, teams);
      const routing = routeReview(p, {
        ownerIsActiveHuman: owner?.kind === 'human' && owner.status === 'active',
        owningTeamHasActiveHumans: teamPeople.length > 0,
        securityTeamId: security?.id ?? null,
      });
      const reviewer = routing.reviewerId === null ? null : { id: routing.reviewerId, name: owner?.name ?? p.ownerName ?? routing.reviewerId };
      const reviewerTeam = routing.reviewerTeamId === null ? null
        : routing.route === 'security' ? { id: security!.id, name: security!.name } : { id: routing.reviewerTeamId, name: p.ownerTeamName ?? routing.reviewerTeamId };
      const held = await grants.activeGrantsOf(trx, p.id);
      const snapshot: ItemSnapshot = {
        taken_at: takenAt,
        principal: { id: p.id, name: p.name, kind: p.kind, risk_tier: p.riskTier, status: p.status },
        owner: p.ownerId === null ? null : { id: p.ownerId, name: p.ownerName ?? p.ownerId },
        owner_team: p.ownerTeamId === null ? null : { id: p.ownerTeamId, name: p.ownerTeamName ?? p.ownerTeamId },
        reviewer, reviewer_team: reviewerTeam, route: routing.route, route_reason: routing.reason,
        scopes: p.scopes, purposes: p.purposes,
        grants: held.map((g) => ({ id: g.id, resource: g.resource, actions: g.actions, purpose: g.purpose, expires_at: g.expires_at, source: g.source })),
      };
      const id = ctx.newId();
      await repo.insertItem(trx, {
        id, campaign_id: campaign.id, principal_id: p.id, reviewer_id: routing.reviewerId, reviewer_team_id: routing.reviewerTeamId,
        orphaned: routing.orphaned ? 1 : 0, snapshot: JSON.stringify(snapshot), status: 'pending', decided_by: null, decided_at: null,
        decision_reason: null, applied: null, notified: JSON.stringify(['due']),
      });
      await ctx.notify(trx, batch, { type: 'review.due', data: noticeData(id, campaign, snapshot, suspendTiers), recipients: await recipientsOf(trx, reviewer, routing.reviewerTeamId, teams) });
      byRoute[routing.route] += 1;
    }
    return byRoute;
  }

  /** Closes the campaign once nothing in it is pending (`review.campaign_closed` with its final progress). */
  async function closeIfDone(trx: Trx, batch: WriteBatch, actor: Actor, campaignId: string): Promise<void> {
    if ((await repo.pendingCount(trx, campaignId)) > 0) return;
    if (!(await repo.closeCampaign(trx, campaignId, clock.now().toISOString()))) return;
    const row = (await repo.findCampaign(trx, campaignId))!;
    const [view] = await campaignViews(trx, [row]);
    await audit.record(trx, batch, {
      type: 'review.campaign_closed', action: 'review.campaign_closed', actor, target: { type: 'review_campaign', id: row.id, name: row.name },
      outcome: 'success', details: { progress: view!.progress },
    });
  }

  /** The principals a campaign names, each an active non-human principal (deduplicated, in the order given). */
  async function named(trx: Trx, refs: readonly string[]): Promise<RegistryPrincipal[]> {
    const out = new Map<string, RegistryPrincipal>();
    for (const ref of refs) {
      const p = await directory.principal(trx, ref);
      if (!p) throw new AppError('principal_not_found', `principal '${ref}' does not exist`);
      if (p.kind === 'human') throw errors.validation(`'${p.name}' is a person: access reviews recertify non-human principals`, [{ path: ['principals'], message: `'${p.name}' is human` }]);
      if (p.status !== 'active') throw new AppError('principal_not_active', `'${p.name}' is ${p.status}: reviews cover active principals (a proposal is reviewed by its registration, a suspended principal when it is reactivated)`);
      out.set(p.id, p);
    }
    return [...out.values()];
  }

  /** Starts and audits a campaign inside the caller's transaction: the shared path of the API and the scheduler. */
  async function startIn(trx: Trx, batch: WriteBatch, actor: Actor, input: { name: string; automatic: boolean; tiers: Tier[]; dueOnly: boolean; dueInDays: number; principals: string[] | null }, candidates: readonly RegistryPrincipal[], extend?: repo.CampaignRow) {
    const settings = await ctx.settings(trx);
    const dueBy = input.automatic ? clock.now().toISOString() : addDays(clock.now(), input.dueInDays);
    const inScope = candidates.filter((p) => inCampaignScope(p, { tiers: input.tiers, dueOnly: input.dueOnly, dueBy }));
    const busy = await repo.principalsInOpenCampaigns(trx);
    const chosen = inScope.filter((p) => !busy.has(p.id));
    if (input.automatic && chosen.length === 0) return undefined;
    const campaign = extend ?? await openCampaign(trx, actor, input, settings);
    const byRoute = await enrol(trx, batch, campaign, chosen, settings);
    const type = extend ? 'review.campaign_extended' : 'review.campaign_started';
    await audit.record(trx, batch, {
      type, action: type, actor, target: { type: 'review_campaign', id: campaign.id, name: campaign.name }, outcome: 'success',
      details: {
        automatic: input.automatic, tiers: input.tiers, due_only: input.dueOnly, due_at: campaign.due_at, grace_until: campaign.grace_until,
        suspend_unreviewed: settingsOf(campaign).suspend_unreviewed, principals: input.principals, items: chosen.length, by_route: byRoute,
        already_in_review: inScope.length - chosen.length,
      },
    });
    if (chosen.length === 0) await closeIfDone(trx, batch, actor, campaign.id);
    const [view] = await campaignViews(trx, [(await repo.findCampaign(trx, campaign.id))!]);
    return { ...view!, already_in_review: inScope.length - chosen.length };
  }

  /**
   * Which actor makes each change of a decision: the decider where identity and the grants seam would let them make
   * it themselves, else the workflow (the decider is then named in the reason and in the audit details).
   */
  function applyingActors(actor: Actor, p: RegistryPrincipal, itemId: string) {
    const workflow = ctx.workflowActor(`review/${itemId}`);
    const staff = actor.role === 'admin' || actor.role === 'security';
    const me = actor.principal?.id;
    const owns = actor.role === 'owner' && me !== undefined && (p.ownerId === me || (p.ownerTeamId !== null && actor.teamIds.includes(p.ownerTeamId)));
    return {
      /** Narrowing and suspending: identity lets admins, security and the owner do both. */
      manage: staff || owns ? actor : workflow,
      /** The next review date: identity keeps it from owners. */
      review: staff ? actor : workflow,
      /** Revoking grants early: the grants rules admit admins and security, not the grantee's owner. */
      grants: staff ? actor : workflow,
    };
  }

  const asWho = (a: Actor, decider: Actor) => (a === decider ? 'decider' : 'workflow');

  return {
    enrol,
    closeIfDone,
    startIn,
    itemView,
    recipientsOf,
    noticeData,
    settingsOf,
    snapshotOf,
    notifiedOf,
    scheduler,

    async start(actor: Actor, input: StartCampaignInput) {
      return db.write(async (trx, batch) => {
        const tiers = [...new Set(input.tiers ?? RISK_TIERS)];
        const candidates = input.principals ? await named(trx, input.principals) : await directory.nonHumanPrincipals(trx, { riskTiers: tiers });
        return (await startIn(trx, batch, actor, {
          name: input.name, automatic: false, tiers, dueOnly: input.due_only ?? input.principals === undefined,
          dueInDays: input.due_in_days ?? DEFAULT_DUE_DAYS, principals: input.principals ?? null,
        }, candidates))!;
      });
    },

    /** The scheduler's pass: principals whose review date has passed and that are in no open campaign get an item. */
    async scheduleDue(): Promise<number> {
      return db.write(async (trx, batch) => {
        const now = clock.now();
        const candidates = (await directory.nonHumanPrincipals(trx, {})).filter((p) => inCampaignScope(p, { tiers: RISK_TIERS, dueOnly: true, dueBy: now.toISOString() }));
        if (candidates.length === 0) return 0;
        const name = scheduledCampaignName(now);
        const existing = await repo.findOpenCampaignByName(trx, name, scheduler.label ?? SCHEDULER_CAUSE);
        const started = await startIn(trx, batch, scheduler, {
          name, automatic: true, tiers: [...RISK_TIERS], dueOnly: true, dueInDays: DEFAULT_DUE_DAYS, principals: null,
        }, candidates, existing);
        return started ? started.progress.total : 0;
      });
    },

    async listCampaigns(_actor: Actor, query: ListCampaignsQuery) {
      const after = decodeCursor(query.cursor);
      const rows = await repo.listCampaigns(db.kysely, { status: query.status, afterId: after === undefined ? undefined : String(after), limit: query.limit + 1 });
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: await campaignViews(db.kysely, page.items), next_cursor: page.next_cursor };
    },

    async getCampaign(_actor: Actor, id: string): Promise<CampaignView> {
      const row = await repo.findCampaign(db.kysely, id);
      if (!row) throw errors.notFound('review campaign', id);
      return (await campaignViews(db.kysely, [row]))[0]!;
    },

    /** Owner-role operators see only the items sent to them or their teams; `mine` asks the same of any role. */
    async listItems(actor: Actor, query: ListItemsQuery) {
      const after = decodeCursor(query.cursor);
      const reviewer = actor.role === 'owner' || query.mine ? { principalId: actor.principal?.id ?? '-', teamIds: actor.teamIds } : undefined;
      const rows = await repo.listItems(db.kysely, {
        campaignId: query.campaign, status: query.status, principalId: query.principal, reviewer,
        afterId: after === undefined ? undefined : String(after), limit: query.limit + 1,
      });
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: page.items.map(itemView), next_cursor: page.next_cursor };
    },

    async getItem(actor: Actor, id: string): Promise<ItemView> {
      const row = await repo.findItem(db.kysely, id);
      const hidden = row && actor.role === 'owner' && !isReviewerOf({ principalId: actor.principal?.id ?? null, teamIds: actor.teamIds }, { reviewerId: row.reviewer_id, reviewerTeamId: row.reviewer_team_id });
      if (!row || hidden) throw errors.notFound('review item', id);
      return itemView(row);
    },

    /** Keep, reduce or revoke: applied, recorded on the item and audited in one transaction. */
    async decide(actor: Actor, id: string, input: DecisionInput): Promise<ItemView> {
      return db.write(async (trx, batch) => {
        const row = await repo.findItem(trx, id);
        if (!row) throw errors.notFound('review item', id);
        const refusal = decisionRefusal(
          { principalId: actor.principal?.id ?? null, kind: actor.principal?.kind ?? null, role: actor.role, teamIds: actor.teamIds, delegated: actor.delegationChain.length > 0 },
          { principalId: row.principal_id, reviewerId: row.reviewer_id, reviewerTeamId: row.reviewer_team_id },
        );
        if (refusal) throw errors.forbidden(refusal);
        if (row.status !== 'pending' || row.campaign_status !== 'open') {
          throw new AppError('review_not_open', row.status !== 'pending' ? `review item '${id}' is already ${row.status}` : `campaign '${row.campaign_name}' is closed`, { status: row.status });
        }
        const misplaced = misplacedFields(input.decision, input);
        if (misplaced.length) {
          throw errors.validation(`only a reduce decision names scopes, purposes or grants to revoke (${misplaced.join(', ')})`, misplaced.map((f) => ({ path: [f], message: `not allowed with decision '${input.decision}'` })));
        }
        const p = await directory.principal(trx, row.principal_id);
        if (!p) throw errors.notFound('principal', row.principal_id);
        if (p.status === 'decommissioned') throw new AppError('principal_decommissioned', `principal '${p.name}' was decommissioned; there is nothing left to review`);
        const settings = await ctx.settings(trx);
        const now = clock.now();
        const as = applyingActors(actor, p, row.id);
        const deciderName = actor.principal?.name ?? actor.label ?? 'unknown';
        const cause = `access review ${row.id} (${input.decision}) by ${deciderName}: ${input.reason}`;
        const applied: Record<string, unknown> = { decision: input.decision, decided_by_name: deciderName };
        const appliedAs: Record<string, string> = {};
        const revokeAll = async (ids: readonly string[]) => {
          const out: Array<{ id: string; resource: string }> = [];
          for (const gid of ids) {
            const g = await grants.revokeGrant(trx, batch, as.grants, gid, cause);
            out.push({ id: g.id, resource: g.resource.name });
          }
          if (ids.length) appliedAs.grants = asWho(as.grants, actor);
          return out;
        };
        const markReviewed = async () => {
          const next = nextReviewDue(now, settings.reviews.period_days, p.riskTier);
          await directory.markReviewed(trx, batch, as.review, p.id, next, cause);
          appliedAs.review_due_at = asWho(as.review, actor);
          applied.next_review_due_at = next;
        };

        if (input.decision === 'keep') {
          await markReviewed();
        } else if (input.decision === 'reduce') {
          const problems = wideningProblems(p, input);
          const held = await grants.activeGrantsOf(trx, p.id);
          const toRevoke = [...new Set(input.revoke_grants ?? [])];
          const unknown = toRevoke.filter((g) => !held.some((h) => h.id === g));
          if (unknown.length) problems.push({ path: ['revoke_grants'], message: `not a standing grant of '${p.name}': ${unknown.join(', ')}` });
          if (problems.length) throw errors.validation(problems.map((x) => x.message).join('; '), problems);
          if (!reducesSomething(p, input, toRevoke.length)) {
            throw errors.validation('a reduce decision takes something away (fewer scopes or purposes, or grants to revoke); to recertify as is, decide keep', [{ path: ['decision'], message: 'nothing reduced' }]);
          }
          const change: { scopes?: string[]; purposes?: string[] } = {};
          if (input.scopes && p.scopes.some((s) => !input.scopes!.includes(s))) change.scopes = p.scopes.filter((s) => input.scopes!.includes(s));
          if (input.purposes && p.purposes.some((s) => !input.purposes!.includes(s))) change.purposes = p.purposes.filter((s) => input.purposes!.includes(s));
          if (change.scopes || change.purposes) {
            await directory.narrow(trx, batch, as.manage, p.id, change, cause);
            appliedAs.narrow = asWho(as.manage, actor);
            if (change.scopes) applied.scopes = { before: p.scopes, after: change.scopes };
            if (change.purposes) applied.purposes = { before: p.purposes, after: change.purposes };
          }
          applied.grants_revoked = await revokeAll(toRevoke);
          await markReviewed();
        } else {
          const held = await grants.activeGrantsOf(trx, p.id);
          applied.grants_revoked = await revokeAll(held.map((g) => g.id));
          applied.suspended = p.status === 'active';
          if (p.status === 'active') {
            await directory.suspend(trx, batch, as.manage, p.id, cause);
            appliedAs.suspend = asWho(as.manage, actor);
          }
          applied.next_review_due_at = null;
        }
        applied.applied_as = appliedAs;

        const settled = await repo.settleItem(trx, row.id, {
          status: DECIDED_STATUS[input.decision], decided_by: by(actor), decided_at: now.toISOString(), decision_reason: input.reason, applied: JSON.stringify(applied),
        });
        if (!settled) throw new AppError('review_not_open', `review item '${id}' was decided meanwhile`);
        await audit.record(trx, batch, {
          type: 'review.item_decided', action: 'review.item_decided', actor, target: { type: 'review_item', id: row.id, name: p.name },
          outcome: 'success',
          details: {
            campaign: { id: row.campaign_id, name: row.campaign_name }, principal: { id: p.id, name: p.name, risk_tier: p.riskTier },
            decision: input.decision, reason: input.reason, applied,
          },
        });
        await closeIfDone(trx, batch, actor, row.campaign_id);
        return itemView((await repo.findItem(trx, row.id))!);
      });
    },
  };
}
