// The authorization module, composed from its parts: the entity and policy snapshot, the decision point (PDP), and
// the parts that feed it or ask it — device posture (devices/), the policy lifecycle (policies/), grants (grants/)
// and the OpenID AuthZEN API (authzen/). The composition root calls createAuthzModule once; the gateway calls
// `pdp.decide` in-process, the HTTP APIs are thin shells on the same function.
import type { AuditWriter } from '../audit/index.js';
import type { AccessTokenClaims } from '../credentials/index.js';
import type { Clock } from '../platform/clock.js';
import type { HttpApp } from '../platform/http/app.js';
import type { IdGenerator } from '../platform/ids.js';
import type { Database } from '../platform/store/db.js';
import { checkSchema, engineFailure } from './cedar.js';
import { createAuthzenPart } from './authzen/index.js';
import { createDevicesPart } from './devices/index.js';
import type { RemoteKeySource } from './devices/remote-keys.js';
import { createGrantsPart } from './grants/index.js';
import type { AuthzPartContext } from './parts.js';
import { createPdp } from './pdp.js';
import { createPoliciesPart } from './policies/index.js';
import type { AuthzSettings } from './settings.js';
import { createSnapshotSource, type EntityLookup } from './snapshot.js';
import { createZoneMatcher } from './zones.js';

export interface AuthzModuleDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  inspectToken(token: string): Promise<AccessTokenClaims>;
  issuer(): string;
  settings: AuthzSettings;
  recentDecisions: AuthzPartContext['recentDecisions'];
  /** Remote JWKS (posture issuers' jwks_uri): the credentials module's bounded, fail-closed cache. */
  remoteKeys?: RemoteKeySource;
}

export function createAuthzModule(deps: AuthzModuleDeps) {
  checkSchema();
  const { db, audit, clock, newId } = deps;
  const snapshots = createSnapshotSource({ db, clock });
  const pdp = createPdp({
    db, audit, clock, snapshots, postureOf: (id, facts) => devices.postureOf(id, facts),
    zoneOf: createZoneMatcher(deps.settings.networkZones), timeZone: deps.settings.timeZone,
  });
  const entities: EntityLookup = {
    principal: async (ref) => (await snapshots.current()).principal(ref),
    resource: async (ref, kind) => (await snapshots.current()).resource(ref, kind),
    principals: async () => (await snapshots.current()).principals(),
    resources: async () => (await snapshots.current()).resources(),
  };
  // Device reports and posture assertions name principals by id or name; remote JWKS go through the credentials
  // module's bounded cache.
  const devices = createDevicesPart({ db, audit, clock, newId, principals: entities, remoteKeys: deps.remoteKeys });
  const ctx: AuthzPartContext = {
    db, audit, clock, newId, pdp, entities, inspectToken: deps.inspectToken, issuer: deps.issuer, settings: deps.settings,
    recentDecisions: deps.recentDecisions,
  };
  const grants = createGrantsPart(ctx, { postureOf: (id, facts) => devices.postureOf(id, facts) });
  const parts = [devices, createPoliciesPart(ctx), grants, createAuthzenPart(ctx)];

  return {
    pdp,
    entities,
    /** The seam the approvals module makes and ends grants through, inside its own transaction. */
    grants: {
      createGrant: grants.createGrant, revokeGrant: grants.revokeGrant, activeGrantsOf: grants.activeGrantsOf,
      addRevokerRule: grants.addRevokerRule, onRevoked: grants.onRevoked, addCreationRule: grants.addCreationRule,
    },
    registerRoutes(app: HttpApp) {
      for (const part of parts) part.registerRoutes(app);
    },
    /** Readiness: a node whose snapshot cannot be brought up to date would decide on stale data: not ready. */
    async health(): Promise<{ ok: boolean; detail?: string }> {
      const failure = engineFailure();
      if (failure) return { ok: false, detail: `the policy engine failed (${failure}): restart the server` };
      try {
        const v = await pdp.versions();
        return { ok: true, detail: `policy version ${v.activePolicyVersion ?? 'none (guardrails and grants only)'}, entities ${v.entities}` };
      } catch {
        return { ok: false, detail: 'the entity and policy snapshot cannot be loaded' };
      }
    },
    /** Loads the first snapshot before requests are served (a policy set that no longer parses fails start-up). */
    async init() {
      await snapshots.current();
    },
  };
}

export type AuthzModule = ReturnType<typeof createAuthzModule>;
