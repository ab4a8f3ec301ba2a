// The devices part of the authorization module: the `device` context of a decision. Posture comes from a signed
// posture assertion presented with the request (a JWT from a configured posture issuer: assertion.ts) or from a
// device record an MDM/EDR integration pushed to /v1/devices (devices.service.ts); precedence and freshness in
// posture.ts. Unsigned, unknown, stale or not-this-principal evidence is `unknown`, never `compliant`.
//
// postureOf(principalId, facts):
// - no `facts.device` → unknown, source none, without touching the store;
// - `facts.device.assertion` verified → its posture (source assertion), the record is not consulted;
// - else `facts.device.deviceId` → that record if it is this principal's and current (source record);
// - else unknown. Only a device the request names counts: a principal's other devices (say, its freshest
//   compliant laptop) never vouch for a request that did not present them.
// - A store or key-fetch failure while looking is unknown too (the PDP also maps a throw to unknown).
import type { AuditWriter } from '../../audit/index.js';
import type { Clock } from '../../platform/clock.js';
import type { HttpApp } from '../../platform/http/app.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Database } from '../../platform/store/db.js';
import type { RequestFacts } from '../contracts.js';
import { verifyPostureAssertion } from './assertion.js';
import { createDeviceService, type DevicePrincipals } from './devices.service.js';
import { registerDeviceRoutes } from './devices.routes.js';
import { choosePosture, NO_POSTURE, postureFromRecord, type AssertionOutcome, type DevicePosture } from './posture.js';
import { createPostureIssuerService } from './posture-issuers.service.js';
import { registerPostureIssuerRoutes } from './posture-issuers.routes.js';
import { createRemoteKeySource, type RemoteKeySource } from './remote-keys.js';

export type { DevicePosture, Posture } from './posture.js';
export type { DevicePrincipals } from './devices.service.js';
export type { RemoteKeySource } from './remote-keys.js';

export interface DevicesPart {
  /** The posture a decision sees for this principal and request: never `compliant` unless proven and fresh. */
  postureOf(principalId: string, facts: RequestFacts): Promise<DevicePosture>;
  registerRoutes(app: HttpApp): void;
}

export interface DevicesDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  /** Principals by id or name (the module's entity snapshot, `EntityLookup`, fits). Without it no principal is
   * found: device reports are refused and an assertion's `sub` must be the principal's id. */
  principals?: DevicePrincipals;
  /** Keys of issuers configured with a jwks_uri; a minimal cache over jose's createRemoteJWKSet when not given. */
  remoteKeys?: RemoteKeySource;
}

const NOBODY: DevicePrincipals = { principal: async () => undefined };

export function createDevicesPart(deps: DevicesDeps): DevicesPart {
  const { db, audit, clock, newId } = deps;
  const principals = deps.principals ?? NOBODY;
  const issuers = createPostureIssuerService({ db, audit, clock, newId, remoteKeys: deps.remoteKeys ?? createRemoteKeySource() });
  const devices = createDeviceService({ db, audit, clock, newId, principals });

  async function fromAssertion(assertion: string, principalId: string, now: Date): Promise<AssertionOutcome> {
    const name = (await principals.principal(principalId).catch(() => undefined))?.name ?? null;
    return verifyPostureAssertion(assertion, { id: principalId, name }, {
      findIssuer: (iss) => issuers.byIssuer(iss), keysOf: (row) => issuers.keysOf(row), now,
    }).catch(() => ({ ok: false as const, why: 'the assertion could not be checked' }));
  }

  async function fromRecord(deviceId: string, principalId: string, now: Date): Promise<DevicePosture> {
    const row = await devices.lookup(deviceId).catch(() => null);
    if (row === null) return { ...NO_POSTURE, detail: 'device records could not be read' };
    return postureFromRecord(row && { deviceId: row.device_id, principalId: row.principal_id, posture: row.posture, validUntil: row.valid_until }, deviceId, principalId, now);
  }

  return {
    async postureOf(principalId, facts) {
      const device = facts.device;
      if (!device || (!device.assertion && !device.deviceId)) return NO_POSTURE;
      const now = clock.now();
      const assertion = device.assertion ? await fromAssertion(device.assertion, principalId, now) : undefined;
      if (assertion?.ok) return choosePosture(assertion, undefined);
      const record = device.deviceId ? await fromRecord(device.deviceId, principalId, now) : undefined;
      return choosePosture(assertion, record);
    },
    registerRoutes(app) {
      registerPostureIssuerRoutes(app, issuers);
      registerDeviceRoutes(app, devices);
    },
  };
}
