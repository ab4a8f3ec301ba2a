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

/** A trigger that makes the audit table refuse every insert (reads still work). Returns the undo. */
export async function refuseAuditInserts(h: { cp: { db: Database } }): Promise<() => Promise<void>> {
  const db = h.cp.db.kysely;
  if (h.cp.db.dialect === 'sqlite') {
    await sql.raw(`create trigger refuse_audit before insert on audit_events begin select raise(abort, 'audit refused by test'); end`).execute(db);
    return async () => { await sql.raw('drop trigger refuse_audit').execute(db); };
  }
  await sql.raw(`create function refuse_audit() returns trigger language plpgsql as $$ begin raise exception 'audit refused by test'; end $$`).execute(db);
  await sql.raw('create trigger refuse_audit before insert on audit_events for each row execute function refuse_audit()').execute(db);
  return async () => {
    await sql.raw('drop trigger refuse_audit on audit_events').execute(db);
    await sql.raw('drop function refuse_audit()').execute(db);
  };
}
