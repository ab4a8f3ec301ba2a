import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../platform/store/schema.js';

// Row types of the MCP part's tables (migration 0009_mcp). They live beside the part until the store's schema.ts
// lists them; repo.ts widens the store's Kysely type with them, and nothing outside this folder sees them.

export interface McpServersTable {
  id: string;
  name: string;
  /** The registry resource standing for the server (kind endpoint, `mcp-<name>`): resources/prompts decide on it. */
  resource_id: string;
  upstream_url: string;
  credential_sealed: string | null;
  /** JSON, see McpSettings. */
  settings: string;
  description: string | null;
  owner_id: string;
  protocol_version: string | null;
  tools_synced_at: string | null;
  created_at: string;
  created_by: string | null;
  updated_at: string;
  version: number;
}

export interface McpToolsTable {
  server_id: string;
  name: string;
  resource_id: string;
  /** JSON: the tool definition the upstream listed last. */
  definition: string;
  present: number;
  first_seen_at: string;
  last_seen_at: string;
}

export type McpDB = DB & { mcp_servers: McpServersTable; mcp_tools: McpToolsTable };
export type McpQ = Kysely<McpDB> | Transaction<McpDB>;

/** The store's handle (or a transaction) seen with this part's tables. */
export function withMcp(q: Kysely<DB> | Transaction<DB>): Kysely<McpDB> {
  return q as unknown as Kysely<McpDB>;
}
