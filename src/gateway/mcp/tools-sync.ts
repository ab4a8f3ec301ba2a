import type { AuditWriter } from '../../audit/index.js';
import type { ResourceService } from '../../identity/index.js';
import { systemActor, type Actor } from '../../platform/actor.js';
import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/http/errors.js';
import type { Logger } from '../../platform/logger.js';
import type { Database } from '../../platform/store/db.js';
import * as repo from './mcp.repo.js';
import { canonicalJson, isServableToolName, safeText, toolResourceName } from './mcp.js';

// Tools as registry resources: what an MCP server lists becomes, tool by tool, a `tool` resource named
// `<server>-<tool>` (labels `mcp-server` and `mcp-tool`, owned by the registration's owner, a child of the server's
// own resource), denied until a policy or grant allows it — the decision point's default deny, nothing here.
//
// Rules:
// - Resources are created through identity's resource service as the server itself (`system:background`), so each
//   looks like any other resource and its creation is audited (`resource.created`). The tool rows that name them
//   are written afterwards in one transaction with one `mcp_server.refreshed` event (what was added, changed,
//   removed or refused, and what caused the sync).
// - A resource left by an interrupted sync (created, but no tool row names it) is adopted when it is exactly what
//   this sync would create: kind tool, the same owner, labels naming this server and tool, and claimed by no other
//   row. Anything else with that name is stepped around (the tool asks for its second name, see mcp.ts) or, when
//   both are taken, the tool is refused: never served, named in the event.
// - Only a full list (every page) removes tools: a tool no longer listed is marked absent and not served; its
//   resource stays (grants and decisions name it), and it comes back if the server lists it again.
// - A definition that changed (description, input schema, annotations) is recorded, so a tool that changes its
//   description after it was approved shows in the audit log.
// - Tool names outside the MCP naming rule are refused. Syncs of one server run one at a time (this node).

export interface ToolSyncDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  resources: ResourceService;
  logger: Logger;
}

export type SyncTrigger = 'created' | 'refresh' | 'updated' | 'tools_list' | 'list_changed';

export interface SyncResult {
  added: string[];
  changed: string[];
  removed: string[];
  refused: Array<{ tool: string; problem: string }>;
}

const MAX_REFUSED_NAME = 80;

