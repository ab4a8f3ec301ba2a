import type { ReplayStore } from '../contracts.js';
import { invalidProof } from './reject.js';

// Check 9 of the DPoP table, last: each proof is used once (RFC 9449 §11.1).
//
// Rules:
// - Last on purpose: a proof refused by any earlier check consumes nothing, so a forged or mistaken proof cannot
//   burn a jti that an honest proof will use.
// - The replay key is `${jkt}:${jti}`: a jti is unique per key, and a proof with another key is another proof.
// - The entry is kept until iat + window, the last instant claims.ts would still accept the proof; after that the
//   iat check refuses it on its own.
// - The store is the shared, durable replay store: a replay is refused after a restart and on another node.

export async function claimProof(replay: ReplayStore, proof: { jkt: string; jti: string; iat: number; windowSeconds: number }): Promise<void> {
  const expiresAt = new Date(Math.ceil((proof.iat + proof.windowSeconds) * 1000));
  const fresh = await replay.claimOnce('dpop', `${proof.jkt}:${proof.jti}`, expiresAt);
  if (!fresh) throw invalidProof('DPoP proof was already used (jti replay)');
}
