import { z } from 'zod';
import type { HttpApp } from '../platform/http/app.js';
import { pageSchema } from '../platform/http/pagination.js';
import {
  createIdentityProviderBody, deleteIdentityProviderQuery, identityProviderRefParams, identityProviderSchema, listIdentityProvidersQuery,
  checkIdentityProviderBody, identityProviderCheckSchema, providerJwksParams, providerJwksSchema, updateIdentityProviderBody, type IdentityProviderCheck,
} from './identity-providers.schemas.js';
import type { IdentityProviderService } from './identity-providers.service.js';

// /v1/identity-providers: the organisation's OIDC providers people sign in through. Reading needs idp.read,
// changing idp.write (admins); the service validates and audits. /oauth/idp/<name>/jwks.json is public: it is
// Custos's own public key for private_key_jwt at that provider, which the provider fetches.

const tags = ['identity-providers'];
const JWKS_CACHE_CONTROL = 'public, max-age=300';

export function registerIdentityProviderRoutes(app: HttpApp, idps: IdentityProviderService, check: (ref: string) => Promise<IdentityProviderCheck>): void {
  app.post('/v1/identity-providers/:ref/check', {
    config: { permission: 'idp.write', errors: ['not_found'] },
    schema: {
      tags, summary: 'Read the provider\'s OpenID discovery document now: is it reachable and usable? (people sign in through it only if so)',
      params: identityProviderRefParams, body: checkIdentityProviderBody, response: { 200: identityProviderCheckSchema },
    },
  }, async (req) => check(req.params.ref));

  app.post('/v1/identity-providers', {
    config: { permission: 'idp.write', errors: ['invalid_identity_provider', 'name_taken', 'team_not_found'] },
    schema: { tags, summary: 'Add an identity provider people sign in through (OIDC; Custos is the relying party)', body: createIdentityProviderBody, response: { 201: identityProviderSchema } },
  }, async (req, reply) => reply.code(201).send(await idps.create(req.actor, req.body)));

  app.get('/v1/identity-providers', {
    config: { permission: 'idp.read' },
    schema: { tags, summary: 'List identity providers (never their secrets)', querystring: listIdentityProvidersQuery, response: { 200: pageSchema(identityProviderSchema) } },
  }, async (req) => idps.list(req.query));

  app.get('/v1/identity-providers/:ref', {
    config: { permission: 'idp.read', errors: ['not_found'] },
    schema: { tags, summary: 'Show an identity provider and its group mappings', params: identityProviderRefParams, response: { 200: identityProviderSchema } },
  }, async (req) => idps.get(req.params.ref));

  app.patch('/v1/identity-providers/:ref', {
    config: { permission: 'idp.write', errors: ['not_found', 'invalid_identity_provider', 'team_not_found'] },
    schema: { tags, summary: 'Change an identity provider (client, secret or key, scopes, claims, group mappings; the issuer never changes)', params: identityProviderRefParams, body: updateIdentityProviderBody, response: { 200: identityProviderSchema } },
  }, async (req) => idps.update(req.actor, req.params.ref, req.body));

  app.delete('/v1/identity-providers/:ref', {
    config: { permission: 'idp.write', errors: ['not_found'] },
    schema: { tags, summary: 'Remove an identity provider (nobody can sign in through it any more)', params: identityProviderRefParams, querystring: deleteIdentityProviderQuery, response: { 204: z.null() } },
  }, async (req, reply) => { await idps.remove(req.actor, req.params.ref, req.query.reason); return reply.code(204).send(null); });

  app.get('/oauth/idp/:name/jwks.json', {
    config: { public: true, errors: ['not_found'] },
    schema: { tags, summary: 'Custos\'s public key for private_key_jwt at this identity provider (RFC 7517 JWK Set)', security: [], params: providerJwksParams, response: { 200: providerJwksSchema } },
  }, async (req, reply) => reply.header('cache-control', JWKS_CACHE_CONTROL).type('application/jwk-set+json').send(await idps.jwks(req.params.name)));
}
