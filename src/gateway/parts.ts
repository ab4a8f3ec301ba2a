// What each part of the gateway module (upstreams/, limits/, and next the model and MCP proxies) is built from.
import type { AuditWriter } from '../audit/index.js';
import type { Clock } from '../platform/clock.js';
import type { HttpApp } from '../platform/http/app.js';
import type { IdGenerator } from '../platform/ids.js';
import type { KeyRing } from '../platform/keys.js';
import type { Logger } from '../platform/logger.js';
import type { Database } from '../platform/store/db.js';

export interface GatewayPartContext {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  /** Upstream provider keys are sealed with the master key. */
  keys: KeyRing;
  logger: Logger;
}

export interface GatewayPart {
  /** Management routes on the control plane (`/v1/upstreams`, `/v1/limits`). */
  registerRoutes(app: HttpApp): void;
}
