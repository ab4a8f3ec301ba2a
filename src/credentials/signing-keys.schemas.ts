import { z } from 'zod';
import { SIGNING_ALGS, type SigningAlg } from './contracts.js';

// Request and response shapes of the signing-key routes (/.well-known/jwks.json, /v1/signing-keys); the OpenAPI
// document is generated from them. Nothing here ever carries private key material: the JWK schema lists the
// public members only, and the serializer drops anything else.

export const SIGNING_KEY_STATUSES = ['active', 'retiring', 'retired'] as const;
const algSchema = z.enum(SIGNING_ALGS as readonly SigningAlg[] as [SigningAlg, ...SigningAlg[]]);

/** A public JWK as published in the JWKS (RFC 7517 §4; OKP Ed25519 has x, EC P-256 has x and y). */
export const publicJwkSchema = z.object({
  kid: z.string(),
  alg: algSchema,
  use: z.literal('sig'),
  kty: z.string(),
  crv: z.string(),
  x: z.string(),
  y: z.string().optional(),
});

export const jwksSchema = z.object({ keys: z.array(publicJwkSchema) });

export const signingKeySchema = z.object({
  kid: z.string().describe('RFC 7638 thumbprint of the public key'),
  alg: algSchema,
  status: z.enum(SIGNING_KEY_STATUSES).describe('active: signs new tokens; retiring: verifies what it signed until verify_until; retired: gone'),
  created_at: z.string(),
  rotate_at: z.string().describe('When an active key is replaced automatically'),
  deactivated_at: z.string().nullable().describe('When it stopped signing'),
  verify_until: z.string().nullable().describe('Every token it signed has expired by then'),
  retired_at: z.string().nullable(),
});
export type SigningKeyView = z.infer<typeof signingKeySchema>;

export const signingKeyListSchema = z.object({ items: z.array(signingKeySchema) });

export const rotateKeysBody = z.strictObject({ reason: z.string().max(1000).optional().describe('Why (recorded in the audit log)') }).nullish();

export const rotatedKeysSchema = z.object({
  kid: z.string().describe('The new active key'),
  retiring: z.array(z.string()).describe('Keys that no longer sign but still verify the tokens they signed (newest first)'),
});
