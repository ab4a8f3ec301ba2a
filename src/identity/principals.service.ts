import type { Actor } from '../platform/actor.js';
import type { AuditWriter } from '../audit/index.js';
import type { Clock } from '../platform/clock.js';
import type { Database, Trx, WriteBatch } from '../platform/store/db.js';
import { AppError, errors } from '../platform/http/errors.js';
import { article, kindPhrase } from '../platform/text.js';
import type { IdGenerator } from '../platform/ids.js';
import { decodeCursor, pageOf } from '../platform/http/pagination.js';
import { isUniqueViolation } from '../platform/store/errors.js';
import type { PrincipalsTable } from '../platform/store/schema.js';
import { delegateIds, delegateLabels, isKindEntry, withoutRepeats } from './delegation.js';
import { nextLabels, parseLabelFilter, sameLabels } from './labels.js';
import { resolveOwner, type Owner } from './owners.service.js';
import { canManageOwned, canSee, isOwnerRole, listVisibility, outranks, ownerMayPickTeam, ownerWideningFields } from './ownership.js';
import type { PrincipalCredentialRevoker, RoleLookup } from './ports.js';
import * as repo from './principals.repo.js';
import type { CreatePrincipalInput, ListPrincipalsQuery, PrincipalView, UpdatePrincipalInput } from './principals.schemas.js';
import { findTeam } from './teams.repo.js';
import {
  LIFECYCLE_ACTIONS, assertTransition, needsRegistration, reviewDueAfterTierChange, reviewDueAt, type LifecycleAction, type PrincipalStatus, type RiskTier,
} from './taxonomy.js';

export interface PrincipalServiceDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  /**
   * Operator roles held by principals (operators implements it), required so the two role rules cannot be left
   * out: no role acts on a principal holding a higher role, and the last active admin cannot be suspended or
   * decommissioned.
   */
  roles: RoleLookup;
  /**
   * Revokes what a principal holds (the credentials module implements it): called when a principal is suspended
   * or decommissioned, inside the transaction that changes its status, so the two commit or fail together.
   */
  credentials?: PrincipalCredentialRevoker;
}

