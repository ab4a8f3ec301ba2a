import type { Kysely, Transaction } from 'kysely';
import { isUuid } from '../../platform/ids.js';
import type { DB, McpServersTable, McpToolsTable } from '../../platform/store/schema.js';

// Thin queries over mcp_servers and mcp_tools; the only SQL of the MCP part. No rules live here.
// It also reads `principals` (is an owner an active person) and `resources` (the server's and the tools' registry
// resources: names, labels, purposes, classification), read only, as the upstreams part does: registry resources
// are created, changed and deleted only through identity's resource service.

type Q = Kysely<DB> | Transaction<DB>;

export type ServerRow = McpServersTable & { resource_name: string; resource_purposes: string; resource_classification: string; owner_name: string };

function servers(q: Q) {
  return q.selectFrom('mcp_servers as s')
    .innerJoin('resources as r', 'r.id', 's.resource_id')
    .innerJoin('principals as p', 'p.id', 's.owner_id')
    .selectAll('s')
    .select(['r.name as resource_name', 'r.purposes as resource_purposes', 'r.classification as resource_classification', 'p.name as owner_name']);
}

/** By id or name (a UUID is an id). */
export async function findServer(q: Q, ref: string): Promise<ServerRow | undefined> {
  return servers(q).where(isUuid(ref) ? 's.id' : 's.name', '=', ref).executeTakeFirst();
}

export async function listServers(q: Q, f: { afterId?: string; limit: number }): Promise<ServerRow[]> {
  let query = servers(q);
  if (f.afterId !== undefined) query = query.where('s.id', '>', f.afterId);
  return query.orderBy('s.id').limit(f.limit).execute();
}

export async function insertServer(q: Q, row: McpServersTable): Promise<void> {
  await q.insertInto('mcp_servers').values(row).execute();
}

export async function updateServer(q: Q, id: string, change: Partial<Omit<McpServersTable, 'id' | 'name' | 'created_at' | 'created_by'>>): Promise<void> {
  await q.updateTable('mcp_servers').set(change).where('id', '=', id).execute();
}

/** Removes a registration and its tool rows (the registry resources stay for the caller to delete). */
export async function deleteServer(q: Q, id: string): Promise<void> {
  await q.deleteFrom('mcp_tools').where('server_id', '=', id).execute();
  await q.deleteFrom('mcp_servers').where('id', '=', id).execute();
}

export type ToolRow = McpToolsTable & { resource_name: string };

export async function toolsOf(q: Q, serverIds: string[]): Promise<ToolRow[]> {
  if (serverIds.length === 0) return [];
  return q.selectFrom('mcp_tools as t').innerJoin('resources as r', 'r.id', 't.resource_id')
    .selectAll('t').select('r.name as resource_name')
    .where('t.server_id', 'in', serverIds).orderBy('t.name').execute();
}

export async function findTool(q: Q, serverId: string, name: string): Promise<ToolRow | undefined> {
  return q.selectFrom('mcp_tools as t').innerJoin('resources as r', 'r.id', 't.resource_id')
    .selectAll('t').select('r.name as resource_name')
    .where('t.server_id', '=', serverId).where('t.name', '=', name).executeTakeFirst();
}

export async function insertTool(q: Q, row: McpToolsTable): Promise<void> {
  await q.insertInto('mcp_tools').values(row).execute();
}

export async function updateTool(q: Q, serverId: string, name: string, change: Partial<Pick<McpToolsTable, 'definition' | 'present' | 'last_seen_at'>>): Promise<void> {
  await q.updateTable('mcp_tools').set(change).where('server_id', '=', serverId).where('name', '=', name).execute();
}

/** A principal by id or name: whether it may own a registration (an active human). */
export async function findPrincipal(q: Q, ref: string): Promise<{ id: string; name: string; kind: string; status: string } | undefined> {
  return q.selectFrom('principals').select(['id', 'name', 'kind', 'status']).where(isUuid(ref) ? 'id' : 'name', '=', ref).executeTakeFirst();
}

export interface ResourceFacts {
  id: string;
  name: string;
  kind: string;
  owner_principal_id: string | null;
  parent_id: string | null;
  labels: string;
}

/** A registry resource by name (the names this part asks for, to adopt or to step around). */
export async function findResourceByName(q: Q, name: string): Promise<ResourceFacts | undefined> {
  return q.selectFrom('resources').select(['id', 'name', 'kind', 'owner_principal_id', 'parent_id', 'labels']).where('name', '=', name).executeTakeFirst();
}

/** Whether any registered server's resource or any tool row names this resource. */
export async function resourceClaimed(q: Q, resourceId: string): Promise<boolean> {
  const s = await q.selectFrom('mcp_servers').select('id').where('resource_id', '=', resourceId).executeTakeFirst();
  if (s) return true;
  const t = await q.selectFrom('mcp_tools').select('server_id').where('resource_id', '=', resourceId).executeTakeFirst();
  return t !== undefined;
}
