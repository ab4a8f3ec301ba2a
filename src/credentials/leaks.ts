import type { LeakRevoker } from '../findings/index.js';

// The leaked-credential loop's provider side: the findings module declares the LeakRevoker it needs, and
// this routes each leak to the issuer of its kind (the `custos_<kind>_` part the scanner parsed offline):
// operator tokens (op), API keys (ak), client secrets (cs) and people's refresh tokens (rt). Rules:
// - dispatch by kind alone; a kind with no issuer here is `unknown` (never revoked, nothing written);
// - each issuer confirms the leak itself (id and SHA-256 prefix against its stored hash) inside the caller's
//   transaction, so the revocation and its audit events commit with the finding.

type RevokeLeaked = LeakRevoker['revokeLeaked'];
type LeakOutcome = Awaited<ReturnType<RevokeLeaked>>;

/** One issuer's revokeLeaked: the same contract as LeakRevoker's, without the kind it was dispatched on. */
export type LeakRevokerFn = (
  trx: Parameters<RevokeLeaked>[0], batch: Parameters<RevokeLeaked>[1], actor: Parameters<RevokeLeaked>[2],
  leak: { id: string; sha256Prefix: string }, details: Record<string, unknown>,
) => Promise<LeakOutcome>;

export interface LeakRevokers {
  op: LeakRevokerFn;
  ak: LeakRevokerFn;
  cs?: LeakRevokerFn;
  /** A person's refresh token (the sign-in module's sessions). */
  rt?: LeakRevokerFn;
}

const UNKNOWN: LeakOutcome = { liveness: 'unknown', ownerId: null, revoked: false };

export function createLeakRevoker(revokers: LeakRevokers): LeakRevoker {
  const byKind = new Map<string, LeakRevokerFn>(Object.entries(revokers).filter((e): e is [string, LeakRevokerFn] => typeof e[1] === 'function'));
  return {
    async revokeLeaked(trx, batch, actor, leak, details) {
      const revoke = byKind.get(leak.kind);
      if (!revoke) return { ...UNKNOWN };
      return revoke(trx, batch, actor, { id: leak.id, sha256Prefix: leak.sha256Prefix }, details);
    },
  };
}