export function createToolSync(deps: ToolSyncDeps) {
  const { db, audit, clock, resources, logger } = deps;
  const running = new Map<string, Promise<unknown>>();
  const system = systemActor('background');

  /** Runs `fn` after every sync of the same server this node started before it. */
  function serialised<T>(serverId: string, fn: () => Promise<T>): Promise<T> {
    const before = running.get(serverId) ?? Promise.resolve();
    const next = before.then(fn, fn);
    const tail = next.catch(() => undefined);
    running.set(serverId, tail);
    void tail.then(() => { if (running.get(serverId) === tail) running.delete(serverId); });
    return next;
  }

  /** The resource a new tool is decided on: adopted, or created; undefined with a problem when neither can be. */
  async function resourceFor(server: repo.ServerRow, tool: string, definition: Record<string, unknown>): Promise<{ id: string; name: string } | { problem: string }> {
    const tried: string[] = [];
    for (const alternative of [false, true]) {
      const name = toolResourceName(server.name, tool, alternative);
      if (tried.includes(name)) continue;
      tried.push(name);
      const existing = await repo.findResourceByName(db.kysely, name);
      if (existing) {
        const labels = JSON.parse(existing.labels) as Record<string, string>;
        const adoptable = existing.kind === 'tool' && existing.owner_principal_id === server.owner_id && existing.parent_id === server.resource_id
          && labels['mcp-server'] === server.name && labels['mcp-tool'] === tool && !(await repo.resourceClaimed(db.kysely, existing.id));
        if (adoptable) return { id: existing.id, name: existing.name };
        continue;
      }
      try {
        const created = await resources.create(system, {
          name, kind: 'tool', owner: server.owner_id, classification: 'internal', risk_tier: 'medium', parent: server.resource_id,
          display_name: safeText(definition.title ?? (definition.annotations as Record<string, unknown> | undefined)?.title, 200),
          description: safeText(definition.description, 4000),
          labels: { 'mcp-server': server.name, 'mcp-tool': tool },
          reason: `MCP server '${server.name}' lists tool '${tool}'`,
        });
        return { id: created.id, name: created.name };
      } catch (error) {
        if (error instanceof AppError && error.code === 'name_taken') continue;
        throw error;
      }
    }
    return { problem: `its resource names (${tried.join(', ')}) are taken by other resources` };
  }

  async function run(server: repo.ServerRow, listed: unknown[], opts: { full: boolean; actor: Actor; trigger: SyncTrigger; reason?: string; protocolVersion?: string | null; always?: boolean }): Promise<SyncResult> {
    const result: SyncResult = { added: [], changed: [], removed: [], refused: [] };
    const seen = new Map<string, Record<string, unknown>>();
    for (const item of listed) {
      const def = item && typeof item === 'object' && !Array.isArray(item) ? item as Record<string, unknown> : undefined;
      const name = def?.name;
      if (!def || !isServableToolName(name)) {
        const shown = safeText(typeof name === 'string' ? name : JSON.stringify(name ?? null), MAX_REFUSED_NAME) ?? '?';
        result.refused.push({ tool: shown, problem: 'the name breaks the MCP tool naming rule (1-128 of A-Z a-z 0-9 _ - . /)' });
        continue;
      }
      if (!seen.has(name)) seen.set(name, def);
    }
    const rows = new Map((await repo.toolsOf(db.kysely, [server.id])).map((r) => [r.name, r]));
    const fresh: Array<{ name: string; resourceId: string; definition: string }> = [];
    for (const [name, def] of seen) {
      if (rows.has(name)) continue;
      const resource = await resourceFor(server, name, def);
      if ('problem' in resource) {
        logger.warn({ mcp_server: server.name, tool: name }, 'MCP tool not served: its resource names are taken');
        result.refused.push({ tool: name, problem: resource.problem });
        continue;
      }
      fresh.push({ name, resourceId: resource.id, definition: canonicalJson(def) });
      result.added.push(name);
    }
    const updates: Array<{ name: string; change: { definition?: string; present?: number } }> = [];
    for (const [name, row] of rows) {
      const def = seen.get(name);
      if (def) {
        const text = canonicalJson(def);
        const change: { definition?: string; present?: number } = {};
        if (text !== row.definition) { change.definition = text; if (row.present === 1) result.changed.push(name); }
        if (row.present !== 1) { change.present = 1; result.added.push(name); }
        updates.push({ name, change });
      } else if (opts.full && row.present === 1) {
        updates.push({ name, change: { present: 0 } });
        result.removed.push(name);
      }
    }
    const changedAnything = result.added.length + result.changed.length + result.removed.length > 0;
    const protocolChanged = opts.protocolVersion !== undefined && opts.protocolVersion !== server.protocol_version;
    if (!changedAnything && !protocolChanged && !opts.always) return result;
    const now = clock.now().toISOString();
    await db.write(async (trx, batch) => {
      for (const t of fresh) {
        await repo.insertTool(trx, { server_id: server.id, name: t.name, resource_id: t.resourceId, definition: t.definition, present: 1, first_seen_at: now, last_seen_at: now });
      }
      for (const u of updates) {
        const change = { ...u.change, ...(seen.has(u.name) ? { last_seen_at: now } : {}) };
        if (Object.keys(change).length > 0) await repo.updateTool(trx, server.id, u.name, change);
      }
      await repo.updateServer(trx, server.id, {
        tools_synced_at: now, ...(opts.protocolVersion !== undefined ? { protocol_version: opts.protocolVersion } : {}),
      });
      if (changedAnything || opts.always) {
        await audit.record(trx, batch, {
          type: 'mcp_server.refreshed', action: 'mcp_server.refreshed', actor: opts.actor, outcome: 'success',
          target: { type: 'mcp_server', id: server.id, name: server.name },
          details: {
            trigger: opts.trigger, full_list: opts.full, added: result.added, changed: result.changed, removed: result.removed, refused: result.refused,
            tools_listed: seen.size, protocol_version: opts.protocolVersion ?? server.protocol_version, reason: opts.reason ?? null,
          },
        });
      }
    });
    return result;
  }

  return {
    /** Brings the server's tool rows and resources in line with what it listed. */
    sync(server: repo.ServerRow, listed: unknown[], opts: { full: boolean; actor: Actor; trigger: SyncTrigger; reason?: string; protocolVersion?: string | null; always?: boolean }): Promise<SyncResult> {
      return serialised(server.id, async () => {
        // Re-read inside the queue: an earlier sync may have changed it.
        const current = await repo.findServer(db.kysely, server.id);
        if (!current) return { added: [], changed: [], removed: [], refused: [] };
        return run(current, listed, opts);
      });
    },
  };
}

export type ToolSync = ReturnType<typeof createToolSync>;
