import type { Kysely } from 'kysely';
import type { ApprovalSettingsTable, DB } from '../platform/store/schema.js';

// The one stored approval-settings document (id 'current'); no row means the built-in defaults.

type Q = Kysely<DB>;

export async function findSettings(db: Q): Promise<ApprovalSettingsTable | undefined> {
  return db.selectFrom('approval_settings').selectAll().where('id', '=', 'current').executeTakeFirst();
}

/** Writes the next version if the stored one is still `expected` (0: none stored); false when it moved. */
export async function saveSettings(db: Q, row: ApprovalSettingsTable, expected: number): Promise<boolean> {
  if (expected === 0) {
    const existing = await findSettings(db);
    if (existing) return false;
    await db.insertInto('approval_settings').values(row).execute();
    return true;
  }
  const res = await db.updateTable('approval_settings').set({ document: row.document, version: row.version, updated_at: row.updated_at, updated_by: row.updated_by })
    .where('id', '=', 'current').where('version', '=', expected).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
