import type { Kysely } from 'kysely';
import type { DB } from '../platform/store/schema.js';

// What the decision point's snapshot reads: every principal, team, membership, resource and live grant, the active
// policy version, and the two version counters the triggers of migration 0006 keep.

type Db = Kysely<DB>;

export async function readVersions(db: Db): Promise<{ entities: number; policies: number }> {
  const rows = await db.selectFrom('authz_versions').select(['name', 'version']).execute();
  const of = (name: string) => Number(rows.find((r) => r.name === name)?.version ?? 0);
  return { entities: of('entities'), policies: of('policies') };
}

export function principals(db: Db) {
  return db.selectFrom('principals').select([
    'id', 'name', 'kind', 'status', 'owner_principal_id', 'owner_team_id', 'team_id', 'scopes', 'purposes', 'environment', 'autonomy',
    'data_ceiling', 'risk_tier', 'external_ids', 'labels',
  ]).execute();
}

export function teams(db: Db) {
  return db.selectFrom('teams').select(['id', 'name']).execute();
}

export function memberships(db: Db) {
  return db.selectFrom('team_members').select(['team_id', 'principal_id']).execute();
}

export function resources(db: Db) {
  return db.selectFrom('resources').select([
    'id', 'name', 'kind', 'owner_principal_id', 'owner_team_id', 'classification', 'risk_tier', 'purposes', 'labels', 'parent_id', 'uri',
  ]).execute();
}

/** Grants not revoked. Expired ones still load: their policy condition carries the expiry, so they never allow. */
export function liveGrants(db: Db, notExpiredBefore: string) {
  return db.selectFrom('grants').select(['id', 'principal_id', 'resource_id', 'actions', 'purpose', 'expires_at'])
    .where('revoked_at', 'is', null).where('expires_at', '>', notExpiredBefore).execute();
}

export function activePolicyVersion(db: Db) {
  return db.selectFrom('policy_versions').select(['version', 'policies', 'app_schema']).where('status', '=', 'active').executeTakeFirst();
}
