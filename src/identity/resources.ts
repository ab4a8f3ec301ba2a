import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Actor } from '../platform/actor.js';
import type { AuditWriter } from '../audit/writer.js';
import type { Clock } from '../platform/clock.js';
import type { Database } from '../platform/store/db.js';
import { AppError, errors } from '../platform/http/errors.js';
import type { HttpApp } from '../platform/http/app.js';
import { isUuid, type IdGenerator } from '../platform/ids.js';
import { decodeCursor, pageOf, pageSchema, paginationQuery } from '../platform/http/pagination.js';
import type { DB, ResourcesTable } from '../platform/store/schema.js';
import { isUniqueViolation } from '../platform/store/errors.js';
import { insertLabels, replaceLabels } from './labels.repo.js';
import { canManageOwned } from './ownership.js';
import { findPrincipal } from './principals.repo.js';
import { labelsSchema, nameSchema, reasonSchema, refSchema, text, tokenList } from './principals.schemas.js';
import { CLASSIFICATIONS, RESOURCE_KINDS, RISK_TIERS } from './taxonomy.js';
import { findTeam } from './teams.repo.js';

// The catalog of AI assets access is governed on: models, datasets, pipelines, endpoints, tools, vector indexes.

export const MAX_DEPTH = 8;

export const createResourceBody = z.strictObject({
  name: nameSchema,
  kind: z.enum(RESOURCE_KINDS),
  display_name: text(200).optional(),
  description: text(4000).optional(),
  owner: refSchema.optional(),
  owner_team: refSchema.optional(),
  classification: z.enum(CLASSIFICATIONS).default('internal'),
  risk_tier: z.enum(RISK_TIERS).default('medium'),
  purposes: tokenList.optional(),
  labels: labelsSchema.optional(),
  parent: refSchema.optional().describe('Parent resource (id or name), e.g. the project a dataset belongs to'),
  reason: reasonSchema,
});
export const updateResourceBody = z.strictObject({
  display_name: text(200).nullable().optional(),
  description: text(4000).nullable().optional(),
  owner: refSchema.optional(),
  owner_team: refSchema.optional(),
  classification: z.enum(CLASSIFICATIONS).optional(),
  risk_tier: z.enum(RISK_TIERS).optional(),
  purposes: tokenList.optional(),
  labels: labelsSchema.optional(),
  parent: refSchema.nullable().optional(),
  reason: reasonSchema,
});
const ref = z.object({ id: z.string(), name: z.string() }).nullable();
export const resourceSchema = z.object({
  id: z.string(), name: z.string(), kind: z.string(), display_name: z.string().nullable(), description: z.string().nullable(),
  owner: ref, owner_team: ref, classification: z.string(), risk_tier: z.string(), purposes: z.array(z.string()),
  labels: z.record(z.string(), z.string()), parent: ref, created_at: z.string(), updated_at: z.string(),
});
export type ResourceView = z.infer<typeof resourceSchema>;
export const listResourcesQuery = z.strictObject({
  ...paginationQuery,
  kind: z.enum(RESOURCE_KINDS).optional(),
  classification: z.enum(CLASSIFICATIONS).optional(),
  parent: refSchema.optional(),
  owner: refSchema.optional(),
  owner_team: refSchema.optional(),
  label: z.string().max(400).regex(/^[^=]+=.*$/, 'label filter is key=value').optional(),
  name_prefix: z.string().max(63).optional(),
});

type Row = ResourcesTable & { owner_name: string | null; owner_team_name: string | null; parent_name: string | null };

function selectRows(db: Kysely<DB>) {
  return db.selectFrom('resources as r')
    .leftJoin('principals as o', 'o.id', 'r.owner_principal_id')
    .leftJoin('teams as t', 't.id', 'r.owner_team_id')
    .leftJoin('resources as pr', 'pr.id', 'r.parent_id')
    .selectAll('r')
    .select(['o.name as owner_name', 't.name as owner_team_name', 'pr.name as parent_name']);
}

function findResource(db: Kysely<DB>, refValue: string): Promise<Row | undefined> {
  return selectRows(db).where(isUuid(refValue) ? 'r.id' : 'r.name', '=', refValue).executeTakeFirst();
}

function toView(r: Row): ResourceView {
  return {
    id: r.id, name: r.name, kind: r.kind, display_name: r.display_name, description: r.description,
    owner: r.owner_principal_id ? { id: r.owner_principal_id, name: r.owner_name ?? '' } : null,
    owner_team: r.owner_team_id ? { id: r.owner_team_id, name: r.owner_team_name ?? '' } : null,
    classification: r.classification, risk_tier: r.risk_tier,
    purposes: JSON.parse(r.purposes) as string[], labels: JSON.parse(r.labels) as Record<string, string>,
    parent: r.parent_id ? { id: r.parent_id, name: r.parent_name ?? '' } : null,
    created_at: r.created_at, updated_at: r.updated_at,
  };
}

