import { sql } from 'kysely';
import type { Dialect } from '../db.js';

// Keys that are compared by range (keyset pagination on ids, name prefixes) must sort byte by byte on
// PostgreSQL whatever the database's locale; SQLite's default BINARY collation already does.
export function idColumn(dialect: Dialect) {
  return dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
}
