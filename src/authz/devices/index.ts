// Placeholder while the devices part is being built (issue 11); replaced by its real factory.
import type { Database } from '../../platform/store/db.js';
import type { AuditWriter } from '../../audit/index.js';
import type { Clock } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { HttpApp } from '../../platform/http/app.js';
import type { RequestFacts } from '../contracts.js';

export interface DevicePosture {
  posture: 'compliant' | 'noncompliant' | 'unknown';
  /** The device, "" when none is known. */
  id: string;
  source: 'assertion' | 'record' | 'none';
}

export interface DevicesPart {
  /** The posture a decision sees for this principal and request: never `compliant` unless proven and fresh. */
  postureOf(principalId: string, facts: RequestFacts): Promise<DevicePosture>;
  registerRoutes(app: HttpApp): void;
}

export function createDevicesPart(_deps: { db: Database; audit: AuditWriter; clock: Clock; newId: IdGenerator }): DevicesPart {
  return {
    async postureOf() { return { posture: 'unknown', id: '', source: 'none' }; },
    registerRoutes() {},
  };
}
