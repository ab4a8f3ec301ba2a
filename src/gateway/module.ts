// The gateway module, composed from its parts: the upstreams registry (providers, sealed keys, model routes) and
// the catalog the forwarding step asks; limits and budgets with the enforcer calls reserve through; the model proxy
// (pipeline.ts: OpenAI and Anthropic wire formats) and the MCP proxy (mcp/), both on the gateway's own listener.
import { Agent } from 'undici';
import type { CredentialVerifier } from '../platform/http/pipeline/index.js';
import type { Trx } from '../platform/store/db.js';
import type { HttpApp } from '../platform/http/app.js';
import { registerMetricsRoute } from '../platform/http/metrics-route.js';
import type { FastifyRequest } from 'fastify';
import { createCompletionQueue } from './completions.js';
import { createLimitsPart } from './limits/index.js';
import { createGatewayApp } from './listener.js';
import { createMcpPart } from './mcp/index.js';
import { registerModelRoutes } from './model-routes.js';
import type { GatewayCallContext } from './parts.js';
import { createUpstreamsPart } from './upstreams/index.js';

export interface GatewayModuleDeps extends GatewayCallContext {
  trustProxy?: string[];
  /** Who may read /metrics on the gateway's listener. */
  mayScrape(req: FastifyRequest): Promise<boolean>;
}

export function createGatewayModule(ctx: GatewayModuleDeps) {
  const upstreams = createUpstreamsPart(ctx);
  const limits = createLimitsPart(ctx);
  const mcp = createMcpPart(ctx);
  // Keep-alive connections to every upstream, shared by all calls.
  const http = new Agent({ keepAliveTimeout: 30_000, connections: 256 });
  let app: ReturnType<typeof createGatewayApp> | undefined;
  let closed = false;
  const verifier: CredentialVerifier = ctx.verifierFor(ctx.gatewayUrl);
  const completions = createCompletionQueue({ db: ctx.db, audit: ctx.audit, logger: ctx.logger });

  function build() {
    const gw = createGatewayApp({ logger: ctx.logger, trustProxy: ctx.trustProxy });
    registerModelRoutes(gw, {
      db: ctx.db, audit: ctx.audit, logger: ctx.logger, metrics: ctx.metrics, gatewayUrl: ctx.gatewayUrl, issuer: ctx.issuer, verifier,
      pdp: ctx.pdp, catalog: upstreams, limits, http, hashContent: ctx.hashContent, completions,
    });
    mcp.registerGatewayRoutes(gw);
    registerMetricsRoute(gw, ctx.metrics, ctx.mayScrape);
    return gw;
  }

  return {
    /** Which upstream serves a model resource, with its key opened (for the forwarding step only). */
    upstreams,
    /** Reserve-before-forward and settle-on-usage limits and budgets (counters in this node's memory for now). */
    limits,
    mcp,
    /** RFC 8707 resource indicators the gateway answers for beyond the registry (MCP endpoints). */
    audienceFor: (indicator: string, trx?: Trx) => mcp.audienceFor?.(indicator, trx) ?? Promise.resolve(undefined),
    registerRoutes(control: HttpApp) {
      upstreams.registerRoutes(control);
      limits.registerRoutes(control);
      mcp.registerRoutes(control);
    },
    /** The gateway's listener, built on first use (tests inject into it without listening). */
    app() {
      app ??= build();
      return app;
    },
    async listen(host: string, port: number): Promise<string> {
      const url = await this.app().listen({ host, port });
      return url;
    },
    /** Stops the listener and the upstream connections; a second call does nothing (the control plane may close twice). */
    async close() {
      if (closed) return;
      closed = true;
      if (app) await app.close();
      await http.close();
      await completions.flush();
    },
  };
}

export type GatewayModule = ReturnType<typeof createGatewayModule>;
