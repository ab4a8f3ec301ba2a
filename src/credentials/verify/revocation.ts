import { AppError } from '../../platform/http/errors.js';
import { reject, type Check } from './context.js';

// Step 8 (every time, cached or not): revocation, in memory and synchronous.
//
// Rules:
// - The token is dead when RevocationState says so: the token itself, its delegation family or an ancestor,
//   its subject or any principal of its act chain (suspending or decommissioning a principal adds such a
//   revocation, for tokens issued before it) → revoked. Checked on every verification, never cached.
// - When the revocation list could not be read lately (the store is down), nothing verifies: 503
//   store_unavailable. A stale list might miss a revocation made on another node; failing closed is the rule.

export const revocation: Check = (state, deps) => {
  if (deps.revocations.health && !deps.revocations.health().ok) {
    throw new AppError('store_unavailable', 'the revocation list cannot be read; no token is accepted until it can');
  }
  const c = state.claims!;
  const revoked = deps.revocations.isRevoked({ jti: c.jti, principalId: c.sub, actChain: state.actChain!, issuedAt: c.iat, credentialId: null });
  if (revoked) reject(state, 'revoked', 'the token has been revoked');
};
