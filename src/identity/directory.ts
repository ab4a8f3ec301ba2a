import type { ActorPrincipal } from '../platform/actor.js';
import type { Database, Trx } from '../platform/store/db.js';
import * as principals from './principals.repo.js';

// What other modules may ask identity about principals, without reading identity's tables: the
// operators module (and later credentials) resolve the principal a credential acts as through here.

export interface PrincipalWithTeams {
  principal: ActorPrincipal;
  teamIds: string[];
}

export function createIdentityDirectory(deps: { db: Database }) {
  const { db } = deps;
  return {
    /** A principal by id or name (UUIDs are ids, anything else a name), inside the caller's transaction if given. */
    async principalByRef(ref: string, trx?: Trx): Promise<ActorPrincipal | undefined> {
      const row = await principals.findPrincipalCore(trx ?? db.kysely, ref);
      return row ? { id: row.id, name: row.name, kind: row.kind, status: row.status, ownerId: row.owner_principal_id } : undefined;
    },

    /** The principal and its team memberships: one store round trip per authenticated request. */
    async principalWithTeams(id: string): Promise<PrincipalWithTeams | undefined> {
      const row = await principals.findPrincipalWithTeams(db.kysely, id);
      if (!row) return undefined;
      return {
        principal: { id: row.id, name: row.name, kind: row.kind, status: row.status, ownerId: row.owner_principal_id },
        teamIds: row.team_ids ? row.team_ids.split(',') : [],
      };
    },

    async principalNames(ids: string[], trx?: Trx): Promise<Map<string, string>> {
      return principals.principalNames(trx ?? db.kysely, ids);
    },
  };
}
export type IdentityDirectory = ReturnType<typeof createIdentityDirectory>;
