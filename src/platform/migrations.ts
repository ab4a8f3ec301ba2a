import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from './db.js';

// One ordered list of migrations serves both SQLite and PostgreSQL. Only portable column types are used;
// where the dialects differ (append-only triggers) the migration branches explicitly.

type Db = Kysely<any>;

function migrations(dialect: Dialect): Record<string, Migration> {
  // Keys that are compared by range (keyset pagination on ids, name prefixes) must sort byte by byte on
  // PostgreSQL whatever the database's locale; SQLite's default BINARY collation already does.
  const key = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    '0001_kernel': {
      async up(db: Db) {
        await db.schema.createTable('meta')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();

        await db.schema.createTable('teams')
          .addColumn('id', key, (c) => c.primaryKey())
          .addColumn('name', key, (c) => c.notNull().unique())
          .addColumn('display_name', 'text')
          .addColumn('description', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();

        await db.schema.createTable('principals')
          .addColumn('id', key, (c) => c.primaryKey())
          .addColumn('name', key, (c) => c.notNull().unique())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('display_name', 'text')
          .addColumn('description', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('owner_principal_id', key, (c) => c.references('principals.id'))
          .addColumn('owner_team_id', key, (c) => c.references('teams.id'))
          .addColumn('team_id', key, (c) => c.references('teams.id'))
          .addColumn('scopes', 'text', (c) => c.notNull())
          .addColumn('purposes', 'text', (c) => c.notNull())
          .addColumn('autonomy', 'text')
          .addColumn('platform', 'text')
          .addColumn('framework', 'text')
          .addColumn('environment', 'text')
          .addColumn('data_ceiling', 'text')
          .addColumn('risk_tier', 'text', (c) => c.notNull())
          .addColumn('external_ids', 'text', (c) => c.notNull())
          .addColumn('labels', 'text', (c) => c.notNull())
          .addColumn('orphaned', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('review_due_at', 'text')
          .addColumn('status_reason', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text')
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .execute();
        for (const col of ['kind', 'status', 'owner_principal_id', 'owner_team_id', 'team_id', 'environment', 'risk_tier', 'review_due_at']) {
          await db.schema.createIndex(`principals_${col}_idx`).on('principals').columns([col, 'id']).execute();
        }

        await db.schema.createTable('principal_labels')
          .addColumn('entity_id', key, (c) => c.notNull().references('principals.id').onDelete('cascade'))
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('principal_labels_pk', ['entity_id', 'key'])
          .execute();
        await db.schema.createIndex('principal_labels_kv_idx').on('principal_labels').columns(['key', 'value', 'entity_id']).execute();

        await db.schema.createTable('team_members')
          .addColumn('team_id', key, (c) => c.notNull().references('teams.id').onDelete('cascade'))
          .addColumn('principal_id', key, (c) => c.notNull().references('principals.id'))
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('added_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('team_members_pk', ['team_id', 'principal_id'])
          .execute();
        await db.schema.createIndex('team_members_principal_idx').on('team_members').columns(['principal_id']).execute();

        await db.schema.createTable('resources')
          .addColumn('id', key, (c) => c.primaryKey())
          .addColumn('name', key, (c) => c.notNull().unique())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('display_name', 'text')
          .addColumn('description', 'text')
          .addColumn('owner_principal_id', key, (c) => c.references('principals.id'))
          .addColumn('owner_team_id', key, (c) => c.references('teams.id'))
          .addColumn('classification', 'text', (c) => c.notNull())
          .addColumn('risk_tier', 'text', (c) => c.notNull())
          .addColumn('purposes', 'text', (c) => c.notNull())
          .addColumn('labels', 'text', (c) => c.notNull())
          .addColumn('parent_id', key, (c) => c.references('resources.id'))
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
        for (const col of ['kind', 'classification', 'parent_id', 'owner_principal_id', 'owner_team_id']) {
          await db.schema.createIndex(`resources_${col}_idx`).on('resources').columns([col, 'id']).execute();
        }
        await db.schema.createTable('resource_labels')
          .addColumn('entity_id', key, (c) => c.notNull().references('resources.id').onDelete('cascade'))
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('resource_labels_pk', ['entity_id', 'key'])
          .execute();
        await db.schema.createIndex('resource_labels_kv_idx').on('resource_labels').columns(['key', 'value', 'entity_id']).execute();

        await db.schema.createTable('operator_tokens')
          .addColumn('id', key, (c) => c.primaryKey())
          .addColumn('principal_id', key, (c) => c.notNull().references('principals.id'))
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('description', 'text')
          .addColumn('secret_hash', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text')
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('revoked_at', 'text')
          .addColumn('revoked_reason', 'text')
          .addColumn('last_used_at', 'text')
          .execute();
        await db.schema.createIndex('operator_tokens_principal_idx').on('operator_tokens').columns(['principal_id']).execute();
      },
    },
    '0002_audit': {
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
    },
    '0003_findings': {
      async up(db: Db) {
        await db.schema.createTable('findings')
          .addColumn('id', key, (c) => c.primaryKey())
          .addColumn('fingerprint', 'text', (c) => c.notNull().unique())
          .addColumn('rule_id', 'text', (c) => c.notNull())
          .addColumn('provider', 'text', (c) => c.notNull())
          .addColumn('severity', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('liveness', 'text', (c) => c.notNull())
          .addColumn('public_repo', 'integer', (c) => c.notNull())
          .addColumn('pushed_image', 'integer', (c) => c.notNull())
          .addColumn('priority_score', 'integer', (c) => c.notNull())
          .addColumn('redacted', 'text', (c) => c.notNull())
          .addColumn('source_kind', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('location', 'text', (c) => c.notNull())
          .addColumn('locations_seen', 'integer', (c) => c.notNull())
          .addColumn('credential_kind', 'text')
          .addColumn('credential_id', 'text')
          .addColumn('credential_owner_id', 'text')
          .addColumn('note', 'text')
          .addColumn('first_seen_at', 'text', (c) => c.notNull())
          .addColumn('last_seen_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('updated_by', 'text')
          .execute();
        for (const col of ['status', 'severity', 'rule_id', 'credential_id', 'priority_score']) {
          await db.schema.createIndex(`findings_${col}_idx`).on('findings').columns([col, 'id']).execute();
        }
      },
    },
  };
}

export async function migrateToLatest(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  const migrator = new Migrator({ db, provider, migrationTableName: 'custos_migrations', migrationLockTableName: 'custos_migrations_lock' });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? String(error)}`);
  }
  // Fresh planner statistics on every start: with stale ones (autovacuum off, or right after a bulk load)
  // PostgreSQL picks plans that sort whole tables for a 50-row page.
  if (dialect === 'postgres') await sql`analyze`.execute(db);
}
