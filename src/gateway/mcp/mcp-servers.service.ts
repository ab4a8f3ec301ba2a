import type { ResourceService } from '../../identity/index.js';
import type { Actor } from '../../platform/actor.js';
import { AppError, errors } from '../../platform/http/errors.js';
import { decodeCursor, pageOf } from '../../platform/http/pagination.js';
import type { Database, Trx, WriteBatch } from '../../platform/store/db.js';
import { isUniqueViolation } from '../../platform/store/errors.js';
import { normaliseBaseUrl } from '../upstreams/upstream-url.js';
import * as repo from './mcp.repo.js';
import type { McpServersTable } from '../../platform/store/schema.js';
import {
  credentialContext, credentialFacts, credentialProblem, parseCredential, parseSettings, serverNameProblem, serverResourceName, settingsText, TIMEOUT_MS,
  timeoutProblem, type CredentialFacts, type UpstreamCredential,
} from './mcp.js';
import type { CreateMcpServerInput, ListMcpServersQuery, McpServerView, RefreshResult, UpdateMcpServerInput } from './mcp-servers.schemas.js';
import type { GatewayPartContext } from '../parts.js';
import type { ToolSync } from './tools-sync.js';
import { listUpstreamTools, UpstreamError, type ToolListing, type UpstreamTarget } from './upstream.js';

// The MCP server registry: the use cases behind /v1/mcp-servers. Admins change it (`mcp_server.write`), every operator
// read role reads it (`mcp_server.read`); the role table decides, nothing here widens it.
//
// Rules:
// - Shapes are the schemas' (400); rules across fields are mcp.ts and the upstreams' URL rule (upstream-url.ts, the
//   same for model and MCP upstreams): 422 invalid_mcp_server naming the rule, never echoing a URL or a credential.
//   Names never change (the endpoint URL, token audiences and resource names are built from them); a second
//   registration of a name is 409 mcp_server_exists.
// - The owner is an existing, active person (owner_not_found, invalid_mcp_server): they own the server's resource
//   and every tool resource; changing the owner moves those resources to the new owner.
// - The upstream credential is sealed with the master key under `mcp-upstream-credential:<id>` and opened only to
//   call the upstream. It is in no response, audit event, log line or error text: views and events name its kind
//   (and a custom header's name) and whether it was set, replaced or removed.
// - Registering, changing the URL or the credential, and refreshing ask the upstream for its tools first (the
//   gateway's own session): an upstream that does not answer is 502 mcp_upstream_unreachable and nothing changes.
//   Every check runs before the first write, so refused input writes nothing.
// - The server's own registry resource (kind endpoint, `mcp-<name>`, label `mcp-server`) is created (or adopted:
//   one an interrupted registration left, same kind, owner and label, unclaimed) through identity's resource
//   service as the operator; the tools become its children (tools-sync.ts).
// - Deleting removes the registration and its tool rows, then the tool resources and the server's resource where
//   nothing else names them (grants, requests keep theirs: those stay in the registry, for evidence).
// - Every change bumps `version` and is audited in its transaction: mcp_server.created, .updated, .deleted, and
//   .refreshed (tools added, changed, removed, refused). A request that changes nothing records nothing.

export interface McpServerServiceDeps extends GatewayPartContext {
  resources: ResourceService;
  tools: ToolSync;
  /** `<gateway>/mcp/<name>`: the endpoint clients use and the audience of its tokens. */
  endpointOf(name: string): string;
}

const invalid = (detail: string) => new AppError('invalid_mcp_server', detail);

function urlOrThrow(value: string): string {
  const r = normaliseBaseUrl(value);
  if (!r.ok) throw invalid(`upstream_url ${r.problem.replace('(give the key in `key`)', '(give it in `credential`)').replace(/ \(Azure OpenAI's api-version is `api_version`\)/, '')}`);
  return r.url;
}

function credentialOrThrow(c: UpstreamCredential | undefined): UpstreamCredential | undefined {
  if (c === undefined) return undefined;
  const problem = credentialProblem(c);
  if (problem) throw invalid(problem);
  return c;
}

