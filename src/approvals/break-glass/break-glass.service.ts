import type { Actor } from '../../platform/actor.js';
import { AppError, errors } from '../../platform/http/errors.js';
import { decodeCursor, pageOf } from '../../platform/http/pagination.js';
import type { Trx, WriteBatch } from '../../platform/store/db.js';
import { resolveGroups } from '../groups.js';
import type { PersonRef } from '../notifications.js';
import type { ApprovalsPartContext } from '../parts.js';
import type { RegistryResource } from '../ports.js';
import { requestHash } from '../request-hash.js';
import { effectiveTier, riskier, type ApprovalSettings, type Tier, type TierRule } from '../settings.js';
import { breakGlassDuration, breakGlassExpiry, mayEnd, membershipRefusal, recipientIds, reviewRefusal, skippedApprovers, userRefusal, type SkippedSlot } from './break-glass.js';
import type { BreakGlassView, CloseReviewInput, EndBreakGlassInput, ListBreakGlassQuery, OpenBreakGlassInput } from './break-glass.schemas.js';
import * as repo from './break-glass.repo.js';

// Break-glass: an emergency grant without prior approval, for a member of the break-glass team, for themselves, for
// at most the configured maximum (break-glass.ts has the rules). Opening is one db.write: the access_requests row
// (kind 'break_glass', approved at once, its review open), the grant (through the authorization module's seam, as
// the workflow — `approvals:break-glass/<id>` — since nobody grants to themselves), `grant.created` and
// `break_glass.used` in the audit log, and the `break_glass.used` notification to security and to the approvers the
// access skipped. Either all of it commits or none of it: there is no unrecorded or unreported break-glass.
//
// A refused attempt (not a person acting directly, not on the team) is itself recorded (`break_glass.refused`)
// before the 403, because someone reaching for the emergency exit without being allowed to is news for security.
//
// The post-incident review stays open until someone other than the user closes it with a finding
// (`break_glass.reviewed`); nothing closes it by itself, and ending the access early (`break_glass.ended`, which
// revokes the grant) leaves it open. Lists and views are read in one read transaction, the grant's state through
// the seam (active grants of the user), people's names through the registry.

type Ctx = ApprovalsPartContext;

/** What the row's `requirement` holds for a break-glass access (frozen when it was opened). */
interface Requirement {
  break_glass: true;
  max_seconds: number;
  expires_at: string;
  skipped: { tier: Tier; rule: TierRule; approvers: Array<{ group: SkippedSlot['group']; people: PersonRef[] | 'anyone' }> };
  notified: PersonRef[];
}

interface StoredResource { id: string; name: string; kind: string; risk_tier: string; classification: string }

const REVIEWERS_ALL = new Set(['admin', 'security', 'auditor']);

function auditTarget(id: string, userName: string, resourceName: string) {
  return { type: 'break_glass', id, name: `${userName} → ${resourceName}` };
}

