import { sql } from 'kysely';
import type { Database } from '../../src/platform/store/db.js';

// Helpers that act as an attacker with direct database access: they lift the append-only guard first,
// exactly as someone with the database file or superuser access could.

export async function asAttacker(db: Database, fn: (q: Database['kysely']) => Promise<void>): Promise<void> {
  if (db.dialect === 'sqlite') {
    const triggers = await sql<{ name: string; sql: string }>`select name, sql from sqlite_master where type = 'trigger'`.execute(db.kysely);
    for (const t of triggers.rows) await sql.raw(`drop trigger ${t.name}`).execute(db.kysely);
    try {
      await fn(db.kysely);
    } finally {
      for (const t of triggers.rows) await sql.raw(t.sql).execute(db.kysely);
    }
  } else {
    await db.kysely.connection().execute(async (conn) => {
      await sql`set session_replication_role = replica`.execute(conn);
      try {
        await fn(conn);
      } finally {
        await sql`set session_replication_role = origin`.execute(conn);
      }
    });
  }
}
