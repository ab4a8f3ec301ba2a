import type { OperatorRole } from '../platform/actor.js';
import type { Trx } from '../platform/store/db.js';

// What identity needs from other modules, declared here by the consumer; the operators module implements the
// role lookup (operators/index.ts: createRoleLookup), the credentials module the revoker, and the composition
// root passes them in. The revoker's shape is the credentials module's contract (a type-only import: identity
// depends on no credentials code).

/** Which operator roles principals hold: the rungs "no role acts on a higher role" and "keep one admin" read. */
export interface RoleLookup {
  /** The highest role among the principal's valid (unrevoked, unexpired) operator tokens; null when none. */
  highestRoleOf(principalId: string, trx: Trx): Promise<OperatorRole | null>;
  /** Principals holding at least one valid admin token (whatever their status; identity filters by status). */
  adminHolderIds(trx: Trx): Promise<string[]>;
}

/** Revokes everything a principal holds (tokens, API keys, client secrets and keys), inside the caller's transaction. */
export type { PrincipalCredentialRevoker } from '../credentials/contracts.js';
