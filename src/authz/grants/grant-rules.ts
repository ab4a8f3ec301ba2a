// The rules of a time-bound grant, pure and tested beside this file: when it ends (bounded, in the future),
// which purpose it may carry (one both the principal and the resource allow), and what state a stored grant is in
// at a given instant. The decision point never relies on these: the expiry sits in the grant's Cedar condition
// (policy-set.ts), so an expired grant never allows even while its row is still present. These rules only decide
// what may be created and how a grant is shown.

/** The shortest grant: anything shorter is over before anyone could use it. */
export const MIN_GRANT_SECONDS = 60;
/** The longest grant: time-bound access is for a task, not a standing entitlement (those are policies). */
export const MAX_GRANT_SECONDS = 90 * 86_400;

export type GrantStatus = 'active' | 'expired' | 'revoked';

export type ExpiryProblem =
  | { kind: 'both_or_neither' }
  | { kind: 'unparseable' }
  | { kind: 'too_soon'; minSeconds: number }
  | { kind: 'too_long'; maxSeconds: number };

/**
 * When a grant asked for at `now` ends: exactly one of an absolute `expiresAt` or a `durationSeconds`, at least
 * MIN_GRANT_SECONDS and at most MAX_GRANT_SECONDS from now. Expiry is kept to whole seconds (the Cedar condition
 * compares epoch seconds), rounded down so a grant never outlives what was asked.
 */
export function grantExpiry(now: Date, input: { expiresAt?: string; durationSeconds?: number }): { expiresAt: Date } | { problem: ExpiryProblem } {
  const given = (input.expiresAt !== undefined ? 1 : 0) + (input.durationSeconds !== undefined ? 1 : 0);
  if (given !== 1) return { problem: { kind: 'both_or_neither' } };
  const end = input.expiresAt !== undefined ? Date.parse(input.expiresAt) : now.getTime() + input.durationSeconds! * 1000;
  if (!Number.isFinite(end)) return { problem: { kind: 'unparseable' } };
  const seconds = Math.floor(end / 1000);
  // A duration is checked as asked (a 60 s grant asked at a fractional instant is 60 s long, not 59.4); an absolute
  // end is checked by what remains of it after rounding down.
  const lasts = input.durationSeconds !== undefined ? input.durationSeconds : seconds - now.getTime() / 1000;
  if (lasts < MIN_GRANT_SECONDS) return { problem: { kind: 'too_soon', minSeconds: MIN_GRANT_SECONDS } };
  if (lasts > MAX_GRANT_SECONDS) return { problem: { kind: 'too_long', maxSeconds: MAX_GRANT_SECONDS } };
  return { expiresAt: new Date(seconds * 1000) };
}

export function describeExpiryProblem(p: ExpiryProblem): string {
  switch (p.kind) {
    case 'both_or_neither': return 'give exactly one of expires_at or duration_seconds';
    case 'unparseable': return 'expires_at is not a date';
    case 'too_soon': return `a grant must last at least ${p.minSeconds} seconds from now`;
    case 'too_long': return `a grant may last at most ${p.maxSeconds} seconds (${p.maxSeconds / 86_400} days) from now`;
  }
}

/**
 * Whether a grant may carry `purpose`: none (the grant holds for any purpose the request carries), or one that the
 * principal may act for and the resource may be used for.
 */
export function purposeProblem(purpose: string | null, principalPurposes: readonly string[], resourcePurposes: readonly string[]): string | null {
  if (purpose === null) return null;
  if (!principalPurposes.includes(purpose)) {
    return `'${purpose}' is not one of the principal's purposes (${principalPurposes.length ? principalPurposes.join(', ') : 'it has none'})`;
  }
  if (!resourcePurposes.includes(purpose)) {
    return `'${purpose}' is not one of the resource's purposes (${resourcePurposes.length ? resourcePurposes.join(', ') : 'it has none'})`;
  }
  return null;
}

/** A stored grant's state at `now`: revoked wins over expired; a grant ends at its expiry instant. */
export function grantStatus(grant: { expires_at: string; revoked_at: string | null }, now: Date): GrantStatus {
  if (grant.revoked_at !== null) return 'revoked';
  return Date.parse(grant.expires_at) <= now.getTime() ? 'expired' : 'active';
}

/** Actions in a stable order without repeats (the catalogue's order), so equal grants store equal lists. */
export function normaliseActions<A extends string>(actions: readonly A[], catalogue: readonly A[]): A[] {
  const wanted = new Set(actions);
  return catalogue.filter((a) => wanted.has(a));
}
