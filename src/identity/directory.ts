import type { AudienceResource, CredentialDirectory, CredentialPrincipal } from '../credentials/contracts.js';
import type { ActorPrincipal } from '../platform/actor.js';
import type { Database, Trx } from '../platform/store/db.js';
import { audienceOf, parseIndicator } from './audience.js';
import * as principals from './principals.repo.js';
import * as resources from './resources.repo.js';

// What other modules may ask identity about principals and resources, without reading identity's tables: the
// operators module resolves the principal a credential acts as through the identity directory; the credentials
// module reads what issuance decides on (scopes, purposes, delegation, audiences) through the credential
// directory, which implements its CredentialDirectory contract. Reads only; every read may join the caller's
// transaction.

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

export function createCredentialDirectory(deps: { db: Database }): CredentialDirectory {
  const { db } = deps;
  return {
    /** By id or name (a UUID is an id): one store round trip, team memberships included. */
    async principal(ref: string, trx?: Trx): Promise<CredentialPrincipal | undefined> {
      const row = await principals.findCredentialPrincipal(trx ?? db.kysely, ref);
      if (!row) return undefined;
      return {
        id: row.id,
        name: row.name,
        kind: row.kind,
        status: row.status,
        ownerId: row.owner_principal_id,
        ownerTeamId: row.owner_team_id,
        scopes: JSON.parse(row.scopes) as string[],
        purposes: JSON.parse(row.purposes) as string[],
        riskTier: row.risk_tier as CredentialPrincipal['riskTier'],
        mayDelegateTo: JSON.parse(row.may_delegate_to) as string[],
        dataCeiling: row.data_ceiling,
        teamIds: row.team_ids ? row.team_ids.split(',') : [],
      };
    },

    /** By RFC 8707 resource indicator: a resource's exact `uri`, `urn:custos:resource:<name>`, or a bare name. */
    async resourceByIndicator(indicator: string, trx?: Trx): Promise<AudienceResource | undefined> {
      const parsed = parseIndicator(indicator);
      if (!parsed) return undefined;
      const q = trx ?? db.kysely;
      const row = parsed.by === 'uri' ? await resources.findAudienceByUri(q, parsed.uri) : await resources.findAudienceByName(q, parsed.name);
      if (!row) return undefined;
      return {
        id: row.id,
        name: row.name,
        kind: row.kind,
        audience: audienceOf(row),
        purposes: JSON.parse(row.purposes) as string[],
        classification: row.classification,
        serverPrincipalId: row.server_principal_id,
      };
    },

    async principalNames(ids: string[], trx?: Trx): Promise<Map<string, string>> {
      return principals.principalNames(trx ?? db.kysely, ids);
    },
  };
}
