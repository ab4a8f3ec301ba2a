import { reject, type Check } from './context.js';

// Step 3: the key the header names.
//
// Rules:
// - `kid` is one of our keys that still verifies (active, or retiring until every token it signed has expired)
//   → else unknown_kid. Unknown kids are looked up in the store at most once a second (the key store's rule).
// - The algorithm is the key's, never the header's: a header alg other than the key's → unsupported_alg.

export const key: Check = async (state, deps) => {
  const found = await deps.keys.verificationKey(state.header!.kid!);
  if (!found) reject(state, 'unknown_kid', 'the token is signed with a key this server does not know or no longer accepts');
  if (state.header!.alg !== found.alg) reject(state, 'unsupported_alg', `the key named by the token signs with ${found.alg}`);
  state.key = found;
};
