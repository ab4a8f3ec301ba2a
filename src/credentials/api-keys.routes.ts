import type { HttpApp } from '../platform/http/app.js';
import { pageSchema } from '../platform/http/pagination.js';
import type { ApiKeyService } from './api-keys.service.js';
import {
  apiKeyIdParams, apiKeySchema, createApiKeyBody, createdApiKeySchema, listApiKeysQuery, revokeApiKeyBody, rotateApiKeyBody, rotatedApiKeySchema,
} from './api-keys.schemas.js';

// /v1/api-keys: one-line handlers over the API key service; the rules and their codes live in the service.

const tags = ['api keys'];
const grantErrors = ['principal_not_found', 'principal_cannot_hold_credentials', 'scope_not_allowed', 'purpose_not_allowed', 'target_not_allowed'] as const;

export function registerApiKeyRoutes(app: HttpApp, apiKeys: ApiKeyService): void {
  app.post('/v1/api-keys', {
    config: { permission: 'credential.create', errors: [...grantErrors, 'ttl_too_long'] },
    schema: { tags, summary: 'Create an API key for a principal (shown once)', body: createApiKeyBody, response: { 201: createdApiKeySchema } },
  }, async (req, reply) => reply.code(201).send(await apiKeys.create(req.actor, req.body)));

  app.get('/v1/api-keys', {
    config: { permission: 'credential.read' },
    schema: { tags, summary: 'List API keys (never their secrets)', querystring: listApiKeysQuery, response: { 200: pageSchema(apiKeySchema) } },
  }, async (req) => apiKeys.list(req.actor, req.query));

  app.post('/v1/api-keys/:id/rotate', {
    config: { permission: 'credential.create', errors: ['not_found', 'credential_already_revoked', 'invalid_transition', ...grantErrors] },
    schema: { tags, summary: 'Rotate an API key: a successor with the same binding, the old key valid for the overlap window', params: apiKeyIdParams, body: rotateApiKeyBody, response: { 200: rotatedApiKeySchema } },
  }, async (req) => apiKeys.rotate(req.actor, req.params.id, req.body));

  app.post('/v1/api-keys/:id/revoke', {
    config: { permission: 'credential.revoke', errors: ['not_found', 'credential_already_revoked'] },
    schema: { tags, summary: 'Revoke an API key at once', params: apiKeyIdParams, body: revokeApiKeyBody, response: { 200: apiKeySchema } },
  }, async (req) => apiKeys.revoke(req.actor, req.params.id, req.body?.reason));
}
