// What each part of the gateway module is built from: upstreams/ and limits/ (management routes on the control
// plane), the model proxy (pipeline.ts and its steps) and mcp/ (the MCP proxy), which also serve on the gateway's
// own listener.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditWriter } from '../audit/index.js';
import type { Pdp } from '../authz/index.js';
import type { AudienceResource } from '../credentials/index.js';
import type { createResourceService } from '../identity/index.js';
import type { Actor } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import type { HttpApp } from '../platform/http/app.js';
import type { CredentialVerifier, PresentedCredential } from '../platform/http/pipeline/index.js';
import type { IdGenerator } from '../platform/ids.js';
import type { KeyRing } from '../platform/keys.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { Database, Trx } from '../platform/store/db.js';

export interface GatewayPartContext {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  /** Upstream provider keys and MCP upstream credentials are sealed with the master key. */
  keys: KeyRing;
  logger: Logger;
}

/** What the call path (model proxy, MCP proxy) needs beyond the parts' context. */
export interface GatewayCallContext extends GatewayPartContext {
  /** The gateway's public base URL (no trailing slash): the audience of tokens for its model API. */
  gatewayUrl(): string;
  /** The OAuth issuer (the control plane's public URL): where clients get tokens. */
  issuer(): string;
  /** A verifier whose tokens and API keys must be addressed to `audience` (credentials module). */
  verifierFor(audience: () => string): CredentialVerifier;
  /** The decision point: decides, and records the decision inside the caller's own transaction. */
  pdp: Pick<Pdp, 'prepareDecision' | 'evaluate'>;
  metrics: Metrics;
  /** Record a SHA-256 of prompts and completions (never their text). */
  hashContent: boolean;
  /** The registry's resource service: the MCP proxy registers each upstream tool as a `tool` resource. */
  resources: ReturnType<typeof createResourceService>;
}

/**
 * The gateway's own listener: plain Fastify, provider-shaped errors, no management routes. Request bodies of every
 * content type arrive unparsed, as a Buffer in `req.body` (each route parses its own format and answers bad input in
 * its own error shape).
 */
export type GatewayApp = FastifyInstance;

export interface GatewayPart {
  /** Management routes on the control plane (`/v1/upstreams`, `/v1/limits`, `/v1/mcp-servers`). */
  registerRoutes(app: HttpApp): void;
}

/** A part that also serves on the gateway's listener (the model proxy, the MCP proxy). */
export interface GatewayListenerPart extends GatewayPart {
  registerGatewayRoutes(app: GatewayApp): void;
  /**
   * An RFC 8707 resource indicator this part answers for (the MCP proxy: `<gateway>/mcp/<server>` of a registered
   * server), as the audience tokens for it carry; undefined when it is not one of this part's.
   */
  audienceFor?(indicator: string, trx?: Trx): Promise<AudienceResource | undefined>;
}

/** Reads the caller's credential at the gateway: `Authorization: Bearer|DPoP` or `x-api-key` (see steps/verify.ts). */
export type GatewayCredentialReader = (req: FastifyRequest) => PresentedCredential | undefined;

/** The verified caller of a gateway call. */
export type GatewayCaller = Actor;
