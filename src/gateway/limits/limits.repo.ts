import type { Kysely } from 'kysely';
import { reusable } from '../../platform/store/reusable.js';
import type { DB, GatewayLimitsTable } from '../../platform/store/schema.js';
import type { TargetKind } from './limits.js';

// Thin queries over gateway_limits; the only SQL of the limits part. It reads no other module's table: a target's
// existence and name come through the LimitTargets port (ports.ts). No rules live here.

type Q = Kysely<DB>;

export async function findLimit(db: Q, kind: TargetKind, targetId: string): Promise<GatewayLimitsTable | undefined> {
  return db.selectFrom('gateway_limits').selectAll().where('target_kind', '=', kind).where('target_id', '=', targetId).executeTakeFirst();
}

export async function listLimits(db: Q, f: { kind?: TargetKind; afterId?: string; limit: number }): Promise<GatewayLimitsTable[]> {
  let q = db.selectFrom('gateway_limits').selectAll();
  if (f.kind !== undefined) q = q.where('target_kind', '=', f.kind);
  if (f.afterId !== undefined) q = q.where('id', '>', f.afterId);
  return q.orderBy('id').limit(f.limit).execute();
}

export async function insertLimit(db: Q, row: GatewayLimitsTable): Promise<void> {
  await db.insertInto('gateway_limits').values(row).execute();
}

export async function updateLimit(db: Q, id: string, change: Partial<Omit<GatewayLimitsTable, 'id' | 'target_kind' | 'target_id' | 'created_at'>>): Promise<void> {
  await db.updateTable('gateway_limits').set(change).where('id', '=', id).execute();
}

export async function deleteLimit(db: Q, id: string): Promise<void> {
  await db.deleteFrom('gateway_limits').where('id', '=', id).execute();
}

// The enforcer's query, run on every governed call: the limits on one principal, one resource and the principal's
// teams, in one statement over the (target_kind, target_id) index. Compiled once per number of teams (up to
// MAX_COMPILED_TEAMS; beyond that Kysely compiles it each time).
const MAX_COMPILED_TEAMS = 16;
type LimitRow = Pick<GatewayLimitsTable, 'target_kind' | 'target_id' | 'requests_per_minute' | 'tokens_per_minute' | 'tokens_per_day' | 'tokens_per_month'>;
const COLUMNS = ['target_kind', 'target_id', 'requests_per_minute', 'tokens_per_minute', 'tokens_per_day', 'tokens_per_month'] as const;

function limitsForQuery(db: Q, pKind: string, principalId: string, rKind: string, resourceId: string, tKind: string, teamIds: string[]) {
  return db.selectFrom('gateway_limits').select(COLUMNS).where((eb) => eb.or([
    eb.and([eb('target_kind', '=', pKind as TargetKind), eb('target_id', '=', principalId)]),
    eb.and([eb('target_kind', '=', rKind as TargetKind), eb('target_id', '=', resourceId)]),
    ...(teamIds.length ? [eb.and([eb('target_kind', '=', tKind as TargetKind), eb('target_id', 'in', teamIds)])] : []),
  ]));
}

const compiled = new Map<number, ReturnType<typeof reusable<LimitRow>>>();
function statementFor(teams: number) {
  let s = compiled.get(teams);
  if (!s) {
    s = reusable<LimitRow>(5 + teams, (db, pk, pid, rk, rid, tk, ...tids) => limitsForQuery(db, pk, pid, rk, rid, tk, tids));
    compiled.set(teams, s);
  }
  return s;
}

export async function limitsFor(db: Q, f: { principalId: string; resourceId: string; teamIds: readonly string[] }): Promise<LimitRow[]> {
  const teamIds = [...new Set(f.teamIds)].sort();
  if (teamIds.length > MAX_COMPILED_TEAMS) return limitsForQuery(db, 'principal', f.principalId, 'resource', f.resourceId, 'team', teamIds).execute();
  return (await statementFor(teamIds.length)(db, 'principal', f.principalId, 'resource', f.resourceId, 'team', ...teamIds)).rows;
}
