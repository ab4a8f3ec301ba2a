import { compactVerify } from 'jose';
import { reject, type Check } from './context.js';
import { strictJsonObject } from './parse.js';

// Step 4: the signature, by jose, with the key's algorithm as the only one allowed.
//
// Rules:
// - compactVerify with `algorithms: [key.alg]`; any failure (tampered header or payload, truncated or altered
//   signature) → bad_signature; an algorithm jose refuses → unsupported_alg.
// - The verified payload is strict UTF-8 holding a JSON object → else malformed_token.

export const signature: Check = async (state) => {
  const k = state.key!;
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(state.token, k.publicKey, { algorithms: [k.alg] }));
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_JOSE_ALG_NOT_ALLOWED') reject(state, 'unsupported_alg', `only ${k.alg} verifies with this key`);
    reject(state, 'bad_signature', 'the token signature does not verify');
  }
  const claims = strictJsonObject(payload);
  if (!claims) reject(state, 'malformed_token', 'the token payload is not a UTF-8 JSON object');
  state.payload = claims;
};
