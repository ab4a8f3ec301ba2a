// PLACEHOLDER (replaced by the upstreams part).
import type { GatewayPart, GatewayPartContext } from '../parts.js';
export function createUpstreamsPart(_ctx: GatewayPartContext): GatewayPart {
  return { registerRoutes() {} };
}