export function createResourceService(deps: { db: Database; audit: AuditWriter; clock: Clock; newId: IdGenerator }) {
  const { db, audit, clock } = deps;

  async function load(q: Kysely<DB>, refValue: string): Promise<Row> {
    const row = await findResource(q, refValue);
    if (!row) throw errors.notFound('resource', refValue);
    return row;
  }

  async function resolveOwner(q: Kysely<DB>, owner?: string, ownerTeam?: string) {
    if (owner && ownerTeam) throw new AppError('owner_ambiguous', 'give either owner or owner_team, not both');
    if (owner) {
      const p = await findPrincipal(q, owner);
      if (!p) throw new AppError('owner_not_found', `owner '${owner}' is not a registered principal`);
      if (p.kind !== 'human' || p.status !== 'active') throw new AppError('owner_not_active_human', `owner '${p.name}' must be an active human`);
      return { owner_principal_id: p.id, owner_team_id: null };
    }
    if (ownerTeam) {
      const t = await findTeam(q, ownerTeam);
      if (!t) throw new AppError('team_not_found', `team '${ownerTeam}' does not exist`);
      return { owner_principal_id: null, owner_team_id: t.id };
    }
    return undefined;
  }

  /** Levels below a resource (0 for a leaf), counted up to MAX_DEPTH. */
  async function subtreeHeight(q: Kysely<DB>, id: string): Promise<number> {
    let level = [id];
    let height = 0;
    while (height < MAX_DEPTH) {
      const children = await q.selectFrom('resources').select('id').where('parent_id', 'in', level).execute();
      if (children.length === 0) break;
      height++;
      level = children.map((c) => c.id);
    }
    return height;
  }

  /**
   * A parent must exist and must not be the resource itself or one of its descendants (no cycles), and the
   * resource with everything below it must still fit in MAX_DEPTH levels under the parent.
   */
  async function resolveParent(q: Kysely<DB>, parentRef: string, selfId?: string): Promise<string> {
    const parent = await findResource(q, parentRef);
    if (!parent) throw new AppError('parent_not_found', `parent resource '${parentRef}' does not exist`);
    // Walk the whole chain first, so a cycle is reported as one even when it would also be too deep.
    let ancestors = 0;
    let cursor: string | null = parent.id;
    while (cursor && ancestors <= MAX_DEPTH) {
      if (cursor === selfId) throw new AppError('parent_cycle', 'a resource cannot be its own ancestor');
      ancestors++;
      const up: { parent_id: string | null } | undefined = await q.selectFrom('resources').select('parent_id').where('id', '=', cursor).executeTakeFirst();
      cursor = up?.parent_id ?? null;
    }
    const below = selfId ? await subtreeHeight(q, selfId) : 0;
    if (cursor || ancestors + 1 + below > MAX_DEPTH) {
      throw new AppError('hierarchy_too_deep', `resource hierarchies are at most ${MAX_DEPTH} levels deep`);
    }
    return parent.id;
  }

  function assertCanManage(actor: Actor, r: Row) {
    if (!canManageOwned(actor, r.owner_principal_id, r.owner_team_id)) throw errors.forbidden(`resource '${r.name}' is not owned by you or your teams`);
  }

  return {
    async create(actor: Actor, input: z.infer<typeof createResourceBody>): Promise<ResourceView> {
      return db.write(async (trx, batch) => {
        const owner = await resolveOwner(trx, input.owner, input.owner_team);
        if (!owner) throw new AppError('owner_required', 'a resource must have an owner or an owner_team');
        if (!canManageOwned(actor, owner.owner_principal_id, owner.owner_team_id)) throw errors.forbidden('owners may only register resources they or their teams own');
        const now = clock.now().toISOString();
        const row: ResourcesTable = {
          id: deps.newId(), name: input.name, kind: input.kind, display_name: input.display_name ?? null, description: input.description ?? null,
          ...owner, classification: input.classification, risk_tier: input.risk_tier,
          purposes: JSON.stringify(input.purposes ?? []), labels: JSON.stringify(input.labels ?? {}),
          parent_id: input.parent ? await resolveParent(trx, input.parent) : null, created_at: now, updated_at: now,
        };
        try {
          await trx.insertInto('resources').values(row).execute();
        } catch (error) {
          if (isUniqueViolation(error)) throw new AppError('name_taken', `a resource named '${input.name}' already exists`);
          throw error;
        }
        await insertLabels(trx, 'resource_labels', row.id, input.labels ?? {});
        const view = toView(await load(trx, row.id));
        await audit.record(trx, batch, { type: 'resource.created', action: 'resource.created', actor, target: { type: 'resource', id: row.id, name: row.name }, outcome: 'success', details: { reason: input.reason ?? null, resource: view } });
        return view;
      });
    },
    async get(refValue: string) {
      return toView(await load(db.kysely, refValue));
    },
    async list(query: z.infer<typeof listResourcesQuery>) {
      const after = decodeCursor(query.cursor);
      let q = selectRows(db.kysely);
      if (query.kind) q = q.where('r.kind', '=', query.kind);
      if (query.classification) q = q.where('r.classification', '=', query.classification);
      if (query.parent) q = q.where('r.parent_id', '=', (await load(db.kysely, query.parent)).id);
      if (query.owner) q = q.where('r.owner_principal_id', '=', (await findPrincipal(db.kysely, query.owner))?.id ?? '-');
      if (query.owner_team) q = q.where('r.owner_team_id', '=', (await findTeam(db.kysely, query.owner_team))?.id ?? '-');
      if (query.label) {
        const [key, ...rest] = query.label.split('=');
        q = q.where('r.id', 'in', (s) => s.selectFrom('resource_labels').select('entity_id').where('key', '=', key!).where('value', '=', rest.join('=')));
      }
      if (query.name_prefix) q = q.where('r.name', '>=', query.name_prefix).where('r.name', '<', query.name_prefix + '\uffff');
      if (after !== undefined) q = q.where('r.id', '>', String(after));
      const rows = await q.orderBy('r.id').limit(query.limit + 1).execute();
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: page.items.map(toView), next_cursor: page.next_cursor };
    },
    async update(actor: Actor, refValue: string, input: z.infer<typeof updateResourceBody>) {
      return db.write(async (trx, batch) => {
        const row = await load(trx, refValue);
        assertCanManage(actor, row);
        const owner = await resolveOwner(trx, input.owner, input.owner_team);
        if (owner && actor.role === 'owner') throw errors.forbidden('owners cannot reassign ownership');
        const patch: Partial<ResourcesTable> = {
          ...(input.display_name !== undefined ? { display_name: input.display_name } : {}),
          ...(input.description !== undefined ? { description: input.description } : {}),
          ...(owner ?? {}),
          ...(input.classification ? { classification: input.classification } : {}),
          ...(input.risk_tier ? { risk_tier: input.risk_tier } : {}),
          ...(input.purposes ? { purposes: JSON.stringify(input.purposes) } : {}),
          ...(input.labels ? { labels: JSON.stringify(input.labels) } : {}),
          ...(input.parent !== undefined ? { parent_id: input.parent === null ? null : await resolveParent(trx, input.parent, row.id) } : {}),
        };
        const changed = Object.keys(patch);
        if (changed.length === 0) return toView(row);
        await trx.updateTable('resources').set({ ...patch, updated_at: clock.now().toISOString() }).where('id', '=', row.id).execute();
        if (input.labels) await replaceLabels(trx, 'resource_labels', row.id, input.labels);
        const view = toView(await load(trx, row.id));
        await audit.record(trx, batch, { type: 'resource.updated', action: 'resource.updated', actor, target: { type: 'resource', id: row.id, name: row.name }, outcome: 'success', details: { reason: input.reason ?? null, changed, before: toView(row), after: view } });
        return view;
      });
    },
    async remove(actor: Actor, refValue: string, reason?: string) {
      return db.write(async (trx, batch) => {
        const row = await load(trx, refValue);
        assertCanManage(actor, row);
        const child = await trx.selectFrom('resources').select('name').where('parent_id', '=', row.id).executeTakeFirst();
        if (child) throw new AppError('resource_has_children', `resource '${row.name}' still has children (e.g. '${child.name}'); move or delete them first`);
        await trx.deleteFrom('resources').where('id', '=', row.id).execute();
        await audit.record(trx, batch, { type: 'resource.deleted', action: 'resource.deleted', actor, target: { type: 'resource', id: row.id, name: row.name }, outcome: 'success', details: { reason: reason ?? null, resource: toView(row) } });
      });
    },
  };
}
export type ResourceService = ReturnType<typeof createResourceService>;

