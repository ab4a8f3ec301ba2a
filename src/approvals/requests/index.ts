// The requests part of the approvals module: access and registration requests (/v1/access-requests), decided under
// the approval rules with separation of duties (sod.ts); approved requests become grants through the decision
// point's seam, or activate a registered principal through identity's.
import type { Actor } from '../../platform/actor.js';
import type { Trx, WriteBatch } from '../../platform/store/db.js';
import type { ApprovalsPart, ApprovalsPartContext } from '../parts.js';
import type { GrantRecord } from '../ports.js';
import { registerRequestRoutes } from './requests.routes.js';
import { createRequestService } from './requests.service.js';

export interface RequestsPart extends ApprovalsPart {
  mayRevokeGrant(trx: Trx, actor: Actor, grant: { id: string; source: string; source_ref: string | null }): Promise<boolean>;
  grantRevoked(trx: Trx, batch: WriteBatch, actor: Actor, grant: GrantRecord, reason: string): Promise<void>;
  assertDirectGrantAllowed(trx: Trx, resourceRef: string): Promise<void>;
}

export function createRequestsPart(ctx: ApprovalsPartContext): RequestsPart {
  const requests = createRequestService(ctx);
  return {
    registerRoutes(app) { registerRequestRoutes(app, requests); },
    async sweep() { await requests.expireDue(); },
    mayRevokeGrant: requests.mayRevokeGrant,
    grantRevoked: requests.grantRevoked,
    assertDirectGrantAllowed: requests.assertDirectGrantAllowed,
  };
}
