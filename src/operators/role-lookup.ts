import { ROLE_RANK } from '../identity/index.js';
import { OPERATOR_ROLES, type OperatorRole } from '../platform/actor.js';
import type { Trx } from '../platform/store/db.js';

// The roles a principal holds, for identity's role rules ("no role acts on a principal holding a higher role",
// "keep one active admin"): those of its valid operator tokens and those held through other credentials — a
// person's live sign-in sessions, whose role comes from their IdP groups. Other sources are attached late (the
// sign-in module is built after identity's services), so they are read at call time.

export interface RoleSource {
  /** Roles held through this source right now (unrevoked, unexpired). */
  rolesOf(principalId: string, trx?: Trx): Promise<string[]>;
  adminHolderIds(trx?: Trx): Promise<string[]>;
}

export function highestRole(roles: Iterable<string | null>): OperatorRole | null {
  let best: OperatorRole | null = null;
  for (const r of roles) {
    if (r === null || !(OPERATOR_ROLES as readonly string[]).includes(r)) continue;
    if (best === null || ROLE_RANK[r as OperatorRole] > ROLE_RANK[best]) best = r as OperatorRole;
  }
  return best;
}

export function createRoleLookup(tokens: { highestRoleOf(id: string, trx?: Trx): Promise<OperatorRole | null>; adminHolderIds(trx?: Trx): Promise<string[]> }) {
  const sources: RoleSource[] = [];
  return {
    /** Another way roles are held (the sign-in module's sessions). */
    addSource(source: RoleSource): void {
      sources.push(source);
    },
    async highestRoleOf(principalId: string, trx: Trx): Promise<OperatorRole | null> {
      const held: Array<string | null> = [await tokens.highestRoleOf(principalId, trx)];
      for (const s of sources) held.push(...await s.rolesOf(principalId, trx));
      return highestRole(held);
    },
    async adminHolderIds(trx: Trx): Promise<string[]> {
      const ids = new Set(await tokens.adminHolderIds(trx));
      for (const s of sources) for (const id of await s.adminHolderIds(trx)) ids.add(id);
      return [...ids];
    },
  };
}
