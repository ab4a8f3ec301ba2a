import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';
import { idColumn } from './columns.js';

type Db = Kysely<any>;

export function migration(dialect: Dialect): Migration {
  const key = idColumn(dialect);
  return {
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
  };
}
