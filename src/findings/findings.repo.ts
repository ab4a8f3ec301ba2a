import type { Kysely } from 'kysely';
import type { DB, FindingsTable } from '../platform/store/schema.js';

// Thin queries over findings; the only SQL in this module.

type Q = Kysely<DB>;

export async function findByFingerprint(db: Q, fingerprint: string): Promise<FindingsTable | undefined> {
  return db.selectFrom('findings').selectAll().where('fingerprint', '=', fingerprint).executeTakeFirst();
}

/** By id or fingerprint. */
export async function findFinding(db: Q, ref: string): Promise<FindingsTable | undefined> {
  return db.selectFrom('findings').selectAll().where((eb) => eb.or([eb('id', '=', ref), eb('fingerprint', '=', ref)])).executeTakeFirst();
}

export async function findingsByIds(db: Q, ids: string[]): Promise<FindingsTable[]> {
  return ids.length ? db.selectFrom('findings').selectAll().where('id', 'in', ids).execute() : [];
}

export async function insertFinding(db: Q, row: FindingsTable): Promise<void> {
  await db.insertInto('findings').values(row).execute();
}

export async function updateFinding(db: Q, id: string, patch: Partial<FindingsTable>): Promise<void> {
  await db.updateTable('findings').set(patch).where('id', '=', id).execute();
}

export async function listFindings(db: Q, f: { status?: string; severity?: string; ruleId?: string; credentialId?: string; afterId?: string; limit: number }) {
  let q = db.selectFrom('findings').selectAll();
  if (f.status) q = q.where('status', '=', f.status);
  if (f.severity) q = q.where('severity', '=', f.severity);
  if (f.ruleId) q = q.where('rule_id', '=', f.ruleId);
  if (f.credentialId) q = q.where('credential_id', '=', f.credentialId);
  if (f.afterId !== undefined) q = q.where('id', '>', f.afterId);
  return q.orderBy('id').limit(f.limit).execute();
}
