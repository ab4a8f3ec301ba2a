import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';
import { idColumn } from './columns.js';

type Db = Kysely<any>;

// The gateway module's tables (gateway/):
// - upstreams: model providers the gateway forwards to (OpenAI, Anthropic, Azure OpenAI, any OpenAI-compatible
//   server), their base URL and the provider key sealed with the master key (write-only: never returned, logged or
//   audited), timeouts and retries.
// - upstream_models: which upstream serves a model resource of the registry, and the provider's own model id for it
//   (clients send the resource's name as `model`; rotating a key or moving a model changes nothing on any client).
// - gateway_limits: requests and tokens per minute and token budgets per day and month, set on a principal, a team
//   or a resource.

export function migration(dialect: Dialect): Migration {
  const key = idColumn(dialect);
  return {
    async up(db: Db) {
      await db.schema.createTable('upstreams')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('name', key, (c) => c.notNull().unique())
        .addColumn('provider', 'text', (c) => c.notNull()) // openai | anthropic | azure-openai | openai-compatible
        .addColumn('base_url', 'text', (c) => c.notNull())
        .addColumn('key_sealed', 'text') // null: the upstream needs no key (a local vLLM or Ollama)
        .addColumn('settings', 'text', (c) => c.notNull()) // JSON: api_version (azure), headers that are not secret
        .addColumn('timeout_ms', 'integer', (c) => c.notNull())
        .addColumn('retries', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute();

      await db.schema.createTable('upstream_models')
        .addColumn('resource_id', key, (c) => c.primaryKey().references('resources.id'))
        .addColumn('upstream_id', key, (c) => c.notNull().references('upstreams.id'))
        .addColumn('provider_model', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('upstream_models_upstream_idx').on('upstream_models').columns(['upstream_id']).execute();

      await db.schema.createTable('gateway_limits')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('target_kind', 'text', (c) => c.notNull()) // principal | team | resource
        .addColumn('target_id', key, (c) => c.notNull())
        .addColumn('requests_per_minute', 'integer')
        .addColumn('tokens_per_minute', 'integer')
        .addColumn('tokens_per_day', 'integer')
        .addColumn('tokens_per_month', 'integer')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text')
        .execute();
      await db.schema.createIndex('gateway_limits_target_idx').on('gateway_limits').columns(['target_kind', 'target_id']).unique().execute();
    },
  };
}
