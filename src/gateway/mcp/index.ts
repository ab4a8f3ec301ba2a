// The MCP part of the gateway module: /v1/mcp-servers on the control plane (registrations, sealed upstream
// credentials, tools as registry resources) and /mcp/<server> on the gateway's listener (the governed Streamable HTTP
// proxy with its RFC 9728 metadata), plus the RFC 8707 indicators it answers for at the token endpoint.
// Rules and API: docs/mcp-gateway.md.
import type { AudienceResource } from '../../credentials/index.js';
import type { Trx } from '../../platform/store/db.js';
import type { GatewayCallContext, GatewayListenerPart } from '../parts.js';
import { registerMcpServerRoutes } from './mcp-servers.routes.js';
import { createMcpServerService } from './mcp-servers.service.js';
import * as repo from './mcp.repo.js';
import { SERVER_NAME_PATTERN } from './mcp.js';
import { registerMcpProxyRoutes } from './proxy.js';
import { createToolSync } from './tools-sync.js';

export { MCP_SCOPES } from './mcp.js';
export type { McpServerView } from './mcp-servers.schemas.js';

export function createMcpPart(ctx: GatewayCallContext): GatewayListenerPart {
  const tools = createToolSync({ db: ctx.db, audit: ctx.audit, clock: ctx.clock, resources: ctx.resources, logger: ctx.logger });
  const endpointOf = (name: string) => `${ctx.gatewayUrl()}/mcp/${name}`;
  const service = createMcpServerService({ ...ctx, tools, endpointOf });
  return {
    registerRoutes: (app) => registerMcpServerRoutes(app, service),
    registerGatewayRoutes: (app) => registerMcpProxyRoutes(app, { ctx, tools, endpointOf, credentialOf: (row) => service.credentialOf(row) }),

    /** `<gateway>/mcp/<name>` of a registered server: tokens for it carry exactly that as `aud`. */
    async audienceFor(indicator: string, trx?: Trx): Promise<AudienceResource | undefined> {
      const prefix = `${ctx.gatewayUrl()}/mcp/`;
      if (!indicator.startsWith(prefix)) return undefined;
      const name = indicator.slice(prefix.length);
      if (!SERVER_NAME_PATTERN.test(name)) return undefined;
      // Inside the caller's transaction when there is one (API-key issuance): a read beside it would wait for it.
      const server = await repo.findServer(trx ?? ctx.db.kysely, name);
      if (!server) return undefined;
      return {
        id: server.resource_id, name: server.resource_name, kind: 'endpoint', audience: endpointOf(server.name),
        purposes: JSON.parse(server.resource_purposes) as string[], classification: server.resource_classification, serverPrincipalId: null,
      };
    },
  };
}
