import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';
import { idColumn } from './columns.js';

type Db = Kysely<any>;

export function migration(dialect: Dialect): Migration {
  const key = idColumn(dialect);
  return {
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
  };
}
