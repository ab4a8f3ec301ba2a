// The upstreams part of the gateway module: the registry of model providers (/v1/upstreams) with their sealed keys
// and model aliases, and the catalog the forwarding step asks on every call (catalog.ts). The module builds it from
// the gateway's part context; the model proxy (a later part) calls `routeFor` and `modelsServed`. Rules and API:
// docs/upstreams.md.
import type { GatewayPart, GatewayPartContext } from '../parts.js';
import { createUpstreamCatalog, type UpstreamCatalog } from './catalog.js';
import { registerUpstreamRoutes } from './upstreams.routes.js';
import { createUpstreamService } from './upstreams.service.js';

export type { UpstreamCatalog, UpstreamRoute } from './catalog.js';
export type { UpstreamView } from './upstreams.schemas.js';
export { PROVIDERS, type Provider, type UpstreamSettings } from './upstreams.js';

export function createUpstreamsPart(ctx: GatewayPartContext): GatewayPart & UpstreamCatalog {
  const { db, audit, clock, newId, keys, logger } = ctx;
  const service = createUpstreamService({ db, audit, clock, newId, keys });
  const catalog = createUpstreamCatalog({ db, keys, logger });
  return {
    registerRoutes: (app) => registerUpstreamRoutes(app, service),
    routeFor: (modelRef) => catalog.routeFor(modelRef),
    modelsServed: () => catalog.modelsServed(),
  };
}
