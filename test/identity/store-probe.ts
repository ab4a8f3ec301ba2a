import { sql } from 'kysely';
import type { Harness } from '../support/harness.js';

// Reads the store directly, to prove what a request did or did not write.

export const ENTITY_TABLES = ['principals', 'principal_labels', 'teams', 'team_members', 'resources', 'resource_labels', 'operator_tokens', 'identity_providers', 'oauth_clients', 'signin_sessions'] as const;

export async function rowCounts(h: Harness): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of [...ENTITY_TABLES, 'audit_events'] as const) {
    const r = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(t)}`.execute(h.cp.db.kysely);
    out[t] = Number(r.rows[0]!.n);
  }
  return out;
}

export interface StoredEvent {
  seq: number;
  type: string;
  actor: { principal_id: string | null; principal_name: string | null; role: string | null; credential_id: string | null };
  target: { type: string; id: string | null; name: string | null } | null;
  outcome: string;
  reasons: string[];
  details: Record<string, any>;
}

/** Audit events after `afterSeq`, decoded from their canonical JSON, oldest first. */
export async function eventsSince(h: Harness, afterSeq = -1): Promise<StoredEvent[]> {
  const rows = await h.cp.db.kysely.selectFrom('audit_events').select(['seq', 'canonical']).where('seq', '>', afterSeq).orderBy('seq').execute();
  return rows.map((r) => JSON.parse(r.canonical) as StoredEvent);
}

export async function lastSeq(h: Harness): Promise<number> {
  const r = await h.cp.db.kysely.selectFrom('audit_events').select(sql<number | null>`max(seq)`.as('m')).executeTakeFirst();
  return r?.m === null || r?.m === undefined ? -1 : Number(r.m);
}
