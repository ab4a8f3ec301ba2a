import type { Kysely } from 'kysely';
import type { DB, PolicyVersionsTable } from '../../platform/store/schema.js';

// Thin queries over policy_versions; the only SQL of the policy lifecycle. At most one row is `active` (a partial
// unique index), so an activation that would leave two is refused by the store itself.

type Q = Kysely<DB>;

export async function findVersion(db: Q, version: number): Promise<PolicyVersionsTable | undefined> {
  return db.selectFrom('policy_versions').selectAll().where('version', '=', version).executeTakeFirst();
}

export async function findActive(db: Q): Promise<PolicyVersionsTable | undefined> {
  return db.selectFrom('policy_versions').selectAll().where('status', '=', 'active').executeTakeFirst();
}

/** The version that was active most recently before the current one (the rollback target). */
export async function findPreviouslyActive(db: Q): Promise<PolicyVersionsTable | undefined> {
  return db.selectFrom('policy_versions').selectAll().where('status', '=', 'superseded')
    .orderBy('activated_at', 'desc').orderBy('version', 'desc').limit(1).executeTakeFirst();
}

export async function latestVersion(db: Q): Promise<number> {
  const row = await db.selectFrom('policy_versions').select((eb) => eb.fn.max('version').as('v')).executeTakeFirst();
  return Number(row?.v ?? 0);
}

/** Newest first; `beforeVersion` continues a page. */
export async function listVersions(db: Q, f: { beforeVersion?: number; status?: PolicyVersionsTable['status']; limit: number }): Promise<PolicyVersionsTable[]> {
  let q = db.selectFrom('policy_versions').selectAll();
  if (f.beforeVersion !== undefined) q = q.where('version', '<', f.beforeVersion);
  if (f.status !== undefined) q = q.where('status', '=', f.status);
  return q.orderBy('version', 'desc').limit(f.limit).execute();
}

export async function insertVersion(db: Q, row: PolicyVersionsTable): Promise<void> {
  await db.insertInto('policy_versions').values(row).execute();
}

export async function setStatus(db: Q, id: string, patch: Partial<Pick<PolicyVersionsTable, 'status' | 'activated_at' | 'activated_by' | 'status_reason'>>): Promise<void> {
  await db.updateTable('policy_versions').set(patch).where('id', '=', id).execute();
}
