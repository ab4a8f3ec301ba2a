import type { Kysely } from 'kysely';
import { isUuid } from '../../platform/ids.js';
import { reusable } from '../../platform/store/reusable.js';
import type { DB, UpstreamModelsTable, UpstreamsTable } from '../../platform/store/schema.js';

// Thin queries over upstreams and upstream_models; the only SQL of the upstreams part. No rules live here.
// It also reads `resources` (the registry's catalogue: which resource a model alias names, and its kind), as the
// grants part does: read only, never written, and routeFor needs the join to answer in one statement.

type Q = Kysely<DB>;

export type RouteRow = Pick<UpstreamModelsTable, 'provider_model'> & {
  resource_id: string;
  resource_name: string;
  resource_kind: string;
  upstream_id: string;
  upstream_name: string;
  provider: UpstreamsTable['provider'];
  base_url: string;
  key_sealed: string | null;
  settings: string;
  timeout_ms: number;
  retries: number;
};

export type RoutedModelRow = UpstreamModelsTable & { resource_name: string; resource_kind: string };

/** By id or name (a UUID is an id). */
export async function findUpstream(db: Q, ref: string): Promise<UpstreamsTable | undefined> {
  return db.selectFrom('upstreams').selectAll().where(isUuid(ref) ? 'id' : 'name', '=', ref).executeTakeFirst();
}

export async function listUpstreams(db: Q, f: { afterId?: string; provider?: UpstreamsTable['provider']; limit: number }): Promise<UpstreamsTable[]> {
  let q = db.selectFrom('upstreams').selectAll();
  if (f.afterId !== undefined) q = q.where('id', '>', f.afterId);
  if (f.provider !== undefined) q = q.where('provider', '=', f.provider);
  return q.orderBy('id').limit(f.limit).execute();
}

export async function insertUpstream(db: Q, row: UpstreamsTable): Promise<void> {
  await db.insertInto('upstreams').values(row).execute();
}

export async function updateUpstream(db: Q, id: string, change: Partial<Omit<UpstreamsTable, 'id' | 'name' | 'created_at' | 'created_by'>>): Promise<void> {
  await db.updateTable('upstreams').set(change).where('id', '=', id).execute();
}

/** Bumps the version and updated_at (a model alias changed what the upstream serves). */
export async function touchUpstream(db: Q, id: string, version: number, updatedAt: string): Promise<void> {
  await db.updateTable('upstreams').set({ version, updated_at: updatedAt }).where('id', '=', id).execute();
}

/** Removes an upstream and its model aliases. */
export async function deleteUpstream(db: Q, id: string): Promise<void> {
  await db.deleteFrom('upstream_models').where('upstream_id', '=', id).execute();
  await db.deleteFrom('upstreams').where('id', '=', id).execute();
}

/** A registry resource by id or name: what a model alias may name. */
export async function findResource(db: Q, ref: string): Promise<{ id: string; name: string; kind: string } | undefined> {
  return db.selectFrom('resources').select(['id', 'name', 'kind']).where(isUuid(ref) ? 'id' : 'name', '=', ref).executeTakeFirst();
}

/** The alias of a resource, whichever upstream serves it, with that upstream's name. */
export async function routeOfResource(db: Q, resourceId: string): Promise<(UpstreamModelsTable & { upstream_name: string }) | undefined> {
  return db.selectFrom('upstream_models as m').innerJoin('upstreams as u', 'u.id', 'm.upstream_id')
    .selectAll('m').select('u.name as upstream_name').where('m.resource_id', '=', resourceId).executeTakeFirst();
}

export async function insertRoute(db: Q, row: UpstreamModelsTable): Promise<void> {
  await db.insertInto('upstream_models').values(row).execute();
}

export async function updateRoute(db: Q, resourceId: string, providerModel: string): Promise<void> {
  await db.updateTable('upstream_models').set({ provider_model: providerModel }).where('resource_id', '=', resourceId).execute();
}

export async function deleteRoute(db: Q, resourceId: string, upstreamId: string): Promise<void> {
  await db.deleteFrom('upstream_models').where('resource_id', '=', resourceId).where('upstream_id', '=', upstreamId).execute();
}

/** The model aliases of the given upstreams, by resource name. */
export async function routedModels(db: Q, upstreamIds: string[]): Promise<RoutedModelRow[]> {
  if (upstreamIds.length === 0) return [];
  return db.selectFrom('upstream_models as m').innerJoin('resources as r', 'r.id', 'm.resource_id')
    .selectAll('m').select(['r.name as resource_name', 'r.kind as resource_kind'])
    .where('m.upstream_id', 'in', upstreamIds).orderBy('r.name').execute();
}

/** Every model alias with its resource and upstream names (the models the gateway serves). */
export async function allRoutes(db: Q): Promise<Array<{ resource_id: string; resource_name: string; upstream_name: string }>> {
  return db.selectFrom('upstream_models as m').innerJoin('resources as r', 'r.id', 'm.resource_id').innerJoin('upstreams as u', 'u.id', 'm.upstream_id')
    .select(['r.id as resource_id', 'r.name as resource_name', 'u.name as upstream_name']).orderBy('r.name').execute();
}

// The route of one model: asked on every gateway call, so compiled once (reusable.ts) and run as one statement.
function routeQuery(db: Q, column: 'r.id' | 'r.name', ref: unknown) {
  return db.selectFrom('upstream_models as m')
    .innerJoin('resources as r', 'r.id', 'm.resource_id')
    .innerJoin('upstreams as u', 'u.id', 'm.upstream_id')
    .select([
      'm.provider_model', 'r.id as resource_id', 'r.name as resource_name', 'r.kind as resource_kind',
      'u.id as upstream_id', 'u.name as upstream_name', 'u.provider', 'u.base_url', 'u.key_sealed', 'u.settings', 'u.timeout_ms', 'u.retries',
    ])
    .where(column, '=', ref as string);
}
const routeById = reusable<RouteRow>(1, (db, ref) => routeQuery(db, 'r.id', ref));
const routeByName = reusable<RouteRow>(1, (db, ref) => routeQuery(db, 'r.name', ref));

/** The route of a model resource by id or name, with everything the forwarding step needs. */
export async function routeFor(db: Q, ref: string): Promise<RouteRow | undefined> {
  const result = await (isUuid(ref) ? routeById : routeByName)(db, ref);
  return result.rows[0];
}