export function createBreakGlassService(ctx: Ctx) {
  const { db, audit, clock, directory } = ctx;

  const read = <T>(fn: (trx: Trx) => Promise<T>): Promise<T> => db.kysely.transaction().execute(fn);

  async function people(trx: Trx, ids: readonly string[]): Promise<PersonRef[]> {
    const out: PersonRef[] = [];
    for (const id of ids) out.push({ id, name: (await directory.principal(trx, id))?.name ?? id });
    return out;
  }

  /** Views of rows, reading the grants' state and people's names once per person. */
  async function views(trx: Trx, rows: repo.BreakGlassRow[]): Promise<BreakGlassView[]> {
    const names = new Map<string, string>();
    const active = new Map<string, Set<string>>();
    const nameOf = async (id: string) => {
      if (!names.has(id)) names.set(id, (await directory.principal(trx, id))?.name ?? id);
      return names.get(id)!;
    };
    const out: BreakGlassView[] = [];
    for (const row of rows) {
      if (!active.has(row.subject_id)) active.set(row.subject_id, new Set((await ctx.grants.activeGrantsOf(trx, row.subject_id)).map((g) => g.id)));
      const requirement = JSON.parse(row.requirement) as Requirement;
      const resource = (JSON.parse(row.resources) as StoredResource[])[0]!;
      const grantId = (JSON.parse(row.grant_ids) as string[])[0]!;
      out.push({
        id: row.id,
        user: { id: row.subject_id, name: await nameOf(row.subject_id) },
        resource,
        actions: JSON.parse(row.actions) as string[],
        purpose: row.purpose,
        justification: row.justification,
        ticket: row.ticket,
        duration_seconds: row.duration_seconds,
        tier: row.tier as Tier,
        skipped: {
          rule: { auto_approve: requirement.skipped.rule.auto_approve, slots: requirement.skipped.rule.slots, max_duration_seconds: requirement.skipped.rule.max_duration_seconds },
          approvers: requirement.skipped.approvers,
        },
        notified: requirement.notified,
        opened_at: row.created_at,
        expires_at: requirement.expires_at,
        grant: { id: grantId, status: active.get(row.subject_id)!.has(grantId) ? 'active' : 'ended', expires_at: requirement.expires_at },
        review: {
          status: row.review_status ?? 'open',
          finding: row.review_finding,
          closed_by: row.review_closed_by === null ? null : { id: row.review_closed_by, name: await nameOf(row.review_closed_by) },
          closed_at: row.review_closed_at,
        },
        request_hash: row.request_hash,
      });
    }
    return out;
  }

  async function viewOf(id: string): Promise<BreakGlassView> {
    return read(async (trx) => {
      const row = await repo.findBreakGlass(trx, id);
      if (!row) throw errors.notFound('break-glass access', id);
      return (await views(trx, [row]))[0]!;
    });
  }

  /** Security's members and the approvers the rule for this tier would have asked, as the audit log and the notice name them. */
  async function skippedAndNotified(trx: Trx, settings: ApprovalSettings, rule: TierRule, resource: RegistryResource, userId: string) {
    const members = await resolveGroups(directory, trx, settings, [...rule.slots, 'security'], {
      resources: [resource], subject: { ownerId: null, ownerTeamId: null },
    });
    const slots = skippedApprovers(rule, members, userId);
    const approvers: Requirement['skipped']['approvers'] = [];
    for (const slot of slots) approvers.push({ group: slot.group, people: slot.people === 'anyone' ? 'anyone' : await people(trx, slot.people) });
    const notified = await people(trx, recipientIds(members.get('security'), slots, userId));
    return { approvers, notified };
  }

  async function recordRefusal(trx: Trx, batch: WriteBatch, actor: Actor, input: OpenBreakGlassInput, team: string, detail: string): Promise<void> {
    await audit.record(trx, batch, {
      type: 'break_glass.refused', action: 'break_glass.open', actor, target: { type: 'resource', id: null, name: input.resource }, outcome: 'failure',
      purpose: input.purpose ?? null, reasons: [detail],
      details: { break_glass: true, resource: input.resource, actions: input.actions, team, reason: detail },
    });
  }

  async function open(actor: Actor, input: OpenBreakGlassInput): Promise<BreakGlassView> {
    const outcome = await db.write(async (trx, batch): Promise<{ refused: string } | { id: string }> => {
      const settings = await ctx.settings(trx);
      const team = settings.break_glass_team;
      const notPerson = userRefusal(actor);
      if (notPerson) {
        await recordRefusal(trx, batch, actor, input, team, notPerson);
        return { refused: notPerson };
      }
      const user = actor.principal!;
      const teamRow = await directory.team(trx, team);
      const notMember = membershipRefusal(team, teamRow && { members: await directory.activeHumanMembers(trx, teamRow.id) }, user.id);
      if (notMember) {
        await recordRefusal(trx, batch, actor, input, team, notMember);
        return { refused: notMember };
      }
      const duration = breakGlassDuration(input.duration_seconds, settings.break_glass_max_seconds);
      if (duration === null) {
        throw new AppError('break_glass_too_long', `break-glass access lasts at most ${settings.break_glass_max_seconds} seconds`, { max_seconds: settings.break_glass_max_seconds });
      }
      const resource = await directory.resource(trx, input.resource);
      if (!resource) throw new AppError('resource_not_found', `resource '${input.resource}' does not exist`);
      // The grant covers everything below the resource too, so its riskiest descendant decides the skipped rule.
      const tier = [resource, ...(await ctx.directory.descendants(trx, resource.id))].map((r) => effectiveTier(settings, r)).reduce<Tier>((a, b) => riskier(a, b), 'low');
      const rule = settings.rules[tier];
      const id = ctx.newId();
      const at = clock.now();
      const now = at.toISOString();
      const purpose = input.purpose ?? null;
      const ticket = input.ticket ?? null;

      let grant;
      try {
        grant = await ctx.grants.createGrant(trx, batch, ctx.workflowActor(`break-glass/${id}`), {
          principal: user.id, resource: resource.id, actions: input.actions, purpose, expiresAt: breakGlassExpiry(at, duration).toISOString(),
          reason: input.justification, source: 'break_glass', sourceRef: id,
        });
      } catch (error) {
        if (error instanceof AppError && error.code === 'purpose_not_allowed') {
          throw new AppError('purpose_not_allowed', `break-glass access keeps to purposes you and the resource both allow: ${error.message}`);
        }
        throw error;
      }

      const { approvers, notified } = await skippedAndNotified(trx, settings, rule, resource, user.id);
      const requirement: Requirement = { break_glass: true, max_seconds: settings.break_glass_max_seconds, expires_at: grant.expires_at, skipped: { tier, rule, approvers }, notified };
      const storedResource: StoredResource = { id: resource.id, name: resource.name, kind: resource.kind, risk_tier: resource.riskTier, classification: resource.classification };
      await repo.insertBreakGlass(trx, {
        id, kind: 'break_glass', status: 'approved',
        requester_id: user.id, accountable_id: user.id, requester_chain: JSON.stringify([user.id]), subject_id: user.id,
        resources: JSON.stringify([storedResource]), actions: JSON.stringify(grant.actions), purpose, justification: input.justification,
        duration_seconds: duration, ticket, tier, requirement: JSON.stringify(requirement),
        request_hash: requestHash({
          kind: 'break_glass', revision: 1, subjectId: user.id, resourceIds: [resource.id], actions: grant.actions, purpose, durationSeconds: duration,
          justification: input.justification, ticket,
        }),
        revision: 1, created_at: now, updated_at: now, pending_until: null, decided_at: now, decided_by: user.id, decision_reason: null,
        grant_ids: JSON.stringify([grant.id]), review_status: 'open', review_finding: null, review_closed_by: null, review_closed_at: null,
      });
      const facts = {
        id, user: { id: user.id, name: user.name }, resource: storedResource, actions: grant.actions, purpose, justification: input.justification, ticket,
        duration_seconds: duration, expires_at: grant.expires_at, grant: { id: grant.id, expires_at: grant.expires_at }, tier,
        skipped_rule: { tier, auto_approve: rule.auto_approve, slots: rule.slots, max_duration_seconds: rule.max_duration_seconds },
        skipped_approvers: approvers,
      };
      await audit.record(trx, batch, {
        type: 'break_glass.used', action: 'break_glass.open', actor, target: auditTarget(id, user.name, resource.name), outcome: 'success', purpose,
        details: { break_glass: true, ...facts, notified, review: 'open' },
      });
      await ctx.notify(trx, batch, { type: 'break_glass.used', data: { break_glass: true, ...facts, review: 'open' }, recipients: notified });
      return { id };
    });
    if ('refused' in outcome) throw new AppError('break_glass_not_allowed', outcome.refused);
    return viewOf(outcome.id);
  }

  async function close(actor: Actor, id: string, input: CloseReviewInput): Promise<BreakGlassView> {
    await db.write(async (trx, batch) => {
      const row = await repo.findBreakGlass(trx, id);
      if (!row) throw errors.notFound('break-glass access', id);
      const refusal = reviewRefusal(actor, row.subject_id);
      if (refusal) throw new AppError(refusal.code, refusal.detail);
      const now = clock.now().toISOString();
      if (!(await repo.closeReview(trx, id, { finding: input.finding, by: actor.principal!.id, at: now }))) {
        throw new AppError('review_not_open', `the review of break-glass access '${id}' was closed at ${row.review_closed_at}`, { closed_at: row.review_closed_at });
      }
      const [user] = await people(trx, [row.subject_id]);
      const resource = (JSON.parse(row.resources) as StoredResource[])[0]!;
      await audit.record(trx, batch, {
        type: 'break_glass.reviewed', action: 'break_glass.review', actor, target: auditTarget(id, user!.name, resource.name), outcome: 'success', purpose: row.purpose,
        details: { break_glass: true, user: user!, resource: { id: resource.id, name: resource.name }, finding: input.finding, opened_at: row.created_at, grant_ids: JSON.parse(row.grant_ids) as string[] },
      });
    });
    return viewOf(id);
  }

  async function end(actor: Actor, id: string, input: EndBreakGlassInput): Promise<BreakGlassView> {
    await db.write(async (trx, batch) => {
      const row = await repo.findBreakGlass(trx, id);
      if (!row) throw errors.notFound('break-glass access', id);
      if (!mayEnd(actor, row.subject_id)) throw errors.forbidden('break-glass access is ended early by the person who opened it, or by admin or security');
      const grantId = (JSON.parse(row.grant_ids) as string[])[0]!;
      const live = (await ctx.grants.activeGrantsOf(trx, row.subject_id)).some((g) => g.id === grantId);
      if (!live) throw new AppError('grant_already_revoked', `break-glass access '${id}' has already ended (expired or revoked)`, { grant_id: grantId });
      const grant = await ctx.grants.revokeGrant(trx, batch, actor, grantId, input.reason);
      const now = clock.now().toISOString();
      await repo.touch(trx, id, now);
      const [user] = await people(trx, [row.subject_id]);
      const resource = (JSON.parse(row.resources) as StoredResource[])[0]!;
      await audit.record(trx, batch, {
        type: 'break_glass.ended', action: 'break_glass.end', actor, target: auditTarget(id, user!.name, resource.name), outcome: 'success', purpose: row.purpose,
        details: { break_glass: true, user: user!, resource: { id: resource.id, name: resource.name }, grant: { id: grant.id, expires_at: grant.expires_at }, reason: input.reason, review: row.review_status },
      });
    });
    return viewOf(id);
  }

  /** Who sees which: admin, security and auditors every break-glass access; anyone else (owners) their own. */
  function ownOnly(actor: Actor): string | null {
    return actor.role && REVIEWERS_ALL.has(actor.role) ? null : actor.principal?.id ?? '-';
  }

  return {
    open,
    close,
    end,

    async get(actor: Actor, id: string): Promise<BreakGlassView> {
      const view = await viewOf(id);
      const only = ownOnly(actor);
      if (only !== null && view.user.id !== only) throw errors.notFound('break-glass access', id);
      return view;
    },

    async list(actor: Actor, query: ListBreakGlassQuery) {
      const after = decodeCursor(query.cursor);
      return read(async (trx) => {
        const only = ownOnly(actor);
        let userId: string | undefined;
        if (query.user !== undefined) userId = (await directory.principal(trx, query.user))?.id ?? '-';
        if (only !== null) {
          if (userId !== undefined && userId !== only) return { items: [], next_cursor: null };
          userId = only;
        }
        const rows = await repo.listBreakGlass(trx, { afterId: after === undefined ? undefined : String(after), limit: query.limit + 1, review: query.review, userId });
        const page = pageOf(rows, query.limit, (r) => r.id);
        return { items: await views(trx, page.items), next_cursor: page.next_cursor };
      });
    },
  };
}

export type BreakGlassService = ReturnType<typeof createBreakGlassService>;
