import type { AccessTokenClaims } from './contracts.js';
import type { PrincipalRecord } from './verify/context.js';

// Tokens that already passed the expensive checks (parse, header, key, signature, claims), so a token seen
// before verifies without another signature check. Keyed by the token string itself (at most 8 KiB: parse.ts).
//
// Rules:
// - Bounded: at most maxEntries (default 10,000); inserting beyond that evicts the oldest entry.
// - A hit never skips the cheap checks: the verifier runs audience, lifetime (exp/nbf/iat against the clock),
//   revocation (in memory) and the DPoP binding every time, and an expired token is dropped from the cache.
// - A hit counts only while the entry's key still verifies: the verifier asks keys.verificationKey(kid) (in
//   memory) first, so a token signed by a retired key falls through to the full checks and is refused there.
// - The principals lookup rides along, fresh for PRINCIPALS_FRESH_SECONDS. That is safe because suspending or
//   decommissioning a principal adds a principal revocation (revocation.service.ts), which revocation.ts checks
//   on every verification; within the window a hit can only miss a change of name or team membership.
// - The cache holds nothing an attacker can put there: only tokens our own keys signed.

export const DEFAULT_MAX_ENTRIES = 10_000;
export const PRINCIPALS_FRESH_SECONDS = 30;

export interface VerifiedEntry {
  kid: string;
  claims: AccessTokenClaims;
  /** Principal ids of the act chain, outermost first. */
  actChain: string[];
  principals?: { byId: Map<string, PrincipalRecord>; checkedAt: number };
}

export function createVerifiedCache(opts: { maxEntries?: number } = {}) {
  const max = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (!Number.isInteger(max) || max < 1) throw new RangeError('maxEntries must be a positive integer');
  const entries = new Map<string, VerifiedEntry>();
  return {
    get(token: string): VerifiedEntry | undefined {
      return entries.get(token);
    },
    set(token: string, entry: VerifiedEntry): VerifiedEntry {
      entries.delete(token);
      while (entries.size >= max) entries.delete(entries.keys().next().value!);
      entries.set(token, entry);
      return entry;
    },
    delete(token: string): void {
      entries.delete(token);
    },
    clear(): void {
      entries.clear();
    },
    get size(): number {
      return entries.size;
    },
  };
}
export type VerifiedCache = ReturnType<typeof createVerifiedCache>;
