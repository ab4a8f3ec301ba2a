import { reject, type Check } from './context.js';

// Step 6 (every time, cached or not): the token is addressed to the enforcement point asking.
//
// Rules:
// - `aud` (a string or a list) contains the requested audience exactly → else wrong_audience. A token for one
//   resource is never accepted by another (RFC 9068 §4, RFC 8707).

export const audience: Check = (state) => {
  const aud = state.claims!.aud;
  const listed = Array.isArray(aud) ? aud : [aud];
  if (!listed.includes(state.audience)) reject(state, 'wrong_audience', 'the token is not addressed to this resource');
};
