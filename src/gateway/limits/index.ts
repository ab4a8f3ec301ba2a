// PLACEHOLDER (replaced by the limits part).
import type { GatewayPart, GatewayPartContext } from '../parts.js';
export function createLimitsPart(_ctx: GatewayPartContext): GatewayPart {
  return { registerRoutes() {} };
}