export function createMcpServerService(deps: McpServerServiceDeps) {
  const { db, audit, clock, newId, keys, logger, resources, tools } = deps;

  const seal = (id: string, c: UpstreamCredential) => keys.seal(Buffer.from(JSON.stringify(c), 'utf8'), credentialContext(id));

  /** The opened credential of a registration (throws SealedError when this master key cannot open it). */
  function credentialOf(row: Pick<McpServersTable, 'id' | 'name' | 'credential_sealed'>): UpstreamCredential | null {
    if (row.credential_sealed === null) return null;
    try {
      return parseCredential(keys.open(row.credential_sealed, credentialContext(row.id)).toString('utf8'));
    } catch (error) {
      logger.error({ mcp_server: { id: row.id, name: row.name } }, 'MCP upstream credential cannot be opened with this master key');
      throw error;
    }
  }

  async function listing(target: UpstreamTarget): Promise<ToolListing> {
    try {
      return await listUpstreamTools(target);
    } catch (error) {
      if (error instanceof UpstreamError) throw new AppError('mcp_upstream_unreachable', `${error.message}; nothing was changed`);
      throw error;
    }
  }

  async function views(q: Trx | Database['kysely'], rows: repo.ServerRow[]): Promise<McpServerView[]> {
    const all = await repo.toolsOf(q, rows.map((r) => r.id));
    return rows.map((row) => {
      const settings = parseSettings(row.settings);
      return {
        id: row.id, name: row.name, endpoint: deps.endpointOf(row.name), upstream_url: row.upstream_url, credential: settings.credential,
        owner: { id: row.owner_id, name: row.owner_name }, description: row.description, timeout_ms: settings.timeout_ms,
        resource: { id: row.resource_id, name: row.resource_name }, protocol_version: row.protocol_version,
        tools: all.filter((t) => t.server_id === row.id).map((t) => ({
          name: t.name, resource: { id: t.resource_id, name: t.resource_name }, present: t.present === 1, first_seen_at: t.first_seen_at, last_seen_at: t.last_seen_at,
        })),
        tools_synced_at: row.tools_synced_at, created_at: row.created_at, created_by: row.created_by, updated_at: row.updated_at, version: row.version,
      };
    });
  }

  const viewOf = async (row: repo.ServerRow) => (await views(db.kysely, [row]))[0]!;

  async function found(q: Trx | Database['kysely'], ref: string): Promise<repo.ServerRow> {
    const row = await repo.findServer(q, ref);
    if (!row) throw errors.notFound('MCP server', ref);
    return row;
  }

  async function ownerOrThrow(ref: string): Promise<{ id: string; name: string }> {
    const p = await repo.findPrincipal(db.kysely, ref);
    if (!p) throw new AppError('owner_not_found', `owner '${ref}' does not exist`);
    if (p.kind !== 'human' || p.status !== 'active') throw invalid(`owner '${p.name}' must be an active person (a human principal); it is ${p.status === 'active' ? `a ${p.kind.replace('_', ' ')}` : p.status}`);
    return { id: p.id, name: p.name };
  }

  /** The server's resource left by an interrupted registration, if it is exactly what this one would create. */
  async function adoptableResource(name: string, ownerId: string): Promise<{ id: string } | undefined> {
    const existing = await repo.findResourceByName(db.kysely, serverResourceName(name));
    if (!existing) return undefined;
    const labels = JSON.parse(existing.labels) as Record<string, string>;
    if (existing.kind === 'endpoint' && existing.owner_principal_id === ownerId && labels['mcp-server'] === name && !(await repo.resourceClaimed(db.kysely, existing.id))) {
      return { id: existing.id };
    }
    throw invalid(`the registry already has a resource named '${serverResourceName(name)}' (the name this server's resource needs); rename or delete it first`);
  }

  function facts(row: Pick<McpServersTable, 'upstream_url' | 'settings' | 'description' | 'owner_id' | 'resource_id'>) {
    const s = parseSettings(row.settings);
    return { upstream_url: row.upstream_url, credential: s.credential, timeout_ms: s.timeout_ms, description: row.description, owner_id: row.owner_id, resource_id: row.resource_id };
  }

  async function record(trx: Trx, batch: WriteBatch, actor: Actor, type: string, row: { id: string; name: string }, details: Record<string, unknown>) {
    await audit.record(trx, batch, { type: `mcp_server.${type}`, action: `mcp_server.${type}`, actor, target: { type: 'mcp_server', id: row.id, name: row.name }, outcome: 'success', details });
  }

  /** Moves the server's and its tools' resources to a new owner (each change audited by identity). */
  async function moveResources(actor: Actor, row: repo.ServerRow, ownerId: string, reason: string) {
    const toolRows = await repo.toolsOf(db.kysely, [row.id]);
    await resources.update(actor, row.resource_id, { owner: ownerId, reason });
    for (const t of toolRows) await resources.update(actor, t.resource_id, { owner: ownerId, reason });
  }

  return {
    credentialOf,

    async create(actor: Actor, input: CreateMcpServerInput): Promise<McpServerView> {
      const nameIssue = serverNameProblem(input.name);
      if (nameIssue) throw invalid(nameIssue);
      const url = urlOrThrow(input.upstream_url);
      const credential = credentialOrThrow(input.credential) ?? null;
      const timeoutMs = input.timeout_ms ?? TIMEOUT_MS.default;
      const timeoutIssue = timeoutProblem(timeoutMs);
      if (timeoutIssue) throw invalid(timeoutIssue);
      const owner = await ownerOrThrow(input.owner);
      const exists = () => new AppError('mcp_server_exists', `an MCP server named '${input.name}' is already registered`);
      if (await repo.findServer(db.kysely, input.name)) throw exists();
      const adopted = await adoptableResource(input.name, owner.id);
      const found = await listing({ url, credential, timeoutMs });

      const id = newId();
      const reason = input.reason ?? `MCP server '${input.name}' registered`;
      let resourceId = adopted?.id;
      if (!resourceId) {
        try {
          resourceId = (await resources.create(actor, {
            name: serverResourceName(input.name), kind: 'endpoint', owner: owner.id, classification: 'internal', risk_tier: 'medium',
            display_name: `MCP server ${input.name}`, description: input.description, labels: { 'mcp-server': input.name }, reason,
          })).id;
        } catch (error) {
          if (error instanceof AppError && error.code === 'name_taken') throw exists();
          throw error;
        }
      }
      const now = clock.now().toISOString();
      const settings = { timeout_ms: timeoutMs, credential: credentialFacts(credential) };
      const row: McpServersTable = {
        id, name: input.name, resource_id: resourceId, upstream_url: url, credential_sealed: credential ? seal(id, credential) : null,
        settings: settingsText(settings), description: input.description ?? null, owner_id: owner.id, protocol_version: found.protocolVersion,
        tools_synced_at: null, created_at: now, created_by: actor.principal?.id ?? null, updated_at: now, version: 1,
      };
      await db.write(async (trx, batch) => {
        if (await repo.findServer(trx, input.name)) throw exists();
        try {
          await repo.insertServer(trx, row);
        } catch (error) {
          if (isUniqueViolation(error)) throw exists();
          throw error;
        }
        await record(trx, batch, actor, 'created', row, { ...facts(row), owner: owner.name, protocol_version: found.protocolVersion, version: 1, reason: input.reason ?? null });
      });
      const server = await found_(row.id);
      await tools.sync(server, found.tools, { full: true, actor, trigger: 'created', protocolVersion: found.protocolVersion, always: true, reason: input.reason });
      return viewOf(await found_(row.id));
    },

    async list(query: ListMcpServersQuery) {
      const after = decodeCursor(query.cursor);
      const rows = await repo.listServers(db.kysely, { afterId: after === undefined ? undefined : String(after), limit: query.limit + 1 });
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: await views(db.kysely, page.items), next_cursor: page.next_cursor };
    },

    async get(ref: string): Promise<McpServerView> {
      return viewOf(await found(db.kysely, ref));
    },

    async update(actor: Actor, ref: string, input: UpdateMcpServerInput): Promise<McpServerView> {
      const given = (['upstream_url', 'credential', 'remove_credential', 'owner', 'description', 'timeout_ms'] as const).filter((k) => input[k] !== undefined);
      if (given.length === 0) throw errors.validation('nothing to change: give upstream_url, credential, remove_credential, owner, description or timeout_ms');
      if (input.credential !== undefined && input.remove_credential) throw errors.validation('give credential or remove_credential, not both');
      const url = input.upstream_url === undefined ? undefined : urlOrThrow(input.upstream_url);
      const credential = credentialOrThrow(input.credential);
      if (input.timeout_ms !== undefined) {
        const issue = timeoutProblem(input.timeout_ms);
        if (issue) throw invalid(issue);
      }
      const owner = input.owner === undefined ? undefined : await ownerOrThrow(input.owner);
      const row = await found(db.kysely, ref);
      const versionCheck = (r: repo.ServerRow) => {
        if (input.expected_version !== undefined && input.expected_version !== r.version) {
          throw new AppError('version_mismatch', `MCP server '${r.name}' is at version ${r.version}, not ${input.expected_version}`);
        }
      };
      versionCheck(row);
      const before = parseSettings(row.settings);
      const nextSettings = { timeout_ms: input.timeout_ms ?? before.timeout_ms, credential: before.credential as CredentialFacts };
      const credentialChange: 'set' | 'replaced' | 'removed' | undefined = credential !== undefined
        ? (row.credential_sealed === null ? 'set' : 'replaced')
        : input.remove_credential && row.credential_sealed !== null ? 'removed' : undefined;
      if (credentialChange !== undefined) nextSettings.credential = credentialFacts(credential ?? null);
      const next = {
        upstream_url: url ?? row.upstream_url, settings: settingsText(nextSettings),
        description: input.description === undefined ? row.description : input.description, owner_id: owner?.id ?? row.owner_id,
      };
      const changed = (Object.keys(next) as Array<keyof typeof next>).filter((k) => next[k] !== row[k]);
      if (changed.length === 0 && credentialChange === undefined) return viewOf(row);

      // A new address or credential must work before it is stored.
      let fresh: ToolListing | undefined;
      if (next.upstream_url !== row.upstream_url || credentialChange !== undefined) {
        const target: UpstreamTarget = { url: next.upstream_url, credential: credentialChange === undefined ? credentialOf(row) : credential ?? null, timeoutMs: nextSettings.timeout_ms };
        fresh = await listing(target);
      }
      const now = clock.now().toISOString();
      await db.write(async (trx, batch) => {
        const current = await found(trx, ref);
        versionCheck(current);
        if (current.version !== row.version) throw new AppError('version_mismatch', `MCP server '${row.name}' changed while this update ran; read it again`);
        const change: Partial<McpServersTable> = {
          ...Object.fromEntries(changed.map((k) => [k, next[k]])),
          ...(credentialChange === undefined ? {} : { credential_sealed: credential === undefined ? null : seal(row.id, credential) }),
          ...(fresh ? { protocol_version: fresh.protocolVersion } : {}),
          updated_at: now, version: row.version + 1,
        };
        await repo.updateServer(trx, row.id, change);
        const beforeFacts = facts(row);
        const afterFacts = facts({ ...row, ...change } as McpServersTable);
        const fields = changed.flatMap((k) => (k === 'settings' ? ['timeout_ms', 'credential'] : k === 'owner_id' ? ['owner_id'] : [k]))
          .filter((f) => JSON.stringify(beforeFacts[f as keyof typeof beforeFacts]) !== JSON.stringify(afterFacts[f as keyof typeof afterFacts]));
        await record(trx, batch, actor, 'updated', row, {
          changed: fields,
          before: Object.fromEntries(fields.map((f) => [f, beforeFacts[f as keyof typeof beforeFacts]])),
          after: Object.fromEntries(fields.map((f) => [f, afterFacts[f as keyof typeof afterFacts]])),
          credential: credentialChange ?? null, version: row.version + 1, reason: input.reason ?? null,
        });
      });
      const updated = await found(db.kysely, row.id);
      if (owner && owner.id !== row.owner_id) await moveResources(actor, updated, owner.id, input.reason ?? `MCP server '${row.name}' has a new owner`);
      if (fresh) await tools.sync(updated, fresh.tools, { full: true, actor, trigger: 'updated', protocolVersion: fresh.protocolVersion, reason: input.reason });
      return viewOf(await found(db.kysely, row.id));
    },

    async refresh(actor: Actor, ref: string, reason?: string): Promise<RefreshResult> {
      const row = await found(db.kysely, ref);
      const fresh = await listing({ url: row.upstream_url, credential: credentialOf(row), timeoutMs: parseSettings(row.settings).timeout_ms });
      const result = await tools.sync(row, fresh.tools, { full: true, actor, trigger: 'refresh', protocolVersion: fresh.protocolVersion, always: true, reason });
      return { server: await viewOf(await found(db.kysely, row.id)), ...result };
    },

    async remove(actor: Actor, ref: string, reason?: string): Promise<void> {
      const row = await found(db.kysely, ref);
      const toolRows = await repo.toolsOf(db.kysely, [row.id]);
      await db.write(async (trx, batch) => {
        const current = await found(trx, row.id);
        await repo.deleteServer(trx, current.id);
        await record(trx, batch, actor, 'deleted', current, {
          ...facts(current), tools: toolRows.map((t) => ({ name: t.name, resource: { id: t.resource_id, name: t.resource_name } })),
          version: current.version, reason: reason ?? null,
        });
      });
      // The resources go too, where nothing else names them (identity refuses and audits; a kept one stays as is).
      const why = reason ?? `MCP server '${row.name}' removed`;
      for (const id of [...toolRows.map((t) => t.resource_id), row.resource_id]) {
        try {
          await resources.remove(actor, id, why);
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          logger.info({ mcp_server: row.name, resource: id, code: error.code }, 'MCP resource kept after its server was removed');
        }
      }
    },
  };

  async function found_(id: string): Promise<repo.ServerRow> {
    return found(db.kysely, id);
  }
}

export type McpServerService = ReturnType<typeof createMcpServerService>;
