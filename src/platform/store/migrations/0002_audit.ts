import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../db.js';
import { idColumn } from './columns.js';

type Db = Kysely<any>;

export function migration(dialect: Dialect): Migration {
  const key = idColumn(dialect);
  return {
    async up(db: Db) {
      await db.schema.createTable('audit_events')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('actor_principal_id', 'text')
        .addColumn('actor_credential_id', 'text')
        .addColumn('target_type', 'text')
        .addColumn('target_id', 'text')
        .addColumn('decision', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('canonical', 'text', (c) => c.notNull())
        .addColumn('leaf_hash', 'text', (c) => c.notNull())
        .execute();
      for (const col of ['type', 'actor_principal_id', 'actor_credential_id', 'target_id', 'time']) {
        await db.schema.createIndex(`audit_events_${col}_idx`).on('audit_events').columns([col, 'seq']).execute();
      }
      await db.schema.createTable('audit_delegation')
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('principal_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('audit_delegation_pk', ['principal_id', 'seq'])
        .execute();
      await db.schema.createTable('audit_checkpoints')
        .addColumn('tree_size', 'bigint', (c) => c.primaryKey())
        .addColumn('root_hash', 'text', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull())
        .execute();
      // Hashes of completed perfect subtrees at a few levels, so proofs at millions of events read few rows.
      await db.schema.createTable('audit_nodes')
        .addColumn('level', 'integer', (c) => c.notNull())
        .addColumn('idx', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('audit_nodes_pk', ['level', 'idx'])
        .execute();
      // The log is append-only at the store level: UPDATE and DELETE are refused by triggers.
      // Retention pruning goes through a dedicated, audited path that lifts the guard in its own transaction.
      for (const table of ['audit_events', 'audit_delegation', 'audit_checkpoints', 'audit_nodes']) {
        if (dialect === 'sqlite') {
          await sql.raw(`create trigger ${table}_no_update before update on ${table}
            begin select raise(abort, 'audit log is append-only'); end`).execute(db);
          await sql.raw(`create trigger ${table}_no_delete before delete on ${table}
            when (select value from meta where key = 'audit_prune_allowed') is not '1'
            begin select raise(abort, 'audit log is append-only'); end`).execute(db);
        } else {
          await sql.raw(`create or replace function custos_audit_guard() returns trigger as $$
            begin
              if tg_op = 'DELETE' and coalesce((select value from meta where key = 'audit_prune_allowed'), '0') = '1' then
                return old;
              end if;
              raise exception 'audit log is append-only';
            end $$ language plpgsql`).execute(db);
          await sql.raw(`create trigger ${table}_guard before update or delete on ${table}
            for each row execute function custos_audit_guard()`).execute(db);
        }
      }
    },
  };
}