const tags = ['resources'];
const refParams = z.strictObject({ ref: refSchema });

export function registerResourceRoutes(app: HttpApp, resources: ResourceService): void {
  app.post('/v1/resources', { config: { permission: 'resource.write' }, schema: { tags, summary: 'Register an AI asset', body: createResourceBody, response: { 201: resourceSchema } } },
    async (req, reply) => reply.code(201).send(await resources.create(req.actor, req.body)));
  app.get('/v1/resources', { config: { permission: 'resource.read' }, schema: { tags, summary: 'List resources', querystring: listResourcesQuery, response: { 200: pageSchema(resourceSchema) } } },
    async (req) => resources.list(req.query));
  app.get('/v1/resources/:ref', { config: { permission: 'resource.read' }, schema: { tags, summary: 'Show a resource', params: refParams, response: { 200: resourceSchema } } },
    async (req) => resources.get(req.params.ref));
  app.patch('/v1/resources/:ref', { config: { permission: 'resource.write' }, schema: { tags, summary: 'Update a resource', params: refParams, body: updateResourceBody, response: { 200: resourceSchema } } },
    async (req) => resources.update(req.actor, req.params.ref, req.body));
  app.delete('/v1/resources/:ref', { config: { permission: 'resource.write' }, schema: { tags, summary: 'Delete a resource without children', params: refParams, response: { 204: z.null() } } },
    async (req, reply) => { await resources.remove(req.actor, req.params.ref); return reply.code(204).send(null); });
}
