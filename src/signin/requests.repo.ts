import type { Kysely } from 'kysely';
import type { DB, SigninRequestsTable } from '../platform/store/schema.js';
import type { Trx } from '../platform/store/db.js';

// signin_requests: one authorization or device request from arrival to its code (or device token).

type Q = Kysely<DB> | Trx;

export async function insertRequest(db: Q, row: SigninRequestsTable): Promise<void> {
  await db.insertInto('signin_requests').values(row).execute();
}

export async function findRequest(db: Q, id: string): Promise<SigninRequestsTable | undefined> {
  return db.selectFrom('signin_requests').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findByCodeHash(db: Q, hash: string): Promise<SigninRequestsTable | undefined> {
  return db.selectFrom('signin_requests').selectAll().where('code_hash', '=', hash).executeTakeFirst();
}

export async function findByDeviceCodeHash(db: Q, hash: string): Promise<SigninRequestsTable | undefined> {
  return db.selectFrom('signin_requests').selectAll().where('device_code_hash', '=', hash).executeTakeFirst();
}

export async function findByUserCode(db: Q, userCode: string): Promise<SigninRequestsTable | undefined> {
  return db.selectFrom('signin_requests').selectAll().where('user_code', '=', userCode).executeTakeFirst();
}

export async function updateRequest(db: Q, id: string, patch: Partial<SigninRequestsTable>): Promise<void> {
  await db.updateTable('signin_requests').set(patch).where('id', '=', id).execute();
}

/** Moves a request from one status to another only if it is still in the first: false when another call got there first. */
export async function transition(db: Q, id: string, from: SigninRequestsTable['status'], patch: Partial<SigninRequestsTable> & { status: SigninRequestsTable['status'] }): Promise<boolean> {
  const res = await db.updateTable('signin_requests').set(patch).where('id', '=', id).where('status', '=', from).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Requests long expired (kept an hour past expiry so a late code replay still finds what it started). */
export async function deleteExpired(db: Q, before: string): Promise<number> {
  const res = await db.deleteFrom('signin_requests').where('expires_at', '<', before).executeTakeFirst();
  return Number(res.numDeletedRows);
}

/** Binds a device request to the first browser that enters its user code; false when another browser did first. */
export async function bindBrowser(db: Q, id: string, browserHash: string): Promise<boolean> {
  const res = await db.updateTable('signin_requests').set({ browser_hash: browserHash }).where('id', '=', id).where('browser_hash', 'is', null).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Requests still running (unexpired and not finished), in all or one requester's, for the bounds on what anonymous
 * callers may start: a person who signs in often is not held back by the sign-ins they completed. */
export async function countLive(db: Q, now: string, requester?: string): Promise<number> {
  let q = db.selectFrom('signin_requests').select((eb) => eb.fn.countAll<number | string>().as('n')).where('expires_at', '>', now)
    .where('status', 'not in', ['done', 'denied']);
  if (requester !== undefined) q = q.where('requester', '=', requester);
  const row = await q.executeTakeFirst();
  return Number(row?.n ?? 0);
}
