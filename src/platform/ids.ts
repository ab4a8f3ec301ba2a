import { v7 as uuidv7 } from 'uuid';

// Time-ordered ids (UUIDv7): creation order equals id order, which keyset pagination relies on.
export type IdGenerator = () => string;
export const newId: IdGenerator = () => uuidv7();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
