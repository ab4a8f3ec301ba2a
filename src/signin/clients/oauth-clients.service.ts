import type { AuditWriter } from '../../audit/index.js';
import type { Actor } from '../../platform/actor.js';
import type { Clock } from '../../platform/clock.js';
import { AppError, errors } from '../../platform/http/errors.js';
import { decodeCursor, encodeCursor } from '../../platform/http/pagination.js';
import { isUuid, type IdGenerator } from '../../platform/ids.js';
import type { Database, Trx, WriteBatch } from '../../platform/store/db.js';
import type { OAuthClientsTable } from '../../platform/store/schema.js';
import type { OAuthClient } from '../contracts.js';
import * as repo from './oauth-clients.repo.js';
import {
  CLIENT_GRANT_TYPES, DEFAULT_GRANT_TYPES,
  type ClientGrantType, type ClientView, type CreateClientInput, type ListClientsQuery, type UpdateClientInput,
} from './oauth-clients.schemas.js';
import { validateRedirectUri } from './redirect-uri.js';

// Where OAuth clients for people come from (Client ID Metadata Documents aside: client-metadata.ts):
// - registered: added by an admin over /v1/oauth-clients (client.write), stored in oauth_clients;
// - dynamic: RFC 7591 registration at /oauth/register when the server enables it (dynamic-registration.ts),
//   stored in oauth_clients with kind 'dynamic';
// - builtin: `custos-cli`, the Custos CLI itself, which always exists and is never stored.
//
// Rules:
// - Public clients only: no client secret is ever issued or stored; grant types are a subset of
//   authorization_code, refresh_token and the device grant (RFC 8628). refresh_token needs one of the other
//   two (a refresh token is only ever obtained through them); authorization_code needs at least one redirect URI.
// - Redirect URIs follow redirect-uri.ts (validated here, matched exactly there); duplicates are dropped.
// - client_id is a UUIDv7 from the injected newId: creation-ordered, so the list pages on the primary key, and
//   never mistaken for the built-in id or a metadata document URL. It is not a secret (public clients).
// - The name is shown on the consent page; nobody may register or rename a client to the built-in client's name.
// - `custos-cli` can be shown but not changed or deleted (409 builtin_client).
// - Every registration, change and deletion is audited in the same transaction as the change
//   (signin.client.registered|updated|deleted); a dynamic registration by the anonymous actor with the
//   request's provenance. Refusals are invalid_client_metadata with `field` naming the offending member.
// - At most MAX_DYNAMIC_CLIENTS dynamic clients exist (counted in the write transaction, so concurrent
//   registrations cannot overshoot): anonymous registration must not be able to grow the store without bound.

export const BUILTIN_CLIENT_ID = 'custos-cli';
export const MAX_DYNAMIC_CLIENTS = 10_000;

export const BUILTIN_CLIENT: Readonly<OAuthClient> = Object.freeze({
  clientId: BUILTIN_CLIENT_ID,
  name: 'Custos CLI',
  source: 'builtin',
  // Loopback IP literals: any port matches (RFC 8252 §7.3), so the CLI listens wherever the system lets it.
  redirectUris: Object.freeze(['http://127.0.0.1/callback', 'http://[::1]/callback']) as string[],
  grantTypes: Object.freeze([...CLIENT_GRANT_TYPES]) as string[],
  scope: null,
});

export interface OAuthClientServiceDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  /** Bound on stored dynamic clients (default MAX_DYNAMIC_CLIENTS). */
  maxDynamicClients?: number;
}

/** Client metadata as the service checks it, wherever it came from. */
export interface ClientMetadataInput {
  name: string;
  redirectUris: readonly string[];
  grantTypes?: readonly string[];
  scope?: readonly string[] | null;
}

export interface CheckedMetadata {
  name: string;
  redirectUris: string[];
  grantTypes: ClientGrantType[];
  scope: string[] | null;
}

/** The metadata refusal; `field` names the member (the RFC 7591 endpoint answers invalid_redirect_uri for redirect_uris). */
export function invalidMetadata(field: 'name' | 'redirect_uris' | 'grant_types' | 'scope' | string, detail: string): AppError {
  return new AppError('invalid_client_metadata', detail, { field });
}

/** Dynamic registration is closed because MAX_DYNAMIC_CLIENTS exist. */
export class DynamicClientLimit extends Error {
  constructor(readonly limit: number) {
    super(`this server already holds ${limit} dynamically registered clients, its limit; ask an administrator to register the client or remove unused ones`);
    this.name = 'DynamicClientLimit';
  }
}

const unique = <T>(list: readonly T[]): T[] => [...new Set(list)];

