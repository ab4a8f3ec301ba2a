import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../platform/store/db.js';
import { reusableInsert } from '../platform/store/reusable.js';
import type { DB, OAuthTokensTable } from '../platform/store/schema.js';

// Thin queries over oauth_tokens: the record of every access token issued (who, for whom, with what, from
// which parent, until when), never the token itself. The token endpoint inserts one row per issued token in
// the transaction that issues it; revocation walks it (a token's descendants, a family, a credential, a
// principal) and the credential inventory lists it. The only SQL over this table.
//
// Rules:
// - Timestamps are ISO-8601 UTC text of one fixed width, so text order is time order on both stores.
// - Descendants are found with one recursive CTE (standard SQL, the same text on SQLite and PostgreSQL);
//   `union` (not `union all`) so even a corrupt parent cycle terminates.
// - "In the act chain" matches the JSON list's quoted element (`"<id>"`), with LIKE's wildcards escaped.
// - Inventory pages are keyset pages with a unique tie-breaker (jti). Id columns compare bytewise on both
//   stores (idColumn), so the service can merge token pages with other kinds' items in memory.

type Q = Kysely<DB>;

/** Rows per `in (…)` list: well under both stores' bound-parameter limits. */
const CHUNK = 500;

// Every issued token runs this one: every column listed once, compiled once and re-bound after (reusable.ts);
// the type makes a missing column a compile error.
const TOKEN_COLUMNS = Object.keys({
  jti: 1, principal_id: 1, client_id: 1, family_id: 1, parent_jti: 1, depth: 1, grant_type: 1, auth_method: 1, credential_id: 1, scope: 1,
  audience: 1, purpose: 1, jkt: 1, act_chain: 1, kid: 1, issued_at: 1, expires_at: 1, revoked_at: 1, revoked_reason: 1,
} satisfies Record<keyof OAuthTokensTable, 1>) as (keyof OAuthTokensTable)[];
const insertTokenRow = reusableInsert('oauth_tokens', TOKEN_COLUMNS);

export async function insertToken(db: Q, row: OAuthTokensTable): Promise<void> {
  await insertTokenRow(db, row);
}

export async function findToken(db: Q, jti: string): Promise<OAuthTokensTable | undefined> {
  return db.selectFrom('oauth_tokens').selectAll().where('jti', '=', jti).executeTakeFirst();
}

/** The tokens whose `column` equals `value`, and every token derived from those at any depth (one recursive
 * query, the same on both stores), by depth then jti. */
async function withDerived(db: Q, column: 'parent_jti' | 'credential_id', value: string): Promise<OAuthTokensTable[]> {
  const result = await sql<OAuthTokensTable>`
    with recursive d(jti) as (
      select jti from oauth_tokens where ${sql.ref(column)} = ${value}
      union
      select t.jti from oauth_tokens t join d on t.parent_jti = d.jti
    )
    select t.* from oauth_tokens t where t.jti in (select jti from d) order by t.depth, t.jti`.execute(db);
  return result.rows;
}

/** Every token derived from `jti` (its children, their children, … at any depth), not `jti` itself. */
export function descendantsOf(db: Q, jti: string): Promise<OAuthTokensTable[]> {
  return withDerived(db, 'parent_jti', jti);
}

/** Every token obtained with a credential and every token derived from those, at any depth. */
export function tokensFromCredential(db: Q, credentialId: string): Promise<OAuthTokensTable[]> {
  return withDerived(db, 'credential_id', credentialId);
}

export async function tokensOfFamily(db: Q, familyId: string): Promise<OAuthTokensTable[]> {
  return db.selectFrom('oauth_tokens').selectAll().where('family_id', '=', familyId).orderBy('depth').orderBy('jti').execute();
}

