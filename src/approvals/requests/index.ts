// PLACEHOLDER (being written: access requests).
import type { Actor } from '../../platform/actor.js';
import type { Trx, WriteBatch } from '../../platform/store/db.js';
import type { ApprovalsPart, ApprovalsPartContext } from '../parts.js';
import type { GrantRecord } from '../ports.js';

export interface RequestsPart extends ApprovalsPart {
  mayRevokeGrant(trx: Trx, actor: Actor, grant: { id: string; source: string; source_ref: string | null }): Promise<boolean>;
  grantRevoked(trx: Trx, batch: WriteBatch, actor: Actor, grant: GrantRecord, reason: string): Promise<void>;
}

export function createRequestsPart(_ctx: ApprovalsPartContext): RequestsPart {
  return { registerRoutes() {}, async mayRevokeGrant() { return false; }, async grantRevoked() {} };
}
