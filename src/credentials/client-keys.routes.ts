import type { HttpApp } from '../platform/http/app.js';
import { pageSchema } from '../platform/http/pagination.js';
import type { ClientKeyService } from './client-keys.service.js';
import { addClientKeysBody, addedClientKeysSchema, clientKeyIdParams, clientKeySchema, listClientKeysQuery } from './client-keys.schemas.js';

// /v1/client-keys: public keys non-human principals register for private_key_jwt. Handlers only call the service.

const tags = ['client keys'];

export function registerClientKeyRoutes(app: HttpApp, keys: ClientKeyService): void {
  app.post('/v1/client-keys', {
    config: { permission: 'credential.create', errors: ['principal_not_found', 'principal_cannot_hold_credentials', 'invalid_jwk', 'key_already_registered'] },
    schema: { tags, summary: 'Register public keys for private_key_jwt (RFC 7523)', body: addClientKeysBody, response: { 201: addedClientKeysSchema } },
  }, async (req, reply) => reply.code(201).send(await keys.add(req.actor, req.body)));

  app.get('/v1/client-keys', {
    config: { permission: 'credential.read' },
    schema: { tags, summary: 'List registered client keys', querystring: listClientKeysQuery, response: { 200: pageSchema(clientKeySchema) } },
  }, async (req) => keys.list(req.actor, req.query));

  app.delete('/v1/client-keys/:id', {
    config: { permission: 'credential.revoke', errors: ['not_found', 'credential_already_revoked'] },
    schema: { tags, summary: 'Remove a client key (tokens obtained with it stop working)', params: clientKeyIdParams, response: { 200: clientKeySchema } },
  }, async (req) => keys.remove(req.actor, req.params.id));
}
