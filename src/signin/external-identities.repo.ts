import type { Kysely } from 'kysely';
import type { DB, ExternalIdentitiesTable } from '../platform/store/schema.js';
import type { Trx } from '../platform/store/db.js';

// external_identities: which principal an IdP subject is. The only way a sign-in finds a returning person.

type Q = Kysely<DB> | Trx;

export async function findLink(db: Q, idpId: string, subject: string): Promise<ExternalIdentitiesTable | undefined> {
  return db.selectFrom('external_identities').selectAll().where('idp_id', '=', idpId).where('subject', '=', subject).executeTakeFirst();
}

export async function insertLink(db: Q, row: ExternalIdentitiesTable): Promise<void> {
  await db.insertInto('external_identities').values(row).execute();
}

export async function touchLink(db: Q, idpId: string, subject: string, at: string, email: string | null): Promise<void> {
  await db.updateTable('external_identities').set({ last_sign_in_at: at, email }).where('idp_id', '=', idpId).where('subject', '=', subject).execute();
}
