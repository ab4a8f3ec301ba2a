// The gateway module, composed from its parts. Landed so far: the upstreams registry (providers, sealed keys, model
// routes) with the catalog the forwarding step will ask, and limits and budgets with the enforcer it will reserve
// through. The model and MCP proxies that use them — their own listener and `pipeline.ts` — come next (issue 13).
import type { HttpApp } from '../platform/http/app.js';
import type { GatewayPartContext } from './parts.js';
import { createLimitsPart } from './limits/index.js';
import { createUpstreamsPart } from './upstreams/index.js';

export function createGatewayModule(ctx: GatewayPartContext) {
  const upstreams = createUpstreamsPart(ctx);
  const limits = createLimitsPart(ctx);
  return {
    /** Which upstream serves a model resource, with its key opened (for the forwarding step only). */
    upstreams,
    /** Reserve-before-forward and settle-on-usage limits and budgets (counters in this node's memory for now). */
    limits,
    registerRoutes(app: HttpApp) {
      upstreams.registerRoutes(app);
      limits.registerRoutes(app);
    },
  };
}

export type GatewayModule = ReturnType<typeof createGatewayModule>;
