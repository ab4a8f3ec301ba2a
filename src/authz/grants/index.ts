// The grants part of the authorization module: time-bound grants (/v1/grants), what a principal can do now
// (GET /v1/principals/{ref}/access) and decision explanations (POST /v1/authz/check). The grant rows themselves
// become Cedar template-linked policies in policy-set.ts; this part writes, lists and revokes them.
import type { AuthzPart, AuthzPartContext } from '../parts.js';
import { registerAccessRoutes } from './access.routes.js';
import { createAccessService } from './access.service.js';
import { registerCheckRoutes } from './check.routes.js';
import { createCheckService, type CheckDeps } from './check.service.js';
import { registerGrantRoutes } from './grants.routes.js';
import { createGrantService, type GrantService } from './grants.service.js';

export type { NewGrant } from './grants.service.js';
export type { GrantView } from './grants.schemas.js';
export { MAX_GRANT_SECONDS, MIN_GRANT_SECONDS } from './grant-rules.js';

export interface GrantsPart extends AuthzPart {
  /**
   * Creates a grant inside the caller's db.write job and records `grant.created` there (the approvals module's
   * seam: `source: 'approval'`, `sourceRef`: the access request). Who may grant is the caller's rule.
   */
  createGrant: GrantService['createGrant'];
  /** Revokes a grant inside the caller's job (`grant.revoked`); throws 409 if it already was. */
  revokeGrant: GrantService['revokeGrant'];
  activeGrantsOf: GrantService['activeGrantsOf'];
  addRevokerRule: GrantService['addRevokerRule'];
  onRevoked: GrantService['onRevoked'];
  addCreationRule: GrantService['addCreationRule'];
}

/** What the grants part takes besides the shared context. */
export interface GrantsPartDeps {
  /** The devices part's posture lookup: `authz check` explains the posture it saw (`device.detail`). */
  postureOf?: CheckDeps['postureOf'];
}

export function createGrantsPart(ctx: AuthzPartContext, extra: GrantsPartDeps = {}): GrantsPart {
  const deps = { db: ctx.db, audit: ctx.audit, clock: ctx.clock };
  const grants = createGrantService({ ...deps, newId: ctx.newId });
  const access = createAccessService({ ...deps, pdp: ctx.pdp });
  const check = createCheckService({ ...deps, pdp: ctx.pdp, ...(extra.postureOf ? { postureOf: extra.postureOf } : {}) });
  return {
    createGrant: grants.createGrant,
    revokeGrant: grants.revokeGrant,
    activeGrantsOf: grants.activeGrantsOf,
    addRevokerRule: grants.addRevokerRule,
    onRevoked: grants.onRevoked,
    addCreationRule: grants.addCreationRule,
    registerRoutes(app) {
      registerGrantRoutes(app, grants);
      registerAccessRoutes(app, access);
      registerCheckRoutes(app, check);
    },
  };
}
