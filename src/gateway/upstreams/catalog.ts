import type { Logger } from '../../platform/logger.js';
import type { KeyRing } from '../../platform/keys.js';
import type { Database } from '../../platform/store/db.js';
import * as repo from './upstreams.repo.js';
import { keyContext, parseSettings, type Provider, type UpstreamSettings } from './upstreams.js';

// The catalog the gateway's forwarding step asks: which upstream serves a model resource (the `model` a client
// sent: the resource's name, or its id), as what provider model, and with which key.
//
// What it guards against:
// - A stale route or key: every call reads the store (one compiled statement joining upstream_models, resources
//   and upstreams), so a rotation, a re-route or an unroute applies to the very next call on every node. There is
//   no cache to invalidate.
// - A key leaking beyond the forwarding step: it is opened here, per call, and handed back only in the route; it is
//   never logged (a seal that does not open is logged by upstream id and name only, then thrown: the caller fails
//   closed with 503, never forwards without the key).
// - A model the registry does not know, or one no upstream serves: undefined, and the caller refuses the call.

export interface UpstreamRoute {
  /** The registry resource the client named (what the decision point decides on). */
  resource: { id: string; name: string; kind: string };
  upstream: {
    id: string;
    name: string;
    provider: Provider;
    /** Normalised, without trailing slashes: append the provider's path. */
    baseUrl: string;
    timeoutMs: number;
    retries: number;
    settings: UpstreamSettings;
  };
  /** The provider's model id (or Azure deployment) to send upstream in place of the client's `model`. */
  providerModel: string;
  /** The provider key, opened from its seal for the forwarding step only; null for a keyless local server. */
  key: string | null;
}

export interface UpstreamCatalog {
  /** The route of a model resource, by name or id; undefined when no upstream serves it (or it does not exist). */
  routeFor(modelRef: string): Promise<UpstreamRoute | undefined>;
  /** Every model resource an upstream serves, by resource name, with the upstream's name (`GET /v1/models`). */
  modelsServed(): Promise<Array<{ resource: { id: string; name: string }; upstream: string }>>;
}

/** Longest reference worth asking the store about (ids and names are far shorter). */
const MAX_REF_LENGTH = 200;

export function createUpstreamCatalog(deps: { db: Database; keys: KeyRing; logger: Logger }): UpstreamCatalog {
  const { db, keys, logger } = deps;
  return {
    async routeFor(modelRef) {
      if (modelRef.length === 0 || modelRef.length > MAX_REF_LENGTH) return undefined;
      const row = await repo.routeFor(db.kysely, modelRef);
      if (!row) return undefined;
      let key: string | null = null;
      if (row.key_sealed !== null) {
        try {
          key = keys.open(row.key_sealed, keyContext(row.upstream_id)).toString('utf8');
        } catch (error) {
          logger.error({ upstream: { id: row.upstream_id, name: row.upstream_name } }, 'upstream key cannot be opened with this master key');
          throw error;
        }
      }
      return {
        resource: { id: row.resource_id, name: row.resource_name, kind: row.resource_kind },
        upstream: {
          id: row.upstream_id, name: row.upstream_name, provider: row.provider, baseUrl: row.base_url, timeoutMs: row.timeout_ms, retries: row.retries,
          settings: parseSettings(row.settings),
        },
        providerModel: row.provider_model,
        key,
      };
    },

    async modelsServed() {
      const rows = await repo.allRoutes(db.kysely);
      return rows.map((r) => ({ resource: { id: r.resource_id, name: r.resource_name }, upstream: r.upstream_name }));
    },
  };
}
