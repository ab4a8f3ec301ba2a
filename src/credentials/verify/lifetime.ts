import { reject, type Check } from './context.js';

// Step 7 (every time, cached or not): the token is within its lifetime by the injected clock, with a leeway of
// at most 30 seconds for clock skew between nodes.
//
// Rules (now and every claim in whole seconds):
// - now >= exp + leeway → expired (so exp one second outside the leeway is refused, one second inside accepted).
// - nbf > now + leeway → not_yet_valid.
// - iat > now + leeway → not_yet_valid (a token from the future was not issued by a correct clock).

export const lifetime: Check = (state, deps) => {
  const c = state.claims!;
  const leeway = deps.leewaySeconds;
  if (state.now >= c.exp + leeway) reject(state, 'expired', 'the token has expired');
  if (c.nbf !== undefined && c.nbf > state.now + leeway) reject(state, 'not_yet_valid', 'the token is not valid yet');
  if (c.iat > state.now + leeway) reject(state, 'not_yet_valid', 'the token was issued in the future');
};
