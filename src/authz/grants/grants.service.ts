import type { AuditWriter } from '../../audit/index.js';
import type { Actor } from '../../platform/actor.js';
import type { Clock } from '../../platform/clock.js';
import { AppError, errors } from '../../platform/http/errors.js';
import type { IdGenerator } from '../../platform/ids.js';
import { decodeCursor, pageOf } from '../../platform/http/pagination.js';
import type { Database, Trx, WriteBatch } from '../../platform/store/db.js';
import type { GrantsTable } from '../../platform/store/schema.js';
import { ASSET_ACTIONS, type AssetAction } from '../contracts.js';
import { describeExpiryProblem, grantExpiry, grantStatus, MAX_GRANT_SECONDS, normaliseActions, purposeProblem } from './grant-rules.js';
import type { CreateGrantInput, GrantView, ListGrantsQuery, RevokeGrantInput } from './grants.schemas.js';
import * as repo from './grants.repo.js';

// Time-bound grants: a principal may do these asset actions on this resource (and everything below it), for this
// purpose, until this instant. A grant row becomes a Cedar template-linked policy (policy-set.ts) whose condition
// carries the expiry and the purpose, so the decision point enforces both; writing a row bumps the policy counter
// in the same transaction (migration 0006), so the next decision on any node sees it, and a revocation takes
// effect at once. Every change is audited in the same db.write job.
//
// Who: through the API, admins create, up to medium risk (a creation rule the approvals module adds refuses direct
// grants on high and critical resources, or on resources with such descendants: those need an approved request) (`grant.write` is also in the security role, but the issue keeps direct
// grants to admins; security operators may revoke, as incident response needs). Nobody grants to themselves, nor
// to a principal they own directly or through one of their teams (an owner manages that principal's credentials and
// acts through it: that would be a self-grant). The rule is in createGrant, so approvals obey it too.
// The approvals module creates grants through `createGrant` inside its own transaction (source `approval`), passing
// its workflow actor (no principal), so the approval rules — not one person's — decide.
//
// Revoking early: admins and security always; the resource's owner (the owning principal or a member of the owning
// team); the grantee itself (giving access up is always safe); and whoever an added revoker rule admits (the
// approvals module: the approvers of the request that produced the grant). Revocation listeners run inside the
// revoking transaction (the approvals module reports `grant.revoked` to webhooks there).

export interface NewGrant {
  /** The grantee: principal id or name. */
  principal: string;
  /** The registry resource: id or name. */
  resource: string;
  actions: readonly AssetAction[];
  purpose?: string | null;
  /** Exactly one of an absolute end (ISO 8601) or a duration from now. */
  expiresAt?: string;
  durationSeconds?: number;
  reason: string;
  source: GrantsTable['source'];
  /** What produced it, e.g. the access request's id. */
  sourceRef?: string | null;
}

/** The roles that may create grants directly through /v1/grants. */
const CREATORS = new Set(['admin']);
/** The roles that may revoke any grant (incident response included). */
const REVOKERS = new Set(['admin', 'security']);

/** Whether `actor` may revoke `grant` beyond the rules above (e.g. an approver of the request behind it). */
export type RevokerRule = (trx: Trx, actor: Actor, grant: { id: string; source: GrantsTable['source']; source_ref: string | null }) => Promise<boolean>;
/** Refuses a direct grant (throws) that must go through an approval instead (the approvals module's rule). */
export type CreationRule = (trx: Trx, actor: Actor, grant: { principal: string; resource: string }) => Promise<void>;
export type RevocationListener = (trx: Trx, batch: WriteBatch, actor: Actor, grant: GrantView, reason: string) => Promise<void>;

function by(actor: Actor): string | null {
  return actor.principal?.id ?? actor.label;
}

function toView(row: repo.GrantRow, now: Date): GrantView {
  return {
    id: row.id,
    status: grantStatus(row, now),
    principal: { id: row.principal_id, name: row.principal_name, kind: row.principal_kind },
    resource: { id: row.resource_id, name: row.resource_name, kind: row.resource_kind },
    actions: JSON.parse(row.actions) as string[],
    purpose: row.purpose,
    expires_at: row.expires_at,
    reason: row.reason,
    source: row.source,
    source_ref: row.source_ref,
    granted_by: row.granted_by === null ? null : { id: row.granted_by, name: row.granted_by_name ?? row.granted_by },
    created_at: row.created_at,
    revoked_at: row.revoked_at,
    revoked_by: row.revoked_by === null ? null : { id: row.revoked_by, name: row.revoked_by_name ?? row.revoked_by },
    revoked_reason: row.revoked_reason,
  };
}

