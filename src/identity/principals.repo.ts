import { sql, type Kysely } from 'kysely';
import type { DB, PrincipalsTable } from '../platform/store/schema.js';
import { isUuid } from '../platform/ids.js';
import { reusable, reusableInsert } from '../platform/store/reusable.js';
import { insertLabels, replaceLabels } from './labels.repo.js';

// Thin queries that return rows; no rules live here.

type Q = Kysely<DB>;

export type PrincipalRow = PrincipalsTable & {
  owner_name: string | null;
  owner_team_name: string | null;
  team_name: string | null;
};

function selectRows(db: Q) {
  return db.selectFrom('principals as p')
    .leftJoin('principals as o', 'o.id', 'p.owner_principal_id')
    .leftJoin('teams as ot', 'ot.id', 'p.owner_team_id')
    .leftJoin('teams as t', 't.id', 'p.team_id')
    .selectAll('p')
    .select(['o.name as owner_name', 'ot.name as owner_team_name', 't.name as team_name']);
}

export async function findPrincipal(db: Q, ref: string): Promise<PrincipalRow | undefined> {
  return selectRows(db).where(isUuid(ref) ? 'p.id' : 'p.name', '=', ref).executeTakeFirst();
}

/** Identity and state only (one table, no joins): for checks such as "is the owner an active human". */
const corePrincipalBy = (column: 'id' | 'name') => reusable(1, (db, ref) =>
  db.selectFrom('principals').select(['id', 'name', 'kind', 'status', 'owner_principal_id']).where(column, '=', ref));
const corePrincipalById = corePrincipalBy('id');
const corePrincipalByName = corePrincipalBy('name');

export async function findPrincipalCore(db: Q, ref: string) {
  return (await (isUuid(ref) ? corePrincipalById : corePrincipalByName)(db, ref)).rows[0];
}

export interface PrincipalFilter {
  kind?: string;
  status?: string;
  ownerId?: string;
  ownerTeamId?: string;
  teamId?: string;
  environment?: string;
  riskTier?: string;
  autonomy?: string;
  orphaned?: boolean;
  reviewDueBefore?: string;
  label?: { key: string; value: string };
  namePrefix?: string;
  /** Restricts to what an owner-role operator may see. */
  visibleTo?: { principalId: string; teamIds: string[] };
  afterId?: string;
  limit: number;
}

export async function listPrincipals(db: Q, f: PrincipalFilter): Promise<PrincipalRow[]> {
  let q = selectRows(db);
  if (f.kind) q = q.where('p.kind', '=', f.kind);
  if (f.status) q = q.where('p.status', '=', f.status);
  if (f.ownerId) q = q.where('p.owner_principal_id', '=', f.ownerId);
  if (f.ownerTeamId) q = q.where('p.owner_team_id', '=', f.ownerTeamId);
  if (f.teamId) q = q.where('p.team_id', '=', f.teamId);
  if (f.environment) q = q.where('p.environment', '=', f.environment);
  if (f.riskTier) q = q.where('p.risk_tier', '=', f.riskTier);
  if (f.autonomy) q = q.where('p.autonomy', '=', f.autonomy);
  if (f.orphaned !== undefined) q = q.where('p.orphaned', '=', f.orphaned ? 1 : 0);
  if (f.reviewDueBefore) {
    q = q.where('p.review_due_at', '<', f.reviewDueBefore).where('p.status', '!=', 'decommissioned');
  }
  if (f.label) {
    const { key, value } = f.label;
    q = q.where('p.id', 'in', (sub) => sub.selectFrom('principal_labels').select('entity_id').where('key', '=', key).where('value', '=', value));
  }
  if (f.namePrefix) {
    q = q.where('p.name', '>=', f.namePrefix).where('p.name', '<', f.namePrefix + '\uffff');
  }
  if (f.visibleTo) {
    const { principalId, teamIds } = f.visibleTo;
    q = q.where((eb) => eb.or([
      eb('p.id', '=', principalId),
      eb('p.owner_principal_id', '=', principalId),
      ...(teamIds.length ? [eb('p.owner_team_id', 'in', teamIds)] : []),
    ]));
  }
  if (f.afterId) q = q.where('p.id', '>', f.afterId);
  return q.orderBy('p.id').limit(f.limit).execute();
}

