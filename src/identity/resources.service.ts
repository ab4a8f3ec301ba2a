import type { Actor } from '../platform/actor.js';
import type { AuditWriter } from '../audit/index.js';
import type { Clock } from '../platform/clock.js';
import type { Database, Trx, WriteBatch } from '../platform/store/db.js';
import { AppError, errors } from '../platform/http/errors.js';
import type { IdGenerator } from '../platform/ids.js';
import { decodeCursor, pageOf } from '../platform/http/pagination.js';
import type { ResourcesTable } from '../platform/store/schema.js';
import { isForeignKeyViolation, isUniqueViolation } from '../platform/store/errors.js';
import { audienceOf } from './audience.js';
import { nextLabels, parseLabelFilter, sameLabels } from './labels.js';
import { resolveOwner, type Owner } from './owners.service.js';
import { canManageOwned, canSee, isOwnerRole, listVisibility, ownerResourceWideningFields } from './ownership.js';
import { findPrincipalCore, findPrincipalsByRefs } from './principals.repo.js';
import * as repo from './resources.repo.js';
import type { CreateResourceInput, ListResourcesQuery, ResourceView, UpdateResourceInput } from './resources.schemas.js';
import { findTeam } from './teams.repo.js';

// The catalog of AI assets access is governed on: models, datasets, pipelines, endpoints, tools, vector indexes.
// Owner-role operators see and manage only what they or their teams own, and may only narrow it: no new
// owner, no lower classification or risk tier, no new purposes, no parent they do not own.
// A resource may carry an audience `uri` (RFC 8707; unique: a second claim is resource_uri_taken) and the
// non-human principal that serves it (`server`, which may introspect tokens addressed to it). Owners may set
// both on what they own; a server they may not see answers principal_not_found, as one that does not exist.

export const MAX_DEPTH = 8;

const SUBJECT = { label: 'a resource', human: false };

type Q = Trx | Database['kysely'];

