import type { AuditWriter } from '../../audit/index.js';
import type { Actor } from '../../platform/actor.js';
import type { Clock } from '../../platform/clock.js';
import { AppError, errors } from '../../platform/http/errors.js';
import { decodeCursor, pageOf } from '../../platform/http/pagination.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { KeyRing } from '../../platform/keys.js';
import type { Database, Trx, WriteBatch } from '../../platform/store/db.js';
import { isUniqueViolation } from '../../platform/store/errors.js';
import type { UpstreamModelsTable, UpstreamsTable } from '../../platform/store/schema.js';
import { normaliseBaseUrl } from './upstream-url.js';
import * as repo from './upstreams.repo.js';
import type { CreateUpstreamInput, ListUpstreamsQuery, RouteModelInput, UpdateUpstreamInput, UpstreamView } from './upstreams.schemas.js';
import { keyContext, keyProblem, parseSettings, RETRIES, routeProblem, TIMEOUT_MS, upstreamProblem, type UpstreamSettings } from './upstreams.js';

// The upstream registry: the use cases behind /v1/upstreams. Admins change it (`upstream.write`), admins, security
// and auditors read it (`upstream.read`); the role table decides, nothing here widens it.
//
// Rules:
// - Shapes are the schemas' (400); rules across fields are upstreams.ts and upstream-url.ts (422 invalid_upstream,
//   the detail naming the rule). Names are DNS labels, unique (409 name_taken) and never change (the gateway's
//   model list and the audit log name upstreams by them).
// - The provider key is sealed with the master key under `upstream-key:<id>` (a sealed value copied to another row
//   does not open there) and opened only by the catalog, for the forwarding step. It is in no response, no audit
//   event, no log line and no error text: views say `has_key`, audit events say whether a key was set, replaced or
//   removed. Rotating it (`key` in PATCH) re-seals it; the next routeFor returns the new key, and nothing changes on
//   any client (clients hold Custos credentials, never the provider's).
// - A model alias routes one registry resource of kind model or endpoint (by id or name; 422 resource_not_found,
//   422 invalid_upstream for another kind) to a provider model id. One upstream serves a resource: routing it to a
//   second upstream is 409 model_already_routed naming the first. Re-routing to the same upstream changes the
//   provider model.
// - An upstream that serves models is deleted only with `unroute_models=true` (its models stop being served);
//   otherwise 409 model_already_routed listing them.
// - Every change bumps `version` and is audited in its transaction: `upstream.created`, `.updated` (changed fields,
//   before and after), `.key_rotated` (no key material), `.deleted` (and the aliases removed with it),
//   `.model_routed`, `.model_unrouted`. A request that changes nothing records nothing. `expected_version` makes a
//   PATCH conditional (409 version_mismatch).

export interface UpstreamServiceDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  keys: KeyRing;
}

type Q = Trx | Database['kysely'];

const invalid = (detail: string) => new AppError('invalid_upstream', detail);

function baseUrlOrThrow(value: string): string {
  const r = normaliseBaseUrl(value);
  if (!r.ok) throw invalid(`base_url ${r.problem}`);
  return r.url;
}

/** The facts of an upstream an audit event may carry: everything but the key (only whether there is one). */
function facts(row: UpstreamsTable) {
  const settings = parseSettings(row.settings);
  return {
    provider: row.provider, base_url: row.base_url, api_version: settings.api_version ?? null, timeout_ms: row.timeout_ms, retries: row.retries,
    has_key: row.key_sealed !== null,
  };
}

function settingsText(settings: UpstreamSettings): string {
  return JSON.stringify(settings.api_version === undefined ? {} : { api_version: settings.api_version });
}

