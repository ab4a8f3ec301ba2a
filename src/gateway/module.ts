// The gateway module, composed from its parts. Landed so far: the upstreams registry (providers, sealed keys, model
// routes) and the catalog the forwarding step will ask. Limits and budgets (table `gateway_limits`, migration 0008)
// and the model and MCP proxies that use them — their own listener and `pipeline.ts` — come next (issue 13).
import type { HttpApp } from '../platform/http/app.js';
import type { GatewayPartContext } from './parts.js';
import { createUpstreamsPart } from './upstreams/index.js';

export function createGatewayModule(ctx: GatewayPartContext) {
  const upstreams = createUpstreamsPart(ctx);
  return {
    /** Which upstream serves a model resource, with its key opened (for the forwarding step only). */
    upstreams,
    registerRoutes(app: HttpApp) {
      upstreams.registerRoutes(app);
    },
  };
}

export type GatewayModule = ReturnType<typeof createGatewayModule>;
