// The one rule for a leak report about a Custos credential (operator token, API key, client secret): the scan
// never sends the secret, only the credential's id and a prefix of its SHA-256, so a row is ours only when that
// prefix (16 hex digits at least) matches its stored hash. Then it is already revoked, expired, or live — and
// only a live one is revoked by the issuer (in the report's transaction).

export type LeakLiveness = 'unknown' | 'revoked' | 'expired' | 'live';

export interface LeakableRow {
  secret_hash: string;
  principal_id: string;
  revoked_at: string | null;
  expires_at: string;
}

export function judgeLeak(row: LeakableRow | undefined, leak: { sha256Prefix: string }, now: Date): { liveness: LeakLiveness; ownerId: string | null } {
  if (!row || leak.sha256Prefix.length < 16 || !row.secret_hash.startsWith(leak.sha256Prefix.toLowerCase())) return { liveness: 'unknown', ownerId: null };
  if (row.revoked_at) return { liveness: 'revoked', ownerId: row.principal_id };
  if (new Date(row.expires_at) <= now) return { liveness: 'expired', ownerId: row.principal_id };
  return { liveness: 'live', ownerId: row.principal_id };
}
