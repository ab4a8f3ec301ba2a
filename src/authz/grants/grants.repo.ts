import type { Kysely } from 'kysely';
import { isUuid } from '../../platform/ids.js';
import type { DB, GrantsTable } from '../../platform/store/schema.js';

// Thin queries over grants; no rules live here. The principal and resource a grant names are read here too, in
// the creating transaction (the grants table references both), so a grant is checked against the rows it
// commits with and not against a snapshot that could be a moment old.

type Q = Kysely<DB>;

export type GrantRow = GrantsTable & {
  principal_name: string; principal_kind: string;
  resource_name: string; resource_kind: string;
  resource_owner_id: string | null; resource_owner_team_id: string | null;
  granted_by_name: string | null; revoked_by_name: string | null;
};

function selectGrants(db: Q) {
  return db.selectFrom('grants as g')
    .innerJoin('principals as p', 'p.id', 'g.principal_id')
    .innerJoin('resources as r', 'r.id', 'g.resource_id')
    .leftJoin('principals as gb', 'gb.id', 'g.granted_by')
    .leftJoin('principals as rb', 'rb.id', 'g.revoked_by')
    .selectAll('g')
    .select(['p.name as principal_name', 'p.kind as principal_kind', 'r.name as resource_name', 'r.kind as resource_kind',
      'r.owner_principal_id as resource_owner_id', 'r.owner_team_id as resource_owner_team_id',
      'gb.name as granted_by_name', 'rb.name as revoked_by_name']);
}

export async function findGrant(db: Q, id: string): Promise<GrantRow | undefined> {
  return selectGrants(db).where('g.id', '=', id).executeTakeFirst();
}

export async function insertGrant(db: Q, row: GrantsTable): Promise<void> {
  await db.insertInto('grants').values(row).execute();
}

/** Marks a grant revoked unless it already is; whether this call revoked it. */
export async function revokeGrant(db: Q, id: string, at: string, by: string | null, reason: string): Promise<boolean> {
  const r = await db.updateTable('grants').set({ revoked_at: at, revoked_by: by, revoked_reason: reason })
    .where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function listGrants(db: Q, q: { afterId?: string; limit: number; principalId?: string; resourceId?: string; active?: { now: string; value: boolean } }): Promise<GrantRow[]> {
  let query = selectGrants(db);
  if (q.afterId !== undefined) query = query.where('g.id', '>', q.afterId);
  if (q.principalId !== undefined) query = query.where('g.principal_id', '=', q.principalId);
  if (q.resourceId !== undefined) query = query.where('g.resource_id', '=', q.resourceId);
  if (q.active) {
    const { now, value } = q.active;
    query = value
      ? query.where('g.revoked_at', 'is', null).where('g.expires_at', '>', now)
      : query.where((eb) => eb.or([eb('g.revoked_at', 'is not', null), eb('g.expires_at', '<=', now)]));
  }
  return query.orderBy('g.id').limit(q.limit).execute();
}

/** What a grant needs of its principal: who it is, whether it still exists in a usable state, its purposes, its owners. */
export async function findGrantee(db: Q, ref: string) {
  return db.selectFrom('principals')
    .select(['id', 'name', 'kind', 'status', 'purposes', 'owner_principal_id', 'owner_team_id'])
    .where(isUuid(ref) ? 'id' : 'name', '=', ref).executeTakeFirst();
}

export async function findGrantResource(db: Q, ref: string) {
  return db.selectFrom('resources').select(['id', 'name', 'kind', 'purposes']).where(isUuid(ref) ? 'id' : 'name', '=', ref).executeTakeFirst();
}

/** Registry resources in id order, for the access enumeration's pages. */
export async function listResourcesPage(db: Q, q: { afterId?: string; limit: number; kind?: string }) {
  let query = db.selectFrom('resources').select(['id', 'name', 'kind', 'classification']);
  if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
  if (q.kind !== undefined) query = query.where('kind', '=', q.kind);
  return query.orderBy('id').limit(q.limit).execute();
}