/** The rules above, pure: returns the metadata as stored, or throws invalid_client_metadata. */
export function checkClientMetadata(input: ClientMetadataInput): CheckedMetadata {
  const name = input.name.trim();
  if (name.length === 0) throw invalidMetadata('name', 'name is empty');
  if (name.toLowerCase() === BUILTIN_CLIENT.name.toLowerCase()) throw invalidMetadata('name', `'${BUILTIN_CLIENT.name}' is the built-in client's name; choose another`);

  const grantTypes = unique(input.grantTypes ?? DEFAULT_GRANT_TYPES);
  if (grantTypes.length === 0) throw invalidMetadata('grant_types', 'grant_types is empty');
  for (const g of grantTypes) {
    if (!(CLIENT_GRANT_TYPES as readonly string[]).includes(g)) {
      throw invalidMetadata('grant_types', `grant type '${g}' is not available to clients for people (public clients): ${CLIENT_GRANT_TYPES.join(', ')}`);
    }
  }
  const grants = grantTypes as ClientGrantType[];
  if (grants.includes('refresh_token') && !grants.some((g) => g !== 'refresh_token')) {
    throw invalidMetadata('grant_types', 'refresh_token needs authorization_code or the device grant: a refresh token is only obtained through one of them');
  }

  const redirectUris = unique(input.redirectUris);
  redirectUris.forEach((uri, i) => {
    const problem = validateRedirectUri(uri);
    if (problem) throw invalidMetadata('redirect_uris', `redirect_uris[${i}] ${problem}`);
  });
  if (grants.includes('authorization_code') && redirectUris.length === 0) {
    throw invalidMetadata('redirect_uris', 'the authorization_code grant needs at least one redirect URI');
  }

  const scope = input.scope === undefined || input.scope === null ? null : unique(input.scope);
  return { name, redirectUris, grantTypes: grants, scope };
}

/** A client this service answers for (metadata documents are not). */
type ListedClient = OAuthClient & { source: ClientView['source'] };

function rowToClient(row: OAuthClientsTable): ListedClient {
  return {
    clientId: row.client_id,
    name: row.name,
    source: row.kind,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    grantTypes: JSON.parse(row.grant_types) as string[],
    scope: row.scope === null ? null : row.scope.split(' ').filter(Boolean),
  };
}

function builtinClient(): ListedClient {
  return { ...BUILTIN_CLIENT, source: 'builtin', redirectUris: [...BUILTIN_CLIENT.redirectUris], grantTypes: [...BUILTIN_CLIENT.grantTypes] };
}

function viewOf(client: ListedClient, row?: OAuthClientsTable): ClientView {
  return {
    client_id: client.clientId,
    name: client.name,
    source: client.source,
    redirect_uris: client.redirectUris,
    grant_types: client.grantTypes,
    scope: client.scope,
    created_at: row?.created_at ?? null,
    created_by: row?.created_by ?? null,
  };
}

const immutable = () => new AppError('builtin_client', `'${BUILTIN_CLIENT_ID}' is built into the server: it can be shown but not changed or deleted`);