export function createPrincipalService(deps: PrincipalServiceDeps) {
  const { db, audit, clock } = deps;

  async function load(q: Trx | Database['kysely'], ref: string): Promise<repo.PrincipalRow> {
    const row = await repo.findPrincipal(q, ref);
    if (!row) throw errors.notFound('principal', ref);
    return row;
  }

  /** The principal if the actor may see it; otherwise the same 404 as for one that does not exist. */
  async function loadVisible(q: Trx | Database['kysely'], actor: Actor, ref: string): Promise<repo.PrincipalRow> {
    const row = await repo.findPrincipal(q, ref);
    if (!row || !canSee(actor, row.id, row.owner_principal_id, row.owner_team_id)) throw errors.notFound('principal', ref);
    return row;
  }

  function assertCanManage(actor: Actor, row: repo.PrincipalRow): void {
    if (!canManageOwned(actor, row.owner_principal_id, row.owner_team_id)) {
      throw errors.forbidden(`principal '${row.name}' is not owned by you or your teams`);
    }
  }

  /** No role acts on a principal holding a higher role (roles are held by humans, through operator tokens). */
  async function assertNotOutranked(trx: Trx, actor: Actor, row: repo.PrincipalRow): Promise<void> {
    if (row.kind !== 'human') return;
    const held = await deps.roles.highestRoleOf(row.id, trx);
    if (outranks(held, actor.role)) {
      throw errors.forbidden(`'${row.name}' holds the ${held} role; ${article(actor.role ?? 'x')} ${actor.role ?? 'role-less'} operator cannot act on a principal holding a higher role`);
    }
  }

  /** The last active human holding a valid admin token stays active: otherwise nobody could administer Custos. */
  async function assertNotLastAdmin(trx: Trx, row: repo.PrincipalRow): Promise<void> {
    if (row.kind !== 'human' || row.status !== 'active') return;
    const holders = await deps.roles.adminHolderIds(trx);
    if (!holders.includes(row.id)) return;
    for (const id of holders) {
      if (id === row.id) continue;
      const other = await repo.findPrincipalCore(trx, id);
      if (other?.kind === 'human' && other.status === 'active') return;
    }
    throw new AppError('last_admin', `'${row.name}' is the last active admin; mint an admin token for another active human first (or run \`custos admin recover\` on the host)`);
  }

  const subjectOf = (kind: string) => ({ label: kindPhrase(kind), human: kind === 'human' });
  const ownerOf = (row: repo.PrincipalRow): Owner => ({
    ownerId: row.owner_principal_id, ownerName: row.owner_name, ownerTeamId: row.owner_team_id, ownerTeamName: row.owner_team_name,
  });

  async function resolveTeamRef(trx: Trx, team: string | null | undefined): Promise<{ id: string; name: string } | null | undefined> {
    if (team === null || team === undefined) return team;
    const t = await findTeam(trx, team);
    if (!t) throw new AppError('team_not_found', `team '${team}' does not exist`);
    return { id: t.id, name: t.name };
  }

  /** Views of rows, with the principals their may_delegate_to names looked up in one query. */
  async function viewsOf(q: Trx | Database['kysely'], rows: repo.PrincipalRow[]): Promise<PrincipalView[]> {
    const ids = rows.flatMap((r) => delegateIds(JSON.parse(r.may_delegate_to) as string[]));
    const names = await repo.principalNames(q, ids);
    return rows.map((r) => toView(r, names));
  }

  async function viewOf(q: Trx | Database['kysely'], row: repo.PrincipalRow): Promise<PrincipalView> {
    return (await viewsOf(q, [row]))[0]!;
  }

  async function reload(trx: Trx, id: string): Promise<PrincipalView> {
    return viewOf(trx, await load(trx, id));
  }

  /**
   * The entries to store for a requested may_delegate_to: principals resolved to ids, `kind:` entries as given (the
   * schema checked them), in the order given without repeats. A principal that does not exist answers
   * principal_not_found; so does, for an owner-role operator, one they may not see and that is not on the list
   * already (existence is information). Naming a principal only lets it act for this one within this one's own
   * rights, so any principal an operator may see will do.
   */
  async function resolveDelegates(trx: Trx, actor: Actor, refs: string[], current: readonly string[]): Promise<{ entries: string[]; names: Map<string, string> }> {
    const principalRefs = refs.filter((r) => !isKindEntry(r));
    const found = await repo.findPrincipalsByRefs(trx, principalRefs);
    const names = new Map(found.map((p) => [p.id, p.name]));
    const entries = refs.map((ref) => {
      if (isKindEntry(ref)) return ref;
      const p = found.find((x) => x.id === ref || x.name === ref);
      const hidden = p && isOwnerRole(actor) && !current.includes(p.id) && !canSee(actor, p.id, p.owner_principal_id, p.owner_team_id);
      if (!p || hidden) throw new AppError('principal_not_found', `may_delegate_to: principal '${ref}' does not exist`);
      return p.id;
    });
    return { entries: withoutRepeats(entries), names };
  }

  function auditTarget(row: { id: string; name: string }) {
    return { type: 'principal', id: row.id, name: row.name };
  }

  async function recordChange(trx: Trx, batch: WriteBatch, actor: Actor, type: string, row: { id: string; name: string }, details: Record<string, unknown>) {
    await audit.record(trx, batch, { type, action: type, actor, target: auditTarget(row), outcome: 'success', details });
  }

  /** Registers a principal inside the caller's transaction (bootstrap creates its admin this way). */
  async function createIn(trx: Trx, batch: WriteBatch, actor: Actor, input: CreatePrincipalInput): Promise<PrincipalView> {
    if (isOwnerRole(actor)) {
      if (input.status === 'active') throw errors.forbidden('owners may only propose principals; an admin or security operator activates them');
      if (input.kind === 'human') throw errors.forbidden('owners cannot register humans');
    }
    const now = clock.now();
    const status: PrincipalStatus = input.status ?? (input.kind === 'human' ? 'active' : 'proposed');
    const tier = (input.risk_tier ?? 'medium') as RiskTier;
    if (status === 'active' && needsRegistration({ kind: input.kind, risk_tier: tier })) {
      throw new AppError('registration_required', `a ${tier} risk ${input.kind} starts proposed and becomes active only through an approved registration request; register it without status: active, then file one (custos request create ${input.name} --register …)`);
    }
    const { ownerId, ownerTeamId, ownerName, ownerTeamName } = await resolveOwner(trx, subjectOf(input.kind), input, undefined, actor);
    if (isOwnerRole(actor) && !canManageOwned(actor, ownerId, ownerTeamId)) {
      throw errors.forbidden('owners may only register principals owned by themselves or their teams');
    }
    const team = await resolveTeamRef(trx, input.team);
    if (!ownerMayPickTeam(actor, team?.id ?? null)) {
      throw new AppError('forbidden', `owners may only choose a home team they belong to ('${team?.name}' is not one of yours)`, { fields: ['team'] });
    }
    const delegates = await resolveDelegates(trx, actor, input.may_delegate_to ?? [], []);
    const row: PrincipalsTable = {
      id: deps.newId(),
      name: input.name,
      kind: input.kind,
      display_name: input.display_name ?? null,
      description: input.description ?? null,
      status,
      owner_principal_id: ownerId,
      owner_team_id: ownerTeamId,
      team_id: team?.id ?? null,
      scopes: JSON.stringify(input.scopes ?? []),
      purposes: JSON.stringify(input.purposes ?? []),
      autonomy: input.autonomy ?? null,
      platform: input.platform ?? null,
      framework: input.framework ?? null,
      environment: input.environment ?? null,
      data_ceiling: input.data_ceiling ?? null,
      risk_tier: tier,
      external_ids: JSON.stringify(input.external_ids ?? {}),
      labels: JSON.stringify(input.labels ?? {}),
      orphaned: 0,
      review_due_at: reviewDueAt(now, tier),
      status_reason: input.reason ?? null,
      may_delegate_to: JSON.stringify(delegates.entries),
      created_at: now.toISOString(),
      created_by: actor.principal?.id ?? null,
      updated_at: now.toISOString(),
      version: 1,
    };
    try {
      await repo.insertPrincipal(trx, row);
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('name_taken', `a principal named '${input.name}' already exists`);
      throw error;
    }
    // Everything the view shows is known here; no need to read the row back.
    const view = toView({ ...row, owner_name: ownerName, owner_team_name: ownerTeamName, team_name: team?.name ?? null }, delegates.names);
    await recordChange(trx, batch, actor, 'principal.created', row, { reason: input.reason ?? null, principal: view });
    return view;
  }

  /** Changes a principal inside the caller's transaction (reviews narrow scopes and purposes this way). */
  async function updateIn(trx: Trx, batch: WriteBatch, actor: Actor, ref: string, input: UpdatePrincipalInput): Promise<PrincipalView> {
    const row = await loadVisible(trx, actor, ref);
    assertCanManage(actor, row);
    await assertNotOutranked(trx, actor, row);
    if (row.status === 'decommissioned') throw new AppError('principal_decommissioned', `principal '${row.name}' is decommissioned and cannot change`);
    if (input.expected_version !== undefined && input.expected_version !== row.version) {
      throw new AppError('version_mismatch', `principal '${row.name}' is at version ${row.version}, not ${input.expected_version}`);
    }
    const team = await resolveTeamRef(trx, input.team);
    const before = await viewOf(trx, row);
    if (isOwnerRole(actor)) {
      const bad = ownerWideningFields(before, input);
      if (team && !ownerMayPickTeam(actor, team.id)) bad.push('team');
      if (bad.length) {
        throw new AppError('forbidden', `owners cannot reassign ownership, postpone reviews, pick a home team they do not belong to or widen what a principal may do (${bad.join(', ')}); ask an admin or security operator`, { fields: bad });
      }
    }
    const patch: Partial<PrincipalsTable> = {};
    const changed: string[] = [];
    const set = <K extends keyof PrincipalsTable>(k: K, v: PrincipalsTable[K] | undefined) => {
      if (v !== undefined && v !== row[k]) {
        patch[k] = v;
        changed.push(k);
      }
    };
    if (input.owner !== undefined || input.owner_team !== undefined) {
      const next = await resolveOwner(trx, subjectOf(row.kind), input, ownerOf(row));
      set('owner_principal_id', next.ownerId);
      set('owner_team_id', next.ownerTeamId);
      // A new owner (resolveOwner admits only active humans and existing teams) adopts the principal;
      // keeping the same, inactive human owner leaves it orphaned.
      set('orphaned', next.ownerId !== null && next.ownerId === row.owner_principal_id ? row.orphaned : 0);
    }
    if (team !== undefined) set('team_id', team?.id ?? null);
    set('display_name', input.display_name);
    set('description', input.description);
    set('autonomy', input.autonomy);
    set('platform', input.platform);
    set('framework', input.framework);
    set('environment', input.environment);
    set('data_ceiling', input.data_ceiling);
    if (row.status === 'proposed' && input.risk_tier !== undefined && needsRegistration(row) && !needsRegistration({ kind: row.kind, risk_tier: input.risk_tier })) {
      // Lowering the tier of a proposal would let it be activated without the registration approval it awaits.
      throw new AppError('registration_required', `'${row.name}' is a proposed ${row.risk_tier} risk ${row.kind}: its tier cannot be lowered before its registration request is approved`);
    }
    set('risk_tier', input.risk_tier);
    if (input.review_due_at) {
      set('review_due_at', new Date(input.review_due_at).toISOString());
    } else if (input.risk_tier !== undefined && input.risk_tier !== row.risk_tier && row.status !== 'proposed') {
      set('review_due_at', reviewDueAfterTierChange(row.review_due_at, clock.now(), input.risk_tier));
    }
    if (input.scopes) set('scopes', JSON.stringify(input.scopes));
    if (input.purposes) set('purposes', JSON.stringify(input.purposes));
    if (input.external_ids) set('external_ids', JSON.stringify(input.external_ids));
    if (input.may_delegate_to) {
      const current = JSON.parse(row.may_delegate_to) as string[];
      set('may_delegate_to', JSON.stringify((await resolveDelegates(trx, actor, input.may_delegate_to, current)).entries));
    }
    const labels = nextLabels(JSON.parse(row.labels) as Record<string, string>, input);
    if (labels && !sameLabels(labels, JSON.parse(row.labels) as Record<string, string>)) set('labels', JSON.stringify(labels));
    if (changed.length === 0) return before;
    const now = clock.now().toISOString();
    await repo.updatePrincipal(trx, row.id, { ...patch, updated_at: now, version: row.version + 1 });
    const after = await reload(trx, row.id);
    await recordChange(trx, batch, actor, 'principal.updated', row, {
      reason: input.reason ?? null,
      changed,
      before: pick(before, changed),
      after: pick(after, changed),
    });
    return after;
  }

  /**
   * Moves a principal through its lifecycle inside the caller's transaction. A proposed high or critical risk
   * principal becomes active only through an approved registration request: the approvals module passes
   * `registration` when one is approved; every other caller is refused (409 registration_required).
   */
  async function transitionIn(trx: Trx, batch: WriteBatch, actor: Actor, ref: string, action: LifecycleAction, reason: string | undefined,
    via: { registration?: string } = {}): Promise<PrincipalView> {
    const to = LIFECYCLE_ACTIONS[action];
    const row = await loadVisible(trx, actor, ref);
    assertCanManage(actor, row);
    if (to === 'active' && row.status === 'proposed' && needsRegistration(row) && !via.registration) {
      throw new AppError('registration_required', `'${row.name}' is a ${row.risk_tier} risk ${row.kind}: it becomes active only through an approved registration request (custos request create ${row.name} --register …)`);
    }
    if (isOwnerRole(actor) && to === 'active') {
      throw errors.forbidden('owners cannot activate principals; an admin or security operator approves activation');
    }
    if (actor.principal?.id === row.id) throw errors.forbidden('you cannot change your own lifecycle status');
    await assertNotOutranked(trx, actor, row);
    assertTransition(row.status as PrincipalStatus, to);
    if (to !== 'active') await assertNotLastAdmin(trx, row);
    const now = clock.now();
    await repo.updatePrincipal(trx, row.id, {
      status: to,
      status_reason: reason ?? null,
      updated_at: now.toISOString(),
      version: row.version + 1,
      // Activation starts the review clock.
      ...(to === 'active' && row.status === 'proposed' ? { review_due_at: reviewDueAt(now, row.risk_tier as RiskTier) } : {}),
      // A decommissioned principal needs no new owner, so it leaves the reassignment list.
      ...(to === 'decommissioned' ? { orphaned: 0 } : {}),
    });
    await recordChange(trx, batch, actor, `principal.${action === 'activate' ? 'activated' : action === 'suspend' ? 'suspended' : 'decommissioned'}`, row, {
      reason: reason ?? null, from: row.status, to, ...(via.registration ? { registration_request: via.registration } : {}),
    });
    // A principal that can no longer act loses what it holds, in this transaction: tokens, keys, secrets.
    if (to !== 'active') await deps.credentials?.revokeAllOf(trx, batch, actor, row.id, `principal ${to}${reason ? `: ${reason}` : ''}`);
    if (row.kind === 'human') {
      // A human who can no longer act leaves what they own without an accountable owner.
      const orphan = to !== 'active';
      const affected = await repo.setOrphanedForOwner(trx, row.id, orphan, now.toISOString());
      if (affected.length) {
        await recordChange(trx, batch, actor, orphan ? 'principal.orphaned' : 'principal.adopted', row, {
          owner_status: to, principals: affected,
        });
      }
    }
    return reload(trx, row.id);
  }

  return {
    createIn,

    async create(actor: Actor, input: CreatePrincipalInput): Promise<PrincipalView> {
      return db.write((trx, batch) => createIn(trx, batch, actor, input));
    },

    async get(actor: Actor, ref: string): Promise<PrincipalView> {
      return viewOf(db.kysely, await loadVisible(db.kysely, actor, ref));
    },

    async list(actor: Actor, query: ListPrincipalsQuery) {
      const after = decodeCursor(query.cursor);
      const owner = query.owner ? await repo.findPrincipalCore(db.kysely, query.owner) : undefined;
      // An owner filtering by a human they may not see gets the same answer as for one that does not exist.
      if (query.owner && (!owner || !canSee(actor, owner.id, owner.owner_principal_id, null))) throw errors.notFound('principal', query.owner);
      const ownerId = owner?.id;
      const refTeam = async (ref?: string) => {
        if (!ref) return undefined;
        const t = await findTeam(db.kysely, ref);
        if (!t) throw new AppError('team_not_found', `team '${ref}' does not exist`);
        return t.id;
      };
      const rows = await repo.listPrincipals(db.kysely, {
        kind: query.kind,
        status: query.status,
        ownerId,
        ownerTeamId: await refTeam(query.owner_team),
        teamId: await refTeam(query.team),
        environment: query.environment,
        riskTier: query.risk_tier,
        autonomy: query.autonomy,
        orphaned: query.orphaned,
        reviewDueBefore: query.review_overdue ? clock.now().toISOString() : undefined,
        label: parseLabelFilter(query.label),
        namePrefix: query.name_prefix,
        visibleTo: listVisibility(actor),
        afterId: after === undefined ? undefined : String(after),
        limit: query.limit + 1,
      });
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: await viewsOf(db.kysely, page.items), next_cursor: page.next_cursor };
    },

    async update(actor: Actor, ref: string, input: UpdatePrincipalInput): Promise<PrincipalView> {
      return db.write((trx, batch) => updateIn(trx, batch, actor, ref, input));
    },

    updateIn,

    async transition(actor: Actor, ref: string, action: LifecycleAction, reason: string | undefined): Promise<PrincipalView> {
      return db.write((trx, batch) => transitionIn(trx, batch, actor, ref, action, reason));
    },

    transitionIn,

    async markReviewed(actor: Actor, ref: string, reason: string | undefined): Promise<PrincipalView> {
      return db.write(async (trx, batch) => {
        const row = await loadVisible(trx, actor, ref);
        assertCanManage(actor, row);
        if (actor.principal?.id === row.id) throw errors.forbidden('you cannot review yourself');
        await assertNotOutranked(trx, actor, row);
        if (row.status === 'decommissioned') throw new AppError('principal_decommissioned', `principal '${row.name}' is decommissioned`);
        const now = clock.now();
        const due = reviewDueAt(now, row.risk_tier as RiskTier);
        await repo.updatePrincipal(trx, row.id, { review_due_at: due, updated_at: now.toISOString(), version: row.version + 1 });
        await recordChange(trx, batch, actor, 'principal.reviewed', row, { reason: reason ?? null, previous_due: row.review_due_at, next_due: due });
        return reload(trx, row.id);
      });
    },
  };
}