export function createResourceService(deps: { db: Database; audit: AuditWriter; clock: Clock; newId: IdGenerator }) {
  const { db, audit, clock } = deps;

  async function load(q: Q, ref: string): Promise<repo.ResourceRow> {
    const row = await repo.findResource(q, ref);
    if (!row) throw errors.notFound('resource', ref);
    return row;
  }

  /** The resource if the actor may see it; otherwise the same 404 as for one that does not exist. */
  async function loadVisible(q: Q, actor: Actor, ref: string): Promise<repo.ResourceRow> {
    const row = await repo.findResource(q, ref);
    if (!row || !canSee(actor, row.id, row.owner_principal_id, row.owner_team_id)) throw errors.notFound('resource', ref);
    return row;
  }

  function assertCanManage(actor: Actor, r: repo.ResourceRow) {
    if (!canManageOwned(actor, r.owner_principal_id, r.owner_team_id)) throw errors.forbidden(`resource '${r.name}' is not owned by you or your teams`);
  }

  /** Levels below a resource (0 for a leaf), counted up to MAX_DEPTH. */
  async function subtreeHeight(q: Q, id: string): Promise<number> {
    let level = [id];
    let height = 0;
    while (height < MAX_DEPTH) {
      const children = await repo.childIds(q, level);
      if (children.length === 0) break;
      height++;
      level = children;
    }
    return height;
  }

  /**
   * A parent must exist (and, for an owner-role operator, be theirs: one they may not manage answers as if it
   * did not exist), must not be the resource itself or one of its descendants (no cycles), and the resource
   * with everything below it must still fit in MAX_DEPTH levels under the parent.
   */
  async function resolveParent(q: Q, actor: Actor, parentRef: string, selfId?: string): Promise<repo.ResourceRow> {
    const parent = await repo.findResource(q, parentRef);
    if (!parent || (isOwnerRole(actor) && !canManageOwned(actor, parent.owner_principal_id, parent.owner_team_id))) {
      throw new AppError('parent_not_found', `parent resource '${parentRef}' does not exist${isOwnerRole(actor) ? ' among the resources you own' : ''}`);
    }
    // Walk the whole chain first, so a cycle is reported as one even when it would also be too deep.
    let ancestors = 0;
    let cursor: string | null = parent.id;
    while (cursor && ancestors <= MAX_DEPTH) {
      if (cursor === selfId) throw new AppError('parent_cycle', 'a resource cannot be its own ancestor');
      ancestors++;
      cursor = await repo.parentIdOf(q, cursor);
    }
    const below = selfId ? await subtreeHeight(q, selfId) : 0;
    if (cursor || ancestors + 1 + below > MAX_DEPTH) {
      throw new AppError('hierarchy_too_deep', `resource hierarchies are at most ${MAX_DEPTH} levels deep`);
    }
    return parent;
  }

  async function record(trx: Trx, batch: WriteBatch, actor: Actor, type: string, row: { id: string; name: string }, details: Record<string, unknown>) {
    await audit.record(trx, batch, { type, action: type, actor, target: { type: 'resource', id: row.id, name: row.name }, outcome: 'success', details });
  }

  /** The principal a `server` reference names: it exists (and, for an owner-role operator, is visible), is not human and not decommissioned. */
  async function resolveServer(q: Q, actor: Actor, ref: string, current: string | null): Promise<{ id: string; name: string }> {
    const [p] = await findPrincipalsByRefs(q, [ref]);
    const hidden = p && isOwnerRole(actor) && p.id !== current && !canSee(actor, p.id, p.owner_principal_id, p.owner_team_id);
    if (!p || hidden) throw new AppError('principal_not_found', `server: principal '${ref}' does not exist`);
    if (p.kind === 'human') {
      const message = `'${p.name}' is a human; a resource is served by a non-human principal (a service account, workload, agent, ...)`;
      throw errors.validation(`body/server: ${message}`, [{ location: 'body', path: '/server', message }]);
    }
    if (p.status === 'decommissioned') throw new AppError('principal_decommissioned', `server: principal '${p.name}' is decommissioned and cannot serve a resource`);
    return { id: p.id, name: p.name };
  }

  /** Refuses a uri another resource already uses (checked first so PostgreSQL's transaction stays usable). */
  async function assertUriFree(q: Q, actor: Actor, uri: string, selfId?: string): Promise<void> {
    const other = await repo.findResourceByUri(q, uri, selfId);
    if (!other) return;
    const named = canSee(actor, other.id, other.owner_principal_id, other.owner_team_id) ? ` ('${other.name}')` : '';
    throw new AppError('resource_uri_taken', `another resource${named} already uses the audience URI '${uri}'`);
  }

  /** A unique violation on insert or update: the uri (a concurrent claim), else the name. */
  function uniqueViolation(error: unknown, name: string, uri: string | null | undefined): AppError | undefined {
    if (!isUniqueViolation(error)) return undefined;
    const e = error as { constraint?: string; message?: string };
    if (uri && (e.constraint === 'resources_uri_idx' || /resources\.uri/.test(e.message ?? ''))) {
      return new AppError('resource_uri_taken', `another resource already uses the audience URI '${uri}'`);
    }
    return new AppError('name_taken', `a resource named '${name}' already exists`);
  }

  const ownerOf = (r: repo.ResourceRow): Owner => ({ ownerId: r.owner_principal_id, ownerName: r.owner_name, ownerTeamId: r.owner_team_id, ownerTeamName: r.owner_team_name });

  return {
    async create(actor: Actor, input: CreateResourceInput): Promise<ResourceView> {
      return db.write(async (trx, batch) => {
        const owner = await resolveOwner(trx, SUBJECT, input, undefined, actor);
        if (!canManageOwned(actor, owner.ownerId, owner.ownerTeamId)) throw errors.forbidden('owners may only register resources they or their teams own');
        if (isOwnerRole(actor) && input.uri) {
          throw new AppError('forbidden', 'only admin and security operators set a resource\'s audience URI (tokens addressed to it are accepted by the service at that URI)', { fields: ['uri'] });
        }
        const parent = input.parent ? await resolveParent(trx, actor, input.parent) : undefined;
        const server = input.server ? await resolveServer(trx, actor, input.server, null) : undefined;
        if (input.uri) await assertUriFree(trx, actor, input.uri);
        const now = clock.now().toISOString();
        const row: ResourcesTable = {
          id: deps.newId(), name: input.name, kind: input.kind, display_name: input.display_name ?? null, description: input.description ?? null,
          owner_principal_id: owner.ownerId, owner_team_id: owner.ownerTeamId, classification: input.classification, risk_tier: input.risk_tier,
          purposes: JSON.stringify(input.purposes ?? []), labels: JSON.stringify(input.labels ?? {}),
          parent_id: parent?.id ?? null, uri: input.uri ?? null, server_principal_id: server?.id ?? null, created_at: now, updated_at: now,
        };
        try {
          await repo.insertResource(trx, row);
        } catch (error) {
          throw uniqueViolation(error, input.name, input.uri) ?? error;
        }
        const view = toView({
          ...row, owner_name: owner.ownerName, owner_team_name: owner.ownerTeamName, parent_name: parent?.name ?? null, server_name: server?.name ?? null,
        });
        await record(trx, batch, actor, 'resource.created', row, { reason: input.reason ?? null, resource: view });
        return view;
      });
    },

    async get(actor: Actor, ref: string): Promise<ResourceView> {
      return toView(await loadVisible(db.kysely, actor, ref));
    },

    async list(actor: Actor, query: ListResourcesQuery) {
      const after = decodeCursor(query.cursor);
      const rows = await repo.listResources(db.kysely, {
        kind: query.kind,
        classification: query.classification,
        parentId: query.parent ? (await loadVisible(db.kysely, actor, query.parent)).id : undefined,
        // An unknown owner matches nothing (an empty page), like an owner whose things the caller may not see.
        ownerId: query.owner ? (await findPrincipalCore(db.kysely, query.owner))?.id ?? '-' : undefined,
        ownerTeamId: query.owner_team ? (await findTeam(db.kysely, query.owner_team))?.id ?? '-' : undefined,
        label: parseLabelFilter(query.label),
        namePrefix: query.name_prefix,
        visibleTo: listVisibility(actor),
        afterId: after === undefined ? undefined : String(after),
        limit: query.limit + 1,
      });
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: page.items.map(toView), next_cursor: page.next_cursor };
    },

    async update(actor: Actor, ref: string, input: UpdateResourceInput): Promise<ResourceView> {
      return db.write(async (trx, batch) => {
        const row = await loadVisible(trx, actor, ref);
        assertCanManage(actor, row);
        const before = toView(row);
        if (isOwnerRole(actor)) {
          const bad = ownerResourceWideningFields(before, input);
          // Detaching from (or moving away from) a parent someone else owns undoes their placement.
          if (input.parent !== undefined && row.parent_id !== null) {
            const current = await repo.findResource(trx, row.parent_id);
            if (current && !canManageOwned(actor, current.owner_principal_id, current.owner_team_id)) bad.push('parent');
          }
          if (bad.length) {
            throw new AppError('forbidden', `owners cannot set the audience URI, reassign ownership, lower the classification or risk tier, add purposes or move a resource away from a parent they do not own (${bad.join(', ')}); ask an admin or security operator`, { fields: bad });
          }
        }
        const patch: Partial<ResourcesTable> = {};
        const set = <K extends keyof ResourcesTable>(k: K, v: ResourcesTable[K] | undefined) => {
          if (v !== undefined && v !== row[k]) patch[k] = v;
        };
        if (input.owner !== undefined || input.owner_team !== undefined) {
          const next = await resolveOwner(trx, SUBJECT, input, ownerOf(row));
          set('owner_principal_id', next.ownerId);
          set('owner_team_id', next.ownerTeamId);
        }
        set('display_name', input.display_name);
        set('description', input.description);
        set('classification', input.classification);
        set('risk_tier', input.risk_tier);
        if (input.purposes) set('purposes', JSON.stringify(input.purposes));
        const current = JSON.parse(row.labels) as Record<string, string>;
        const labels = nextLabels(current, input);
        if (labels && !sameLabels(labels, current)) set('labels', JSON.stringify(labels));
        if (input.parent !== undefined) set('parent_id', input.parent === null ? null : (await resolveParent(trx, actor, input.parent, row.id)).id);
        if (input.server !== undefined) set('server_principal_id', input.server === null ? null : (await resolveServer(trx, actor, input.server, row.server_principal_id)).id);
        if (input.uri !== undefined && input.uri !== row.uri) {
          if (input.uri !== null) await assertUriFree(trx, actor, input.uri, row.id);
          set('uri', input.uri);
        }
        const changed = Object.keys(patch);
        if (changed.length === 0) return before;
        try {
          await repo.updateResource(trx, row.id, { ...patch, updated_at: clock.now().toISOString() });
        } catch (error) {
          throw uniqueViolation(error, row.name, patch.uri) ?? error;
        }
        const view = toView(await load(trx, row.id));
        await record(trx, batch, actor, 'resource.updated', row, { reason: input.reason ?? null, changed, before, after: view });
        return view;
      });
    },

    async remove(actor: Actor, ref: string, reason?: string): Promise<void> {
      return db.write(async (trx, batch) => {
        const row = await loadVisible(trx, actor, ref);
        assertCanManage(actor, row);
        const child = await repo.firstChild(trx, row.id);
        if (child) {
          // Name the child only to someone who may see it.
          const named = canSee(actor, child.id, child.owner_principal_id, child.owner_team_id) ? ` (e.g. '${child.name}')` : '';
          throw new AppError('resource_has_children', `resource '${row.name}' still has children${named}; move or delete them first`);
        }
        try {
          await repo.deleteResource(trx, row.id);
        } catch (error) {
          // Grants, access requests and gateway model routes keep naming it (they are evidence, or still in force).
          if (isForeignKeyViolation(error)) throw new AppError('resource_in_use', `resource '${row.name}' is still referenced by grants, access requests or gateway model routes; it cannot be deleted (unroute it, or keep it)`);
          throw error;
        }
        await record(trx, batch, actor, 'resource.deleted', row, { reason: reason ?? null, resource: toView(row) });
      });
    },
  };
}
export type ResourceService = ReturnType<typeof createResourceService>;

export function toView(r: repo.ResourceRow): ResourceView {
  return {
    id: r.id, name: r.name, kind: r.kind, display_name: r.display_name, description: r.description,
    owner: r.owner_principal_id ? { id: r.owner_principal_id, name: r.owner_name ?? '' } : null,
    owner_team: r.owner_team_id ? { id: r.owner_team_id, name: r.owner_team_name ?? '' } : null,
    classification: r.classification, risk_tier: r.risk_tier,
    purposes: JSON.parse(r.purposes) as string[], labels: JSON.parse(r.labels) as Record<string, string>,
    parent: r.parent_id ? { id: r.parent_id, name: r.parent_name ?? '' } : null,
    uri: r.uri,
    audience: audienceOf(r),
    server: r.server_principal_id ? { id: r.server_principal_id, name: r.server_name ?? '' } : null,
    created_at: r.created_at, updated_at: r.updated_at,
  };
}
