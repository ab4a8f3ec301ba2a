import type { JWK } from 'jose';
import { ASYMMETRIC_ALGORITHMS } from './algorithms.js';
import { invalidProof } from './reject.js';

// Check 3 of the DPoP table: the `jwk` header is a public key of the type the algorithm needs (RFC 9449 §4.2,
// §4.3 step 7; RFC 7517, 7518 §6).
//
// Rules:
// - `jwk` is present and a JSON object.
// - Public only: any private member (d, p, q, dp, dq, qi, oth; `priv` of newer key types) is refused, and so is a
//   symmetric key (kty `oct` or a `k` member): a client that puts its private key on the wire has lost it, and a
//   shared secret proves nothing.
// - kty is OKP, EC or RSA and matches `alg` (EdDSA → OKP Ed25519, ES256 → EC P-256, ES384 → EC P-384,
//   ES512 → EC P-521, RS* and PS* → RSA): the algorithm is never chosen by the key's owner against our list.
// - Where the key says how it may be used, it agrees: `alg` (if present) equals the header's, `use` (if present)
//   is `sig`, `key_ops` (if present) includes `verify`.

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'priv'] as const;

export function checkPublicJwk(jwk: unknown, alg: string): JWK {
  if (jwk === undefined) throw invalidProof('DPoP proof has no jwk header');
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw invalidProof('DPoP proof jwk is not a JSON object');
  const key = jwk as Record<string, unknown>;
  if (key.kty === 'oct' || 'k' in key) throw invalidProof('DPoP proof jwk is a symmetric key');
  if (PRIVATE_MEMBERS.some((member) => member in key)) throw invalidProof('DPoP proof jwk contains private key material');
  const shape = ASYMMETRIC_ALGORITHMS[alg];
  if (!shape || key.kty !== shape.kty) throw invalidProof(`DPoP proof jwk kty does not fit alg ${alg}`);
  if (shape.crv !== undefined && key.crv !== shape.crv) throw invalidProof(`DPoP proof jwk crv does not fit alg ${alg}`);
  if (key.alg !== undefined && key.alg !== alg) throw invalidProof('DPoP proof jwk alg differs from the header alg');
  if (key.use !== undefined && key.use !== 'sig') throw invalidProof('DPoP proof jwk is not a signature key');
  if (key.key_ops !== undefined && !(Array.isArray(key.key_ops) && key.key_ops.includes('verify'))) {
    throw invalidProof('DPoP proof jwk key_ops does not allow verify');
  }
  return key as JWK;
}
