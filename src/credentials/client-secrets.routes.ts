import type { HttpApp } from '../platform/http/app.js';
import { pageSchema } from '../platform/http/pagination.js';
import type { ClientSecretService } from './client-secrets.service.js';
import {
  clientSecretIdParams, clientSecretSchema, createClientSecretBody, createdClientSecretSchema, listClientSecretsQuery,
  revokeClientSecretBody, rotateClientSecretBody, rotatedClientSecretSchema,
} from './client-secrets.schemas.js';

// /v1/client-secrets: secrets for client_secret_basic / client_secret_post. Handlers only call the service.

const tags = ['client secrets'];

export function registerClientSecretRoutes(app: HttpApp, secrets: ClientSecretService): void {
  app.post('/v1/client-secrets', {
    config: { permission: 'credential.create', errors: ['principal_not_found', 'principal_cannot_hold_credentials'] },
    schema: { tags, summary: 'Create a client secret (shown once)', body: createClientSecretBody, response: { 201: createdClientSecretSchema } },
  }, async (req, reply) => reply.code(201).send(await secrets.create(req.actor, req.body)));

  app.get('/v1/client-secrets', {
    config: { permission: 'credential.read' },
    schema: { tags, summary: 'List client secrets (never the secrets themselves)', querystring: listClientSecretsQuery, response: { 200: pageSchema(clientSecretSchema) } },
  }, async (req) => secrets.list(req.actor, req.query));

  app.post('/v1/client-secrets/:id/rotate', {
    config: { permission: 'credential.create', errors: ['not_found', 'credential_already_revoked', 'invalid_transition', 'principal_cannot_hold_credentials'] },
    schema: { tags, summary: 'Rotate a client secret: a new one, the old one kept for an overlap window', params: clientSecretIdParams, body: rotateClientSecretBody, response: { 201: rotatedClientSecretSchema } },
  }, async (req, reply) => reply.code(201).send(await secrets.rotate(req.actor, req.params.id, req.body)));

  app.post('/v1/client-secrets/:id/revoke', {
    config: { permission: 'credential.revoke', errors: ['not_found', 'credential_already_revoked'] },
    schema: { tags, summary: 'Revoke a client secret (tokens obtained with it stop working)', params: clientSecretIdParams, body: revokeClientSecretBody, response: { 200: clientSecretSchema } },
  }, async (req) => secrets.revoke(req.actor, req.params.id, req.body?.reason));
}
