// PLACEHOLDER (issue 13, MCP gateway): /v1/mcp-servers on the control plane, /mcp/{server} on the gateway.
import type { GatewayCallContext, GatewayListenerPart } from '../parts.js';

export function createMcpPart(_ctx: GatewayCallContext): GatewayListenerPart {
  return {
    registerRoutes() {},
    registerGatewayRoutes() {},
    async audienceFor() { return undefined; },
  };
}