/** LIKE pattern for one principal id as an element of a JSON list of strings. */
export function actChainPattern(principalId: string): string {
  return `%${JSON.stringify(principalId).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Tokens not revoked and not expired at `now` in which the principal takes part: as sub, as client, or in the act chain. */
export async function liveTokensOf(db: Q, principalId: string, now: string): Promise<OAuthTokensTable[]> {
  return db.selectFrom('oauth_tokens').selectAll()
    .where((eb) => eb.or([
      eb('principal_id', '=', principalId),
      eb('client_id', '=', principalId),
      sql<boolean>`act_chain like ${actChainPattern(principalId)} escape '\\'`,
    ]))
    .where('revoked_at', 'is', null).where('expires_at', '>', now)
    .orderBy('jti').execute();
}

/** The latest expiry among every token (revoked or not) in which the principal takes part; null when none. */
export async function latestExpiryOf(db: Q, principalId: string): Promise<string | null> {
  const row = await db.selectFrom('oauth_tokens').select((eb) => eb.fn.max('expires_at').as('latest'))
    .where((eb) => eb.or([
      eb('principal_id', '=', principalId),
      eb('client_id', '=', principalId),
      sql<boolean>`act_chain like ${actChainPattern(principalId)} escape '\\'`,
    ]))
    .executeTakeFirst();
  return (row?.latest as string | null | undefined) ?? null;
}

/** Every token obtained with a credential (client secret, client key or API key), revoked or not. */
/** The principal the tokens obtained with a credential were issued to (the first by jti), if any were. */
export async function principalOfCredentialTokens(db: Q, credentialId: string): Promise<string | undefined> {
  const row = await db.selectFrom('oauth_tokens').select('principal_id').where('credential_id', '=', credentialId).orderBy('jti').limit(1).executeTakeFirst();
  return row?.principal_id;
}

/** Marks the tokens revoked (those not revoked already); returns how many rows changed. */
export async function markRevoked(db: Q, jtis: string[], at: string, reason: string | null): Promise<number> {
  let changed = 0;
  for (let i = 0; i < jtis.length; i += CHUNK) {
    const r = await db.updateTable('oauth_tokens').set({ revoked_at: at, revoked_reason: reason })
      .where('jti', 'in', jtis.slice(i, i + CHUNK)).where('revoked_at', 'is', null).executeTakeFirst();
    changed += Number(r.numUpdatedRows);
  }
  return changed;
}

// ---------------------------------------------------------------------------------------------------------
// Inventory lists

export type TokenSort = 'jti' | 'expires_at' | 'lifetime';

/** Where the previous page ended, in the sort's own terms (lifetime in whole seconds, descending). */
export type TokenListAfter =
  | { sort: 'jti'; jti: string }
  | { sort: 'expires_at'; expiresAt: string; jti: string }
  | { sort: 'lifetime'; lifetime: number; jti: string };

export interface TokenListFilter {
  principalId?: string;
  /** Only tokens live at this instant (not revoked, expires_at after it). */
  liveAt?: string;
  /** Only tokens expiring at or before this instant. */
  expiresBy?: string;
  sort: TokenSort;
  after?: TokenListAfter;
  limit: number;
}

/** Whole seconds between issue and expiry, on either store. */
function lifetimeExpression(dialect: Dialect) {
  return dialect === 'postgres'
    ? sql<number>`cast(round(extract(epoch from (cast(expires_at as timestamptz) - cast(issued_at as timestamptz)))) as bigint)`
    : sql<number>`cast(round((julianday(expires_at) - julianday(issued_at)) * 86400) as integer)`;
}

export async function listTokens(db: Q, dialect: Dialect, f: TokenListFilter): Promise<Array<OAuthTokensTable & { lifetime: number }>> {
  const lifetime = lifetimeExpression(dialect);
  const jti = sql<string>`jti`;
  let q = db.selectFrom('oauth_tokens').selectAll().select(lifetime.as('lifetime'));
  if (f.principalId !== undefined) q = q.where('principal_id', '=', f.principalId);
  if (f.liveAt !== undefined) q = q.where('revoked_at', 'is', null).where('expires_at', '>', f.liveAt);
  if (f.expiresBy !== undefined) q = q.where('expires_at', '<=', f.expiresBy);
  const a = f.after;
  if (a?.sort === 'jti') q = q.where(sql<boolean>`${jti} > ${a.jti}`);
  if (a?.sort === 'expires_at') q = q.where(sql<boolean>`(expires_at > ${a.expiresAt} or (expires_at = ${a.expiresAt} and ${jti} > ${a.jti}))`);
  if (a?.sort === 'lifetime') q = q.where(sql<boolean>`(${lifetime} < ${a.lifetime} or (${lifetime} = ${a.lifetime} and ${jti} > ${a.jti}))`);
  if (f.sort === 'expires_at') q = q.orderBy('expires_at');
  if (f.sort === 'lifetime') q = q.orderBy(lifetime, 'desc');
  const rows = await q.orderBy(jti).limit(f.limit).execute();
  return rows.map((r) => ({ ...r, lifetime: Number(r.lifetime) }));
}
