import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpApp } from '../platform/http/app.js';
import type { SigningKeyService } from './signing-keys.service.js';
import { jwksSchema, rotatedKeysSchema, rotateKeysBody, signingKeyListSchema } from './signing-keys.schemas.js';

// The published JWKS (public, cacheable, with an ETag so relying parties revalidate cheaply) and the operator
// routes that list and rotate the signing keys. Private material never leaves the store: the JWKS and the list
// are built from public JWKs and row metadata, and their response schemas drop anything else.

const tags = ['signing keys'];
export const JWKS_CACHE_CONTROL = 'public, max-age=300';
export const JWKS_CONTENT_TYPE = 'application/jwk-set+json';

/** A strong ETag over the JWKS content: changes exactly when the published keys do. */
export function jwksEtag(body: unknown): string {
  return `"${crypto.createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 32)}"`;
}

/** RFC 9110 §13.1.2: If-None-Match matches on `*` or any listed entity tag, compared weakly. */
export function etagMatches(ifNoneMatch: string | string[] | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const strip = (t: string) => t.trim().replace(/^W\//, '');
  const listed = (Array.isArray(ifNoneMatch) ? ifNoneMatch.join(',') : ifNoneMatch).split(',').map(strip);
  return listed.includes('*') || listed.includes(strip(etag));
}

async function sendJwks(store: SigningKeyService, req: FastifyRequest, reply: FastifyReply) {
  const body = await store.jwks();
  const etag = jwksEtag(body);
  reply.header('cache-control', JWKS_CACHE_CONTROL).header('etag', etag);
  if (etagMatches(req.headers['if-none-match'], etag)) return reply.code(304).send();
  return reply.type(JWKS_CONTENT_TYPE).send(body);
}

export function registerSigningKeyRoutes(app: HttpApp, store: SigningKeyService): void {
  app.get('/.well-known/jwks.json', {
    config: { public: true },
    schema: { tags, summary: 'Public keys that verify Custos access tokens (RFC 7517 JWK Set)', security: [], response: { 200: jwksSchema } },
  }, async (req, reply) => sendJwks(store, req, reply));

  app.get('/v1/signing-keys', {
    config: { permission: 'key.read' },
    schema: { tags, summary: 'List token-signing keys and their rotation state (never private material)', response: { 200: signingKeyListSchema } },
  }, async () => ({ items: await store.list() }));

  app.post('/v1/signing-keys/rotate', {
    config: { permission: 'key.rotate' },
    schema: { tags, summary: 'Rotate the token-signing key now (the old key keeps verifying until its tokens expire)', body: rotateKeysBody, response: { 200: rotatedKeysSchema } },
  }, async (req) => store.rotate(req.actor, req.body?.reason));
}