export function createUpstreamService(deps: UpstreamServiceDeps) {
  const { db, audit, clock, newId, keys } = deps;

  async function views(q: Q, rows: UpstreamsTable[]): Promise<UpstreamView[]> {
    const routes = await repo.routedModels(q, rows.map((r) => r.id));
    return rows.map((row) => ({
      id: row.id, name: row.name, provider: row.provider, base_url: row.base_url, api_version: parseSettings(row.settings).api_version ?? null,
      timeout_ms: row.timeout_ms, retries: row.retries, has_key: row.key_sealed !== null,
      models: routes.filter((m) => m.upstream_id === row.id).map((m) => ({
        resource: { id: m.resource_id, name: m.resource_name, kind: m.resource_kind }, provider_model: m.provider_model, routed_at: m.created_at,
      })),
      created_at: row.created_at, created_by: row.created_by, updated_at: row.updated_at, version: row.version,
    }));
  }

  async function viewOf(q: Q, row: UpstreamsTable): Promise<UpstreamView> {
    return (await views(q, [row]))[0]!;
  }

  async function found(q: Q, ref: string): Promise<UpstreamsTable> {
    const row = await repo.findUpstream(q, ref);
    if (!row) throw errors.notFound('upstream', ref);
    return row;
  }

  /** A resource a model alias may name, and who serves it now. */
  async function routable(q: Q, ref: string, providerModel: string) {
    const resource = await repo.findResource(q, ref);
    if (!resource) throw new AppError('resource_not_found', `resource '${ref}' does not exist`);
    const problem = routeProblem(resource, providerModel);
    if (problem) throw invalid(problem);
    return { resource, current: await repo.routeOfResource(q, resource.id) };
  }

  function alreadyRouted(resourceName: string, upstreamName: string): AppError {
    return new AppError('model_already_routed', `resource '${resourceName}' is served by upstream '${upstreamName}'; unroute it there first`, { upstream: upstreamName });
  }

  async function record(trx: Trx, batch: WriteBatch, actor: Actor, type: string, row: Pick<UpstreamsTable, 'id' | 'name'>, details: Record<string, unknown>) {
    await audit.record(trx, batch, {
      type: `upstream.${type}`, action: `upstream.${type}`, actor, target: { type: 'upstream', id: row.id, name: row.name }, outcome: 'success', details,
    });
  }

  return {
    async create(actor: Actor, input: CreateUpstreamInput): Promise<UpstreamView> {
      const baseUrl = baseUrlOrThrow(input.base_url);
      const keyIssue = input.key === undefined ? undefined : keyProblem(input.key);
      if (keyIssue) throw invalid(keyIssue);
      const settings: UpstreamSettings = input.api_version === undefined ? {} : { api_version: input.api_version };
      const timeoutMs = input.timeout_ms ?? TIMEOUT_MS.default;
      const retries = input.retries ?? RETRIES.default;
      const problem = upstreamProblem({ provider: input.provider, hasKey: input.key !== undefined, settings, timeoutMs, retries });
      if (problem) throw invalid(problem);
      return db.write(async (trx, batch) => {
        if (await repo.findUpstream(trx, input.name)) throw new AppError('name_taken', `an upstream named '${input.name}' already exists`);
        const now = clock.now().toISOString();
        const id = newId();
        const routes: Array<UpstreamModelsTable & { resource_name: string; resource_kind: string }> = [];
        for (const [ref, providerModel] of Object.entries(input.models ?? {})) {
          const { resource, current } = await routable(trx, ref, providerModel);
          if (current) throw alreadyRouted(resource.name, current.upstream_name);
          if (routes.some((r) => r.resource_id === resource.id)) throw invalid(`models name resource '${resource.name}' twice`);
          routes.push({ resource_id: resource.id, upstream_id: id, provider_model: providerModel, created_at: now, resource_name: resource.name, resource_kind: resource.kind });
        }
        const row: UpstreamsTable = {
          id, name: input.name, provider: input.provider, base_url: baseUrl,
          key_sealed: input.key === undefined ? null : keys.seal(Buffer.from(input.key, 'utf8'), keyContext(id)),
          settings: settingsText(settings), timeout_ms: timeoutMs, retries, created_at: now, created_by: actor.principal?.id ?? null, updated_at: now, version: 1,
        };
        try {
          await repo.insertUpstream(trx, row);
        } catch (error) {
          if (isUniqueViolation(error)) throw new AppError('name_taken', `an upstream named '${input.name}' already exists`);
          throw error;
        }
        for (const { resource_name: _n, resource_kind: _k, ...route } of routes) await repo.insertRoute(trx, route);
        await record(trx, batch, actor, 'created', row, {
          ...facts(row),
          models: routes.map((r) => ({ resource: { id: r.resource_id, name: r.resource_name }, provider_model: r.provider_model })),
          version: row.version, reason: input.reason ?? null,
        });
        return viewOf(trx, row);
      });
    },

    async list(query: ListUpstreamsQuery) {
      const after = decodeCursor(query.cursor);
      const rows = await repo.listUpstreams(db.kysely, { afterId: after === undefined ? undefined : String(after), provider: query.provider, limit: query.limit + 1 });
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: await views(db.kysely, page.items), next_cursor: page.next_cursor };
    },

    async get(ref: string): Promise<UpstreamView> {
      return viewOf(db.kysely, await found(db.kysely, ref));
    },

    async update(actor: Actor, ref: string, input: UpdateUpstreamInput): Promise<UpstreamView> {
      const given = (['provider', 'base_url', 'key', 'remove_key', 'api_version', 'timeout_ms', 'retries'] as const).filter((k) => input[k] !== undefined);
      if (given.length === 0) throw errors.validation('nothing to change: give provider, base_url, key, remove_key, api_version, timeout_ms or retries');
      if (input.key !== undefined && input.remove_key) throw errors.validation('give key or remove_key, not both');
      const baseUrl = input.base_url === undefined ? undefined : baseUrlOrThrow(input.base_url);
      const keyIssue = input.key === undefined ? undefined : keyProblem(input.key);
      if (keyIssue) throw invalid(keyIssue);
      return db.write(async (trx, batch) => {
        const row = await found(trx, ref);
        if (input.expected_version !== undefined && input.expected_version !== row.version) {
          throw new AppError('version_mismatch', `upstream '${row.name}' is at version ${row.version}, not ${input.expected_version}`);
        }
        const before = facts(row);
        const settings: UpstreamSettings = { ...parseSettings(row.settings) };
        if (input.api_version === null) delete settings.api_version;
        else if (input.api_version !== undefined) settings.api_version = input.api_version;
        const next = {
          provider: input.provider ?? row.provider, base_url: baseUrl ?? row.base_url, settings: settingsText(settings),
          timeout_ms: input.timeout_ms ?? row.timeout_ms, retries: input.retries ?? row.retries,
        };
        const keyChange: 'set' | 'replaced' | 'removed' | undefined = input.key !== undefined
          ? (row.key_sealed === null ? 'set' : 'replaced')
          : input.remove_key && row.key_sealed !== null ? 'removed' : undefined;
        const hasKey = keyChange === undefined ? row.key_sealed !== null : keyChange !== 'removed';
        const problem = upstreamProblem({ provider: next.provider, hasKey, settings, timeoutMs: next.timeout_ms, retries: next.retries });
        if (problem) throw invalid(problem);

        const changed = (Object.keys(next) as Array<keyof typeof next>).filter((k) => next[k] !== row[k]);
        if (changed.length === 0 && keyChange === undefined) return viewOf(trx, row);
        const change: Partial<UpstreamsTable> = {
          ...Object.fromEntries(changed.map((k) => [k, next[k]])),
          ...(keyChange === undefined ? {} : { key_sealed: input.key === undefined ? null : keys.seal(Buffer.from(input.key, 'utf8'), keyContext(row.id)) }),
          updated_at: clock.now().toISOString(),
          version: row.version + 1,
        };
        await repo.updateUpstream(trx, row.id, change);
        const after = { ...row, ...change } as UpstreamsTable;
        if (changed.length > 0) {
          const afterFacts = facts(after);
          const fields = changed.map((k) => (k === 'settings' ? 'api_version' : k));
          await record(trx, batch, actor, 'updated', after, {
            changed: fields,
            before: Object.fromEntries(fields.map((f) => [f, before[f as keyof typeof before]])),
            after: Object.fromEntries(fields.map((f) => [f, afterFacts[f as keyof typeof afterFacts]])),
            version: after.version, reason: input.reason ?? null,
          });
        }
        if (keyChange !== undefined) await record(trx, batch, actor, 'key_rotated', after, { key: keyChange, version: after.version, reason: input.reason ?? null });
        return viewOf(trx, after);
      });
    },

    async remove(actor: Actor, ref: string, opts: { unrouteModels: boolean; reason?: string }): Promise<void> {
      await db.write(async (trx, batch) => {
        const row = await found(trx, ref);
        const routes = await repo.routedModels(trx, [row.id]);
        if (routes.length > 0 && !opts.unrouteModels) {
          const names = routes.map((r) => r.resource_name);
          const shown = names.slice(0, 5).map((n) => `'${n}'`).join(', ') + (names.length > 5 ? `, and ${names.length - 5} more` : '');
          throw new AppError('model_already_routed', `upstream '${row.name}' still serves ${names.length} model${names.length === 1 ? '' : 's'} (${shown}); unroute ${names.length === 1 ? 'it' : 'them'} first, or delete with unroute_models=true (custos upstream remove --unroute-models)`, {
            models: names.slice(0, 100),
          });
        }
        await repo.deleteUpstream(trx, row.id);
        await record(trx, batch, actor, 'deleted', row, {
          ...facts(row),
          models_unrouted: routes.map((r) => ({ resource: { id: r.resource_id, name: r.resource_name }, provider_model: r.provider_model })),
          version: row.version, reason: opts.reason ?? null,
        });
      });
    },

    async route(actor: Actor, ref: string, resourceRef: string, input: RouteModelInput): Promise<UpstreamView> {
      return db.write(async (trx, batch) => {
        const row = await found(trx, ref);
        const { resource, current } = await routable(trx, resourceRef, input.provider_model);
        if (current && current.upstream_id !== row.id) throw alreadyRouted(resource.name, current.upstream_name);
        if (current && current.provider_model === input.provider_model) return viewOf(trx, row);
        const now = clock.now().toISOString();
        if (current) await repo.updateRoute(trx, resource.id, input.provider_model);
        else await repo.insertRoute(trx, { resource_id: resource.id, upstream_id: row.id, provider_model: input.provider_model, created_at: now });
        const after = { ...row, version: row.version + 1, updated_at: now };
        await repo.touchUpstream(trx, row.id, after.version, now);
        await record(trx, batch, actor, 'model_routed', after, {
          resource: { id: resource.id, name: resource.name, kind: resource.kind }, provider_model: input.provider_model,
          previous_provider_model: current?.provider_model ?? null, version: after.version, reason: input.reason ?? null,
        });
        return viewOf(trx, after);
      });
    },

    async unroute(actor: Actor, ref: string, resourceRef: string, reason?: string): Promise<void> {
      await db.write(async (trx, batch) => {
        const row = await found(trx, ref);
        const resource = await repo.findResource(trx, resourceRef);
        const current = resource ? await repo.routeOfResource(trx, resource.id) : undefined;
        if (!resource || !current || current.upstream_id !== row.id) throw errors.notFound(`model route of upstream '${row.name}' for resource`, resourceRef);
        const now = clock.now().toISOString();
        await repo.deleteRoute(trx, resource.id, row.id);
        await repo.touchUpstream(trx, row.id, row.version + 1, now);
        await record(trx, batch, actor, 'model_unrouted', row, {
          resource: { id: resource.id, name: resource.name, kind: resource.kind }, provider_model: current.provider_model, version: row.version + 1, reason: reason ?? null,
        });
      });
    },
  };
}

export type UpstreamService = ReturnType<typeof createUpstreamService>;