function auditTarget(row: repo.GrantRow) {
  return { type: 'grant', id: row.id, name: `${row.principal_name} → ${row.resource_name}` };
}

export function createGrantService(deps: { db: Database; audit: AuditWriter; clock: Clock; newId: IdGenerator }) {
  const { db, audit, clock } = deps;
  const revokerRules: RevokerRule[] = [];
  const revocationListeners: RevocationListener[] = [];
  const creationRules: CreationRule[] = [];

  async function mayRevoke(trx: Trx, actor: Actor, row: repo.GrantRow): Promise<boolean> {
    if (actor.role && REVOKERS.has(actor.role)) return true;
    const me = actor.principal?.id;
    if (!me) return false;
    if (row.principal_id === me || row.resource_owner_id === me) return true;
    if (row.resource_owner_team_id !== null && actor.teamIds.includes(row.resource_owner_team_id)) return true;
    for (const rule of revokerRules) if (await rule(trx, actor, row)) return true;
    return false;
  }

  async function load(q: Trx | Database['kysely'], id: string) {
    const row = await repo.findGrant(q, id);
    if (!row) throw errors.notFound('grant', id);
    return row;
  }

  /**
   * Creates a grant inside the caller's transaction and records `grant.created` in it. Checks: the principal
   * exists and is not decommissioned, it is neither the actor nor owned by the actor or one of its teams, the resource exists, the purpose is one both allow, the expiry is within
   * the bounds. The caller decides who may grant (the route: admins; approvals: its own rules).
   */
  async function createGrant(trx: Trx, batch: WriteBatch, actor: Actor, input: NewGrant): Promise<GrantView> {
    const now = clock.now();
    const principal = await repo.findGrantee(trx, input.principal);
    if (!principal) throw new AppError('principal_not_found', `principal '${input.principal}' does not exist`);
    if (principal.status === 'decommissioned') throw new AppError('principal_decommissioned', `principal '${principal.name}' is decommissioned`);
    const resource = await repo.findGrantResource(trx, input.resource);
    if (!resource) throw new AppError('resource_not_found', `resource '${input.resource}' does not exist`);
    if (actor.principal && actor.principal.id === principal.id) {
      throw errors.forbidden('nobody grants access to themselves: ask another administrator (or file an access request)');
    }
    if (actor.principal && principal.owner_principal_id === actor.principal.id) {
      throw errors.forbidden(`'${principal.name}' is owned by you: nobody grants access to a principal they own (they act through it); ask another administrator (or file an access request)`);
    }
    if (principal.owner_team_id !== null && actor.teamIds.includes(principal.owner_team_id)) {
      throw errors.forbidden(`'${principal.name}' is owned by a team you belong to: nobody grants access to a principal they own (they act through it); ask an administrator outside the team (or file an access request)`);
    }
    const actions = normaliseActions(input.actions, ASSET_ACTIONS);
    if (actions.length === 0) throw errors.validation('a grant needs at least one action', [{ path: ['actions'], message: 'empty' }]);
    const purpose = input.purpose ?? null;
    const purposeIssue = purposeProblem(purpose, JSON.parse(principal.purposes) as string[], JSON.parse(resource.purposes) as string[]);
    if (purposeIssue) throw new AppError('purpose_not_allowed', purposeIssue);
    const expiry = grantExpiry(now, { expiresAt: input.expiresAt, durationSeconds: input.durationSeconds });
    if ('problem' in expiry) {
      const detail = describeExpiryProblem(expiry.problem);
      if (expiry.problem.kind === 'too_long') throw new AppError('grant_too_long', detail, { max_seconds: MAX_GRANT_SECONDS });
      throw errors.validation(detail, [{ path: [input.expiresAt !== undefined ? 'expires_at' : 'duration_seconds'], message: detail }]);
    }
    const row: GrantsTable = {
      id: deps.newId(),
      principal_id: principal.id,
      resource_id: resource.id,
      actions: JSON.stringify(actions),
      purpose,
      expires_at: expiry.expiresAt.toISOString(),
      reason: input.reason,
      source: input.source,
      source_ref: input.sourceRef ?? null,
      granted_by: by(actor),
      created_at: now.toISOString(),
      revoked_at: null,
      revoked_by: null,
      revoked_reason: null,
    };
    await repo.insertGrant(trx, row);
    const stored = await load(trx, row.id);
    await audit.record(trx, batch, {
      type: 'grant.created', action: 'grant.created', actor, target: auditTarget(stored), outcome: 'success', purpose,
      details: {
        principal: { id: principal.id, name: principal.name }, resource: { id: resource.id, name: resource.name, kind: resource.kind },
        actions, purpose, expires_at: row.expires_at, reason: input.reason, source: input.source, source_ref: row.source_ref,
      },
    });
    return toView(stored, now);
  }

  /** Revokes a grant inside the caller's transaction (`grant.revoked` recorded in it); 409 if it already was. */
  async function revokeGrant(trx: Trx, batch: WriteBatch, actor: Actor, id: string, reason: string): Promise<GrantView> {
    const before = await load(trx, id);
    const now = clock.now();
    if (!(await repo.revokeGrant(trx, id, now.toISOString(), by(actor), reason))) {
      throw new AppError('grant_already_revoked', `grant '${id}' was revoked at ${before.revoked_at}`);
    }
    const after = await load(trx, id);
    await audit.record(trx, batch, {
      type: 'grant.revoked', action: 'grant.revoked', actor, target: auditTarget(after), outcome: 'success', purpose: after.purpose,
      details: {
        principal: { id: after.principal_id, name: after.principal_name }, resource: { id: after.resource_id, name: after.resource_name },
        actions: JSON.parse(after.actions) as string[], reason, was: grantStatus(before, now),
      },
    });
    const view = toView(after, now);
    for (const listener of revocationListeners) await listener(trx, batch, actor, view, reason);
    return view;
  }

  return {
    createGrant,
    revokeGrant,
    addRevokerRule(rule: RevokerRule) { revokerRules.push(rule); },
    onRevoked(listener: RevocationListener) { revocationListeners.push(listener); },
    /** A rule every direct grant (`POST /v1/grants`) must pass; approvals and break-glass grants are theirs to rule. */
    addCreationRule(rule: CreationRule) { creationRules.push(rule); },

    /** Grants in force now for a principal, inside the caller's transaction (access reviews list them). */
    async activeGrantsOf(trx: Trx, principalId: string): Promise<GrantView[]> {
      const now = clock.now();
      const rows = await repo.listGrants(trx, { principalId, limit: 1000, active: { now: now.toISOString(), value: true } });
      return rows.map((r) => toView(r, now));
    },

    async create(actor: Actor, input: CreateGrantInput): Promise<GrantView> {
      if (!actor.role || !CREATORS.has(actor.role)) throw errors.forbidden('only admins create grants directly; others file an access request');
      return db.write(async (trx, batch) => {
        for (const rule of creationRules) await rule(trx, actor, { principal: input.principal, resource: input.resource });
        return createGrant(trx, batch, actor, {
          principal: input.principal, resource: input.resource, actions: input.actions, purpose: input.purpose ?? null,
          expiresAt: input.expires_at, durationSeconds: input.duration_seconds, reason: input.reason, source: 'admin',
        });
      });
    },

    async revoke(actor: Actor, id: string, input: RevokeGrantInput): Promise<GrantView> {
      return db.write(async (trx, batch) => {
        if (!(await mayRevoke(trx, actor, await load(trx, id)))) {
          throw errors.forbidden('grants are revoked early by admins, security, the resource\'s owner, the approvers of the request behind the grant, or the grantee');
        }
        return revokeGrant(trx, batch, actor, id, input.reason);
      });
    },

    async get(_actor: Actor, id: string): Promise<GrantView> {
      return toView(await load(db.kysely, id), clock.now());
    },

    /** Per principal and per resource; `active` at the time of the request. An unknown filter matches nothing. */
    async list(_actor: Actor, query: ListGrantsQuery) {
      const after = decodeCursor(query.cursor);
      const now = clock.now();
      const principalId = query.principal === undefined ? undefined : (await repo.findGrantee(db.kysely, query.principal))?.id ?? '-';
      const resourceId = query.resource === undefined ? undefined : (await repo.findGrantResource(db.kysely, query.resource))?.id ?? '-';
      const rows = await repo.listGrants(db.kysely, {
        afterId: after === undefined ? undefined : String(after), limit: query.limit + 1, principalId, resourceId,
        active: query.active === undefined ? undefined : { now: now.toISOString(), value: query.active },
      });
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: page.items.map((r) => toView(r, now)), next_cursor: page.next_cursor };
    },
  };
}
export type GrantService = ReturnType<typeof createGrantService>;
