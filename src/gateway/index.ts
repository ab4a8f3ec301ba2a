// The gateway module's public surface.
export { createGatewayModule, type GatewayModule } from './module.js';