export type PrincipalService = ReturnType<typeof createPrincipalService>;

function pick(view: PrincipalView, keys: string[]): Record<string, unknown> {
  const map: Record<string, keyof PrincipalView> = { owner_principal_id: 'owner', owner_team_id: 'owner_team', team_id: 'team' };
  return Object.fromEntries(keys.map((k) => {
    const viewKey = map[k] ?? (k as keyof PrincipalView);
    return [viewKey, view[viewKey]];
  }));
}

/** `names` holds the names of the principals its may_delegate_to lists (ids without a name are shown as ids). */
export function toView(row: repo.PrincipalRow, names: ReadonlyMap<string, string> = new Map()): PrincipalView {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as PrincipalView['kind'],
    display_name: row.display_name,
    description: row.description,
    status: row.status as PrincipalView['status'],
    owner: row.owner_principal_id ? { id: row.owner_principal_id, name: row.owner_name ?? '' } : null,
    owner_team: row.owner_team_id ? { id: row.owner_team_id, name: row.owner_team_name ?? '' } : null,
    team: row.team_id ? { id: row.team_id, name: row.team_name ?? '' } : null,
    scopes: JSON.parse(row.scopes) as string[],
    purposes: JSON.parse(row.purposes) as string[],
    autonomy: row.autonomy,
    platform: row.platform,
    framework: row.framework,
    environment: row.environment,
    data_ceiling: row.data_ceiling,
    risk_tier: row.risk_tier,
    external_ids: JSON.parse(row.external_ids) as Record<string, unknown>,
    labels: JSON.parse(row.labels) as Record<string, string>,
    may_delegate_to: delegateLabels(JSON.parse(row.may_delegate_to) as string[], names),
    orphaned: row.orphaned === 1,
    review_due_at: row.review_due_at,
    status_reason: row.status_reason,
    created_at: row.created_at,
    created_by: row.created_by,
    updated_at: row.updated_at,
    version: row.version,
  };
}
