import type { Kysely } from 'kysely';
import { isUuid } from '../platform/ids.js';
import { reusable } from '../platform/store/reusable.js';
import type { DB, ResourcesTable } from '../platform/store/schema.js';
import { insertLabels, replaceLabels } from './labels.repo.js';

// Thin queries over resources; no rules live here.

type Q = Kysely<DB>;

export type ResourceRow = ResourcesTable & {
  owner_name: string | null; owner_team_name: string | null; parent_name: string | null; server_name: string | null;
};

function selectRows(db: Q) {
  return db.selectFrom('resources as r')
    .leftJoin('principals as o', 'o.id', 'r.owner_principal_id')
    .leftJoin('teams as t', 't.id', 'r.owner_team_id')
    .leftJoin('resources as pr', 'pr.id', 'r.parent_id')
    .leftJoin('principals as s', 's.id', 'r.server_principal_id')
    .selectAll('r')
    .select(['o.name as owner_name', 't.name as owner_team_name', 'pr.name as parent_name', 's.name as server_name']);
}

/** The resource (if any, other than `exceptId`) that already uses `uri` as its audience. */
export async function findResourceByUri(db: Q, uri: string, exceptId?: string) {
  let q = db.selectFrom('resources').select(['id', 'name', 'owner_principal_id', 'owner_team_id']).where('uri', '=', uri);
  if (exceptId) q = q.where('id', '!=', exceptId);
  return q.executeTakeFirst();
}

// What a token's audience check needs of a resource: one table, no joins, compiled once (the token endpoint
// runs it for every requested resource).
const audienceBy = (column: 'uri' | 'name') => reusable(1, (db, value) => db.selectFrom('resources')
  .select(['id', 'name', 'kind', 'uri', 'purposes', 'classification', 'server_principal_id'])
  .where(column, '=', value));
const audienceByUri = audienceBy('uri');
const audienceByName = audienceBy('name');

export async function findAudienceByUri(db: Q, uri: string) {
  return (await audienceByUri(db, uri)).rows[0];
}

export async function findAudienceByName(db: Q, name: string) {
  return (await audienceByName(db, name)).rows[0];
}

export async function findResource(db: Q, ref: string): Promise<ResourceRow | undefined> {
  return selectRows(db).where(isUuid(ref) ? 'r.id' : 'r.name', '=', ref).executeTakeFirst();
}

export interface ResourceFilter {
  kind?: string;
  classification?: string;
  parentId?: string;
  ownerId?: string;
  ownerTeamId?: string;
  label?: { key: string; value: string };
  namePrefix?: string;
  /** Restricts to what an owner-role operator may see. */
  visibleTo?: { principalId: string; teamIds: string[] };
  afterId?: string;
  limit: number;
}

export async function listResources(db: Q, f: ResourceFilter): Promise<ResourceRow[]> {
  let q = selectRows(db);
  if (f.kind) q = q.where('r.kind', '=', f.kind);
  if (f.classification) q = q.where('r.classification', '=', f.classification);
  if (f.parentId) q = q.where('r.parent_id', '=', f.parentId);
  if (f.ownerId) q = q.where('r.owner_principal_id', '=', f.ownerId);
  if (f.ownerTeamId) q = q.where('r.owner_team_id', '=', f.ownerTeamId);
  if (f.label) {
    const { key, value } = f.label;
    q = q.where('r.id', 'in', (s) => s.selectFrom('resource_labels').select('entity_id').where('key', '=', key).where('value', '=', value));
  }
  if (f.namePrefix) q = q.where('r.name', '>=', f.namePrefix).where('r.name', '<', f.namePrefix + '\uffff');
  if (f.visibleTo) {
    const { principalId, teamIds } = f.visibleTo;
    q = q.where((eb) => eb.or([
      eb('r.owner_principal_id', '=', principalId),
      ...(teamIds.length ? [eb('r.owner_team_id', 'in', teamIds)] : []),
    ]));
  }
  if (f.afterId) q = q.where('r.id', '>', f.afterId);
  return q.orderBy('r.id').limit(f.limit).execute();
}

export async function insertResource(db: Q, row: ResourcesTable): Promise<void> {
  await db.insertInto('resources').values(row).execute();
  await insertLabels(db, 'resource_labels', row.id, JSON.parse(row.labels) as Record<string, string>);
}

export async function updateResource(db: Q, id: string, patch: Partial<ResourcesTable>): Promise<void> {
  await db.updateTable('resources').set(patch).where('id', '=', id).execute();
  if (patch.labels !== undefined) await replaceLabels(db, 'resource_labels', id, JSON.parse(patch.labels) as Record<string, string>);
}

export async function deleteResource(db: Q, id: string): Promise<void> {
  await db.deleteFrom('resource_labels').where('entity_id', '=', id).execute();
  await db.deleteFrom('resources').where('id', '=', id).execute();
}

export async function firstChild(db: Q, id: string) {
  return db.selectFrom('resources').select(['id', 'name', 'owner_principal_id', 'owner_team_id']).where('parent_id', '=', id).orderBy('id').executeTakeFirst();
}

export async function childIds(db: Q, parentIds: string[]): Promise<string[]> {
  if (parentIds.length === 0) return [];
  return (await db.selectFrom('resources').select('id').where('parent_id', 'in', parentIds).execute()).map((r) => r.id);
}

/** Risk and classification of resources by id (what an approval rule reads of a resource's descendants). */
export async function riskOf(db: Q, ids: string[]) {
  if (ids.length === 0) return [];
  return db.selectFrom('resources').select(['id', 'name', 'kind', 'risk_tier', 'classification', 'purposes', 'owner_principal_id', 'owner_team_id'])
    .where('id', 'in', ids).execute();
}

export async function parentIdOf(db: Q, id: string): Promise<string | null> {
  return (await db.selectFrom('resources').select('parent_id').where('id', '=', id).executeTakeFirst())?.parent_id ?? null;
}
