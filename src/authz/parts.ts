// What each part of the authorization module (policies/, grants/, devices/, authzen/) is built from. The module
// (module.ts) builds the decision point first and hands every part the same context.
import type { AuditWriter } from '../audit/index.js';
import type { AccessTokenClaims } from '../credentials/index.js';
import type { Clock } from '../platform/clock.js';
import type { HttpApp } from '../platform/http/app.js';
import type { IdGenerator } from '../platform/ids.js';
import type { Database } from '../platform/store/db.js';
import type { Pdp } from './contracts.js';
import type { EntityLookup } from './snapshot.js';
import type { AuthzSettings } from './settings.js';

export interface AuthzPartContext {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  pdp: Pdp;
  /** Principals and resources by id or name, from the current snapshot (brought up to date first). */
  entities: EntityLookup;
  /**
   * Verifies a Custos access token someone else received (an AuthZEN PEP passing its caller's token): signature,
   * issuer, lifetime, revocation and the principals, but not audience or binding. Throws CredentialRejected.
   */
  inspectToken(token: string): Promise<AccessTokenClaims>;
  /** The OAuth issuer / management API base URL. */
  issuer(): string;
  settings: AuthzSettings;
  /** Recent `authz.decision` events, newest first (policy impact replays them). */
  recentDecisions(q: { since?: string; limit: number }): Promise<Array<Record<string, unknown>>>;
}

export interface AuthzPart {
  registerRoutes(app: HttpApp): void;
}
