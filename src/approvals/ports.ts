// What the approvals module needs of others, declared here and provided by the composition root: the registry
// (identity's approval directory), grants (the authorization module's seam) and the audit writer. Every method
// takes the caller's transaction, so a decision and everything it causes commit together or not at all.
import type { Actor } from '../platform/actor.js';
import type { Trx, WriteBatch } from '../platform/store/db.js';
import type { GrantsTable } from '../platform/store/schema.js';

/** A principal as the approval rules see it. */
export interface RegistryPrincipal {
  id: string;
  name: string;
  kind: string;
  status: string;
  ownerId: string | null;
  ownerName: string | null;
  ownerTeamId: string | null;
  ownerTeamName: string | null;
  /** The principal's home team. */
  teamId: string | null;
  riskTier: string;
  scopes: string[];
  purposes: string[];
  orphaned: boolean;
  reviewDueAt: string | null;
}

/** A resource as the approval rules see it. */
export interface RegistryResource {
  id: string;
  name: string;
  kind: string;
  riskTier: string;
  classification: string;
  purposes: string[];
  ownerId: string | null;
  ownerTeamId: string | null;
}

export interface ApprovalDirectory {
  principal(trx: Trx, ref: string): Promise<RegistryPrincipal | undefined>;
  resource(trx: Trx, ref: string): Promise<RegistryResource | undefined>;
  /** Every resource below one (a grant on a resource covers them all). */
  descendants(trx: Trx, resourceId: string): Promise<RegistryResource[]>;
  team(trx: Trx, ref: string): Promise<{ id: string; name: string } | undefined>;
  /** Active human members of a team (principal ids). */
  activeHumanMembers(trx: Trx, teamId: string): Promise<string[]>;
  /** The team ids a principal belongs to. */
  teamsOf(trx: Trx, principalId: string): Promise<string[]>;
  /** Non-human principals that are not decommissioned, for recertification (optionally only these tiers). */
  nonHumanPrincipals(trx: Trx, filter: { riskTiers?: readonly string[] }): Promise<RegistryPrincipal[]>;
  /** Lifecycle moves as the approvals workflow (registration activates; reviews suspend), audited by identity. */
  activate(trx: Trx, batch: WriteBatch, actor: Actor, principalId: string, reason: string, registrationRequestId: string): Promise<void>;
  suspend(trx: Trx, batch: WriteBatch, actor: Actor, principalId: string, reason: string): Promise<void>;
  /** Narrows what a principal may do (reviews' "reduce"), audited by identity as `principal.updated`. */
  narrow(trx: Trx, batch: WriteBatch, actor: Actor, principalId: string, change: { scopes?: string[]; purposes?: string[] }, reason: string): Promise<void>;
  /** Records a completed review: the principal's next review is due at `nextDueAt` (audited as `principal.updated`). */
  markReviewed(trx: Trx, batch: WriteBatch, actor: Actor, principalId: string, nextDueAt: string, reason: string): Promise<void>;
}

/** A grant as the approvals module shows and ends it (the authorization module's GrantView, reduced). */
export interface GrantRecord {
  id: string;
  status: 'active' | 'expired' | 'revoked';
  principal: { id: string; name: string };
  resource: { id: string; name: string };
  actions: string[];
  purpose: string | null;
  expires_at: string;
  source: GrantsTable['source'];
  source_ref: string | null;
}

export interface GrantsSeam {
  createGrant(trx: Trx, batch: WriteBatch, actor: Actor, input: {
    principal: string; resource: string; actions: readonly string[]; purpose?: string | null; durationSeconds?: number; expiresAt?: string;
    reason: string; source: GrantsTable['source']; sourceRef?: string | null;
  }): Promise<GrantRecord>;
  revokeGrant(trx: Trx, batch: WriteBatch, actor: Actor, id: string, reason: string): Promise<GrantRecord>;
  /** Grants in force now for a principal (reviews list standing grants). */
  activeGrantsOf(trx: Trx, principalId: string): Promise<GrantRecord[]>;
}
