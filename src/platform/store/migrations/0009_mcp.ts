import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';
import { idColumn } from './columns.js';

type Db = Kysely<any>;

// The MCP gateway's tables (gateway/mcp/):
// - mcp_servers: MCP servers registered behind the gateway (`/mcp/<name>` on its listener): the upstream's Streamable
//   HTTP URL, its credential sealed with the master key (write-only: never returned, logged or audited), the
//   registry resource that stands for the server (kind endpoint, `mcp-<name>`), the owner (a person), settings.
// - mcp_tools: the tools the upstream listed, each with the `tool` resource (`<server>-<tool>`) decisions are made
//   on, the definition the upstream gave last, and whether the last full list still had it.
// Registry resources are created and deleted through identity's resource service; these tables only name them.

export function migration(dialect: Dialect): Migration {
  const key = idColumn(dialect);
  return {
    async up(db: Db) {
      await db.schema.createTable('mcp_servers')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('name', key, (c) => c.notNull().unique())
        .addColumn('resource_id', key, (c) => c.notNull().unique().references('resources.id'))
        .addColumn('upstream_url', 'text', (c) => c.notNull())
        .addColumn('credential_sealed', 'text') // null: the upstream needs no credential
        .addColumn('settings', 'text', (c) => c.notNull()) // JSON: timeout_ms, credential kind and header name (not secret)
        .addColumn('description', 'text')
        .addColumn('owner_id', key, (c) => c.notNull().references('principals.id'))
        .addColumn('protocol_version', 'text') // what the upstream answered to initialize last
        .addColumn('tools_synced_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute();

      await db.schema.createTable('mcp_tools')
        .addColumn('server_id', key, (c) => c.notNull().references('mcp_servers.id'))
        .addColumn('name', 'text', (c) => c.notNull()) // the tool's name as the upstream lists it
        .addColumn('resource_id', key, (c) => c.notNull().unique().references('resources.id'))
        .addColumn('definition', 'text', (c) => c.notNull()) // JSON: the upstream's tool definition, as listed last
        .addColumn('present', 'integer', (c) => c.notNull()) // 1: in the upstream's last full list
        .addColumn('first_seen_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('mcp_tools_pk', ['server_id', 'name'])
        .execute();
    },
  };
}
