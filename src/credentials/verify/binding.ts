import { CredentialRejected } from '../contracts.js';
import { reject, type Check } from './context.js';

// Step 10 (every time, cached or not): proof of possession (RFC 9449 §7).
//
// Rules:
// - A token bound to a key (`cnf.jkt`) is accepted only with the DPoP scheme: sent as Bearer → dpop_required.
// - With the DPoP scheme, the DPoP verifier checks the request's proofs against the method, URL, this token
//   (`ath`) and the bound key; its refusal (dpop_invalid, dpop_nonce_required) is the answer, with our jti.
//   The proof's key must be the bound key (checked here too) → else dpop_invalid.
// - An unbound token sent with the DPoP scheme → dpop_invalid: the scheme claims a binding the token lacks.

export const binding: Check = async (state, deps) => {
  const c = state.claims!;
  const jkt = c.cnf?.jkt;
  const { request } = state;
  if (!jkt) {
    if (request.scheme === 'dpop') reject(state, 'dpop_invalid', 'the token is not bound to a key; send it with the Bearer scheme');
    return;
  }
  if (request.scheme !== 'dpop') reject(state, 'dpop_required', 'the token is bound to a key (DPoP); send it with the DPoP scheme and a proof');
  let proved: { jkt: string };
  try {
    proved = await deps.dpop.verify({ proofs: request.dpopProofs, method: request.method, url: request.url, accessToken: state.token, expectedJkt: jkt });
  } catch (error) {
    if (error instanceof CredentialRejected) reject(state, error.reason, error.message);
    throw error;
  }
  if (proved.jkt !== jkt) reject(state, 'dpop_invalid', 'the DPoP proof is not signed with the key the token is bound to');
};