export function createOAuthClientService(deps: OAuthClientServiceDeps) {
  const { db, audit, clock, newId } = deps;
  const maxDynamic = deps.maxDynamicClients ?? MAX_DYNAMIC_CLIENTS;

  /** Stored clients have UUID ids; anything else (the built-in id, a URL) is never looked up. */
  async function loadRow(q: Trx | Database['kysely'], clientId: string): Promise<OAuthClientsTable | undefined> {
    return isUuid(clientId) ? repo.findClient(q, clientId) : undefined;
  }

  async function load(q: Trx | Database['kysely'], clientId: string): Promise<OAuthClientsTable> {
    const row = await loadRow(q, clientId);
    if (!row) throw errors.notFound('OAuth client', clientId);
    return row;
  }

  function stored(meta: CheckedMetadata) {
    return {
      name: meta.name,
      redirect_uris: JSON.stringify(meta.redirectUris),
      grant_types: JSON.stringify(meta.grantTypes),
      scope: meta.scope === null ? null : meta.scope.join(' '),
    };
  }

  async function record(trx: Trx, batch: WriteBatch, actor: Actor, type: 'registered' | 'updated' | 'deleted', row: OAuthClientsTable, details: Record<string, unknown>) {
    const eventType = `signin.client.${type}`;
    await audit.record(trx, batch, {
      type: eventType, action: eventType, actor, target: { type: 'oauth_client', id: row.client_id, name: row.name }, outcome: 'success', details,
    });
  }

  async function insert(actor: Actor, kind: OAuthClientsTable['kind'], meta: CheckedMetadata, reason: string | null): Promise<OAuthClientsTable> {
    return db.write(async (trx, batch) => {
      if (kind === 'dynamic' && await repo.countClients(trx, 'dynamic') >= maxDynamic) throw new DynamicClientLimit(maxDynamic);
      const row: OAuthClientsTable = {
        client_id: newId(), kind, ...stored(meta), created_at: clock.now().toISOString(), created_by: actor.principal?.id ?? null,
      };
      await repo.insertClient(trx, row);
      await record(trx, batch, actor, 'registered', row, {
        source: kind, redirect_uris: meta.redirectUris, grant_types: meta.grantTypes, scope: meta.scope, reason,
      });
      return row;
    });
  }

  return {
    /** Registers a client for people (an admin, over /v1/oauth-clients). */
    async create(actor: Actor, input: CreateClientInput): Promise<ClientView> {
      const meta = checkClientMetadata({ name: input.name, redirectUris: input.redirect_uris, grantTypes: input.grant_types, scope: input.scope });
      const row = await insert(actor, 'registered', meta, input.reason ?? null);
      return viewOf(rowToClient(row), row);
    },

    /** RFC 7591 registration (dynamic-registration.ts): `actor` is the anonymous caller with its provenance. */
    async registerDynamic(actor: Actor, input: ClientMetadataInput): Promise<{ client: OAuthClient; issuedAt: Date }> {
      const meta = checkClientMetadata(input);
      const row = await insert(actor, 'dynamic', meta, null);
      return { client: rowToClient(row), issuedAt: new Date(row.created_at) };
    },

    async get(clientId: string): Promise<ClientView> {
      if (clientId === BUILTIN_CLIENT_ID) return viewOf(builtinClient());
      const row = await load(db.kysely, clientId);
      return viewOf(rowToClient(row), row);
    },

    /** Keyset pages in creation order; the built-in client leads the first page of an unfiltered list. */
    async list(query: ListClientsQuery): Promise<{ items: ClientView[]; next_cursor: string | null }> {
      const after = decodeCursor(query.cursor);
      if (query.source === 'builtin') return { items: after === undefined ? [viewOf(builtinClient())] : [], next_cursor: null };
      const lead = after === undefined && query.source === undefined ? [viewOf(builtinClient())] : [];
      const room = query.limit - lead.length;
      const rows = await repo.listClients(db.kysely, { afterId: after === undefined ? undefined : String(after), kind: query.source, limit: room + 1 });
      const page = rows.slice(0, room);
      const hasMore = rows.length > room;
      // '' sorts before every id: a first page holding only the built-in client continues from the start.
      const next_cursor = hasMore ? encodeCursor(page.length > 0 ? page[page.length - 1]!.client_id : '') : null;
      return { items: [...lead, ...page.map((row) => viewOf(rowToClient(row), row))], next_cursor };
    },

    async update(actor: Actor, clientId: string, input: UpdateClientInput): Promise<ClientView> {
      if (clientId === BUILTIN_CLIENT_ID) throw immutable();
      return db.write(async (trx, batch) => {
        const row = await load(trx, clientId);
        const before = rowToClient(row);
        const meta = checkClientMetadata({
          name: input.name ?? before.name,
          redirectUris: input.redirect_uris ?? before.redirectUris,
          grantTypes: input.grant_types ?? before.grantTypes,
          scope: input.scope === undefined ? before.scope : input.scope,
        });
        const next = stored(meta);
        const changed = (Object.keys(next) as (keyof typeof next)[]).filter((k) => next[k] !== row[k]);
        if (changed.length > 0) await repo.updateClient(trx, row.client_id, Object.fromEntries(changed.map((k) => [k, next[k]])));
        const after: OAuthClientsTable = { ...row, ...next };
        const asDetail = (c: OAuthClient) => ({ name: c.name, redirect_uris: c.redirectUris, grant_types: c.grantTypes, scope: c.scope });
        const beforeDetail = asDetail(before);
        const afterDetail = asDetail(rowToClient(after));
        await record(trx, batch, actor, 'updated', after, {
          source: row.kind, changed,
          before: Object.fromEntries(changed.map((k) => [k, beforeDetail[k]])),
          after: Object.fromEntries(changed.map((k) => [k, afterDetail[k]])),
          reason: input.reason ?? null,
        });
        return viewOf(rowToClient(after), after);
      });
    },

    async remove(actor: Actor, clientId: string, reason: string | undefined): Promise<void> {
      if (clientId === BUILTIN_CLIENT_ID) throw immutable();
      await db.write(async (trx, batch) => {
        const row = await load(trx, clientId);
        await repo.deleteClient(trx, row.client_id);
        await record(trx, batch, actor, 'deleted', row, { source: row.kind, reason: reason ?? null });
      });
    },

    /** The client with this id: registered, dynamic or built-in (metadata documents are client-metadata.ts's). */
    async find(clientId: string): Promise<OAuthClient | undefined> {
      if (clientId === BUILTIN_CLIENT_ID) return builtinClient();
      const row = await loadRow(db.kysely, clientId);
      return row ? rowToClient(row) : undefined;
    },
  };
}
export type OAuthClientService = ReturnType<typeof createOAuthClientService>;
