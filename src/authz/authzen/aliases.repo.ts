import type { Kysely } from 'kysely';
import type { DB } from '../../platform/store/schema.js';
import { ALIAS_LABEL } from './mapping.js';

// A principal's AuthZEN identifier when the PEP's subject ids are not Custos ids or names (an application's user
// ids, an IdP's subjects, emails): the `authzen_id` label, read through the indexed label side table.

type Db = Kysely<DB>;

/**
 * The ids of the ACTIVE principals of `kind` carrying the alias (at most two: one is an answer, two are ambiguous).
 * Principals of another kind or not active never count, so nobody can squat a person's alias by labelling an agent
 * or a merely proposed principal with it.
 */
export async function principalIdsByAlias(db: Db, alias: string, kind: string): Promise<string[]> {
  const rows = await db.selectFrom('principal_labels as l')
    .innerJoin('principals as p', 'p.id', 'l.entity_id')
    .select('l.entity_id')
    .where('l.key', '=', ALIAS_LABEL).where('l.value', '=', alias)
    .where('p.kind', '=', kind).where('p.status', '=', 'active')
    .limit(2).execute();
  return rows.map((r) => r.entity_id);
}

export async function aliasesOf(db: Db, principalIds: string[]): Promise<Map<string, string>> {
  if (principalIds.length === 0) return new Map();
  const rows = await db.selectFrom('principal_labels').select(['entity_id', 'value']).where('key', '=', ALIAS_LABEL).where('entity_id', 'in', principalIds).execute();
  return new Map(rows.map((r) => [r.entity_id, r.value]));
}
