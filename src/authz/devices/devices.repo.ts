import type { Kysely } from 'kysely';
import type { DB, DevicesTable } from '../../platform/store/schema.js';

// Thin queries over devices (posture records); the only SQL of device records.

type Q = Kysely<DB>;

export async function findDevice(db: Q, deviceId: string): Promise<DevicesTable | undefined> {
  return db.selectFrom('devices').selectAll().where('device_id', '=', deviceId).executeTakeFirst();
}

export async function listDevices(db: Q, f: { afterId?: string; principalId?: string; posture?: string; limit: number }): Promise<DevicesTable[]> {
  let q = db.selectFrom('devices').selectAll();
  if (f.afterId !== undefined) q = q.where('id', '>', f.afterId);
  if (f.principalId !== undefined) q = q.where('principal_id', '=', f.principalId);
  if (f.posture !== undefined) q = q.where('posture', '=', f.posture as DevicesTable['posture']);
  return q.orderBy('id').limit(f.limit).execute();
}

export async function insertDevice(db: Q, row: DevicesTable): Promise<void> {
  await db.insertInto('devices').values(row).execute();
}

export async function updateDevice(db: Q, id: string, patch: Omit<DevicesTable, 'id' | 'device_id'>): Promise<void> {
  await db.updateTable('devices').set(patch).where('id', '=', id).execute();
}

export async function deleteDevice(db: Q, id: string): Promise<void> {
  await db.deleteFrom('devices').where('id', '=', id).execute();
}
