import type { Actor } from '../platform/actor.js';
import type { Database, Trx, WriteBatch } from '../platform/store/db.js';
import type { PrincipalService } from './principals.service.js';
import * as principals from './principals.repo.js';
import * as resources from './resources.repo.js';
import * as teams from './teams.repo.js';
import { MAX_DEPTH } from './resources.service.js';

// The registry as the approvals module sees it (its ApprovalDirectory port, declared in approvals/ports.ts and
// restated structurally here so identity does not import a higher module): principals, resources and teams read
// inside the caller's transaction, and the lifecycle moves the approval workflow causes — activation on an approved
// registration, suspension of an unreviewed principal, narrowing on a review's "reduce" — made through the principal
// service, so identity's own rules and audit events apply to them.

function principalView(row: principals.PrincipalRow) {
  return {
    id: row.id, name: row.name, kind: row.kind, status: row.status, ownerId: row.owner_principal_id, ownerName: row.owner_name,
    ownerTeamId: row.owner_team_id, ownerTeamName: row.owner_team_name, teamId: row.team_id, riskTier: row.risk_tier,
    scopes: JSON.parse(row.scopes) as string[], purposes: JSON.parse(row.purposes) as string[], orphaned: row.orphaned === 1,
    reviewDueAt: row.review_due_at,
  };
}

export function createApprovalDirectory(deps: { db: Database; principals: PrincipalService }) {
  const service = deps.principals;
  return {
    async principal(trx: Trx, ref: string) {
      const row = await principals.findPrincipal(trx, ref);
      return row ? principalView(row) : undefined;
    },
    async resource(trx: Trx, ref: string) {
      const row = await resources.findResource(trx, ref);
      if (!row) return undefined;
      return {
        id: row.id, name: row.name, kind: row.kind, riskTier: row.risk_tier, classification: row.classification,
        purposes: JSON.parse(row.purposes) as string[], ownerId: row.owner_principal_id, ownerTeamId: row.owner_team_id,
      };
    },
    /** Everything below a resource (a grant on it covers them), level by level up to the hierarchy's depth limit. */
    async descendants(trx: Trx, resourceId: string) {
      const out: Array<{ id: string; name: string; kind: string; riskTier: string; classification: string; purposes: string[]; ownerId: string | null; ownerTeamId: string | null }> = [];
      let level = [resourceId];
      for (let depth = 0; depth <= MAX_DEPTH && level.length; depth++) {
        level = await resources.childIds(trx, level);
        for (const r of await resources.riskOf(trx, level)) {
          out.push({ id: r.id, name: r.name, kind: r.kind, riskTier: r.risk_tier, classification: r.classification, purposes: JSON.parse(r.purposes) as string[], ownerId: r.owner_principal_id, ownerTeamId: r.owner_team_id });
        }
      }
      return out;
    },
    async team(trx: Trx, ref: string) {
      const row = await teams.findTeam(trx, ref);
      return row ? { id: row.id, name: row.name } : undefined;
    },
    async activeHumanMembers(trx: Trx, teamId: string): Promise<string[]> {
      return (await teams.membersOf(trx, teamId)).filter((m) => m.kind === 'human' && m.status === 'active').map((m) => m.id);
    },
    async teamsOf(trx: Trx, principalId: string): Promise<string[]> {
      return (await teams.membershipsOf(trx, principalId)).map((m) => m.team_id);
    },
    async nonHumanPrincipals(trx: Trx, filter: { riskTiers?: readonly string[] }) {
      const out: ReturnType<typeof principalView>[] = [];
      let afterId: string | undefined;
      for (;;) {
        const rows = await principals.listPrincipals(trx, { afterId, limit: 500 });
        for (const r of rows) {
          if (r.kind === 'human' || r.status === 'decommissioned') continue;
          if (filter.riskTiers && !filter.riskTiers.includes(r.risk_tier)) continue;
          out.push(principalView(r));
        }
        if (rows.length < 500) return out;
        afterId = rows[rows.length - 1]!.id;
      }
    },
    async activate(trx: Trx, batch: WriteBatch, actor: Actor, principalId: string, reason: string, registrationRequestId: string): Promise<void> {
      await service.transitionIn(trx, batch, actor, principalId, 'activate', reason, { registration: registrationRequestId });
    },
    async suspend(trx: Trx, batch: WriteBatch, actor: Actor, principalId: string, reason: string): Promise<void> {
      await service.transitionIn(trx, batch, actor, principalId, 'suspend', reason);
    },
    async narrow(trx: Trx, batch: WriteBatch, actor: Actor, principalId: string, change: { scopes?: string[]; purposes?: string[] }, reason: string): Promise<void> {
      await service.updateIn(trx, batch, actor, principalId, { ...change, reason });
    },
    async markReviewed(trx: Trx, batch: WriteBatch, actor: Actor, principalId: string, nextDueAt: string, reason: string): Promise<void> {
      await service.updateIn(trx, batch, actor, principalId, { review_due_at: nextDueAt, reason });
    },
  };
}
