import { z } from 'zod';
import { paginationQuery } from '../platform/http/pagination.js';

// Request and response shapes of /v1/client-keys (public keys for private_key_jwt, RFC 7523 §2.2); the OpenAPI
// document is generated from them. A JWK is accepted here with any members, so that a private or unusable key
// is refused by the service with `invalid_jwk` and a reason (client-keys.service.ts: checkPublicJwk), not as a
// shape error; only its size is bounded here.

export const MAX_KEYS_PER_REQUEST = 20;
/** Generous for an RSA 8192-bit key with a certificate chain; a public key is rarely over 1 KiB. */
export const MAX_JWK_BYTES = 16 * 1024;

const jwkInput = z.looseObject({
  kty: z.string().max(16).describe('OKP (Ed25519), EC (P-256, P-384) or RSA (2048 bits or more)'),
  kid: z.string().min(1).max(200).optional().describe('Key id; assertions that name it are checked against this key only'),
  alg: z.string().max(32).optional().describe('EdDSA, ES256, ES384, RS256…PS512; inferred from the key when absent'),
}).refine((k) => JSON.stringify(k).length <= MAX_JWK_BYTES, `a JWK is at most ${MAX_JWK_BYTES} bytes`)
  .describe('A public JWK (RFC 7517); private members (d, p, q, dp, dq, qi, k) are refused');

export const addClientKeysBody = z.strictObject({
  principal: z.string().min(1).max(200).describe('Non-human principal the key authenticates (id or name)'),
  jwk: jwkInput.optional().describe('One public key (give jwk or jwks, not both)'),
  jwks: z.strictObject({ keys: z.array(jwkInput).min(1).max(MAX_KEYS_PER_REQUEST) }).optional()
    .describe(`A JWK Set of up to ${MAX_KEYS_PER_REQUEST} public keys (give jwk or jwks, not both)`),
  description: z.string().max(500).optional(),
  expires_at: z.iso.datetime({ offset: true }).optional().describe('When the keys stop being accepted (ISO 8601); none by default'),
}).refine((b) => (b.jwk === undefined) !== (b.jwks === undefined), { message: 'give exactly one of jwk or jwks', path: ['jwk'] });
export type AddClientKeysInput = z.infer<typeof addClientKeysBody>;

/** The public members a stored key keeps (everything else a client sent is dropped). */
export const publicJwkSchema = z.object({
  kty: z.string(),
  crv: z.string().optional(),
  x: z.string().optional(),
  y: z.string().optional(),
  n: z.string().optional(),
  e: z.string().optional(),
  kid: z.string().optional(),
  alg: z.string(),
});
export type PublicJwk = z.infer<typeof publicJwkSchema>;

export const clientKeySchema = z.object({
  id: z.string(),
  principal: z.object({ id: z.string(), name: z.string() }),
  kid: z.string().nullable(),
  alg: z.string(),
  thumbprint: z.string().describe('RFC 7638 JWK thumbprint (SHA-256, base64url)'),
  jwk: publicJwkSchema,
  description: z.string().nullable(),
  created_at: z.string(),
  created_by: z.string().nullable(),
  expires_at: z.string().nullable(),
  removed_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
});
export type ClientKeyView = z.infer<typeof clientKeySchema>;
export const addedClientKeysSchema = z.object({ keys: z.array(clientKeySchema) });

export const listClientKeysQuery = z.strictObject({
  ...paginationQuery,
  principal: z.string().max(200).optional().describe('Only the keys of this principal (id or name); owner-role operators must name one they own'),
  include_removed: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
});
export type ListClientKeysQuery = z.infer<typeof listClientKeysQuery>;

export const clientKeyIdParams = z.strictObject({ id: z.uuid() });