// Every column, listed once: the insert is compiled once and re-bound (reusable.ts), and the type makes a
// missing column a compile error.
const PRINCIPAL_COLUMNS = Object.keys({
  id: 1, name: 1, kind: 1, display_name: 1, description: 1, status: 1, owner_principal_id: 1, owner_team_id: 1, team_id: 1,
  scopes: 1, purposes: 1, autonomy: 1, platform: 1, framework: 1, environment: 1, data_ceiling: 1, risk_tier: 1, external_ids: 1,
  labels: 1, orphaned: 1, review_due_at: 1, status_reason: 1, may_delegate_to: 1, created_at: 1, created_by: 1, updated_at: 1, version: 1,
} satisfies Record<keyof PrincipalsTable, 1>) as (keyof PrincipalsTable)[];
const insertPrincipalRow = reusableInsert('principals', PRINCIPAL_COLUMNS);

export async function insertPrincipal(db: Q, row: PrincipalsTable): Promise<void> {
  await insertPrincipalRow(db, row);
  await insertLabels(db, 'principal_labels', row.id, JSON.parse(row.labels) as Record<string, string>);
}

export async function updatePrincipal(db: Q, id: string, patch: Partial<PrincipalsTable>): Promise<void> {
  await db.updateTable('principals').set(patch).where('id', '=', id).execute();
  if (patch.labels !== undefined) await replaceLabels(db, 'principal_labels', id, JSON.parse(patch.labels) as Record<string, string>);
}


/** Marks (or clears) the orphaned flag on everything a human owns that is not decommissioned. */
export async function setOrphanedForOwner(db: Q, ownerId: string, orphaned: boolean, now: string): Promise<string[]> {
  const affected = await db.selectFrom('principals').select('id')
    .where('owner_principal_id', '=', ownerId)
    .where('status', '!=', 'decommissioned')
    .where('orphaned', '=', orphaned ? 0 : 1)
    .execute();
  if (affected.length) {
    await db.updateTable('principals')
      .set({ orphaned: orphaned ? 1 : 0, updated_at: now, version: sql`version + 1` })
      .where('id', 'in', affected.map((r) => r.id))
      .execute();
  }
  return affected.map((r) => r.id);
}

// A principal with its team memberships in one round trip: what a verifier needs to build an Actor.
// string_agg is standard on PostgreSQL and in SQLite since 3.44 (better-sqlite3 12 bundles a newer one).
const principalWithTeams = reusable(1, (db, id) => db.selectFrom('principals as p')
  .select(['p.id', 'p.name', 'p.kind', 'p.status', 'p.owner_principal_id'])
  .select(sql<string | null>`(select string_agg(m.team_id, ',') from team_members m where m.principal_id = p.id)`.as('team_ids'))
  .where('p.id', '=', id));

export async function findPrincipalWithTeams(db: Q, id: string) {
  return (await principalWithTeams(db, id)).rows[0];
}

// What token issuance decides on, with the team memberships, in one round trip (by id or by name).
const credentialPrincipalBy = (column: 'id' | 'name') => reusable(1, (db, ref) => db.selectFrom('principals as p')
  .select([
    'p.id', 'p.name', 'p.kind', 'p.status', 'p.owner_principal_id', 'p.owner_team_id', 'p.scopes', 'p.purposes', 'p.risk_tier', 'p.may_delegate_to', 'p.data_ceiling',
  ])
  .select(sql<string | null>`(select string_agg(m.team_id, ',') from team_members m where m.principal_id = p.id)`.as('team_ids'))
  .where(`p.${column}`, '=', ref));
const credentialPrincipalById = credentialPrincipalBy('id');
const credentialPrincipalByName = credentialPrincipalBy('name');

export async function findCredentialPrincipal(db: Q, ref: string) {
  return (await (isUuid(ref) ? credentialPrincipalById : credentialPrincipalByName)(db, ref)).rows[0];
}

/** Principals by id or name, with what a visibility check needs; refs that match nothing are simply absent. */
export async function findPrincipalsByRefs(db: Q, refs: string[]) {
  const ids = [...new Set(refs.filter(isUuid))];
  const names = [...new Set(refs.filter((r) => !isUuid(r)))];
  if (ids.length === 0 && names.length === 0) return [];
  return db.selectFrom('principals')
    .select(['id', 'name', 'kind', 'status', 'owner_principal_id', 'owner_team_id'])
    .where((eb) => eb.or([...(ids.length ? [eb('id', 'in', ids)] : []), ...(names.length ? [eb('name', 'in', names)] : [])]))
    .execute();
}

/** Names of principals by id, for views that show who is referenced. */
export async function principalNames(db: Q, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('principals').select(['id', 'name']).where('id', 'in', [...new Set(ids)]).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}
