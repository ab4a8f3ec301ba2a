// Which signature algorithms a DPoP proof may use, and the key each one needs. Asymmetric only (RFC 9449 §4.3
// step 5: not `none`, not a MAC): the proof demonstrates possession of a private key whose public half it carries.
// jose verifies each of these; RSA keys under 2048 bits it refuses by itself.

export interface KeyShape {
  kty: 'OKP' | 'EC' | 'RSA';
  /** The curve, for OKP and EC keys. */
  crv?: string;
}

/** Every algorithm a DPoP proof could be allowed to use, with the key type (and curve) it requires. */
export const ASYMMETRIC_ALGORITHMS: Readonly<Record<string, KeyShape>> = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  ES512: { kty: 'EC', crv: 'P-521' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
};

/** What the verifier allows unless configured otherwise (and what the metadata's dpop_signing_alg_values_supported lists). */
export const DEFAULT_DPOP_ALGORITHMS: readonly string[] = ['EdDSA', 'Ed25519', 'ES256', 'ES384', 'PS256', 'RS256'];

/** Throws when a configured list is empty or names an algorithm that is not an asymmetric signature we know. */
export function checkAlgorithmList(algorithms: readonly string[]): readonly string[] {
  if (algorithms.length === 0) throw new Error('DPoP needs at least one signature algorithm');
  for (const alg of algorithms) {
    if (!Object.hasOwn(ASYMMETRIC_ALGORITHMS, alg)) throw new Error(`${alg} is not an asymmetric signature algorithm DPoP can use`);
  }
  return [...algorithms];
}
