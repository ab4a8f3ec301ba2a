import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.js';
import { pageSchema } from '../../platform/http/pagination.js';
import {
  clientIdParams, clientSchema, createClientBody, deleteClientQuery, listClientsQuery, updateClientBody,
} from './oauth-clients.schemas.js';
import type { OAuthClientService } from './oauth-clients.service.js';

// /v1/oauth-clients: the OAuth clients people sign in through (public clients: authorization code with PKCE,
// refresh tokens, the device grant), the built-in `custos-cli` among them. Reading needs client.read,
// changing client.write; the service validates and audits.

const tags = ['oauth-clients'];

export function registerOAuthClientRoutes(app: HttpApp, clients: OAuthClientService): void {
  app.post('/v1/oauth-clients', {
    config: { permission: 'client.write', errors: ['invalid_client_metadata'] },
    schema: { tags, summary: 'Register a public OAuth client for people (redirect URIs, grant types, allowed scopes)', body: createClientBody, response: { 201: clientSchema } },
  }, async (req, reply) => reply.code(201).send(await clients.create(req.actor, req.body)));

  app.get('/v1/oauth-clients', {
    config: { permission: 'client.read' },
    schema: { tags, summary: 'List OAuth clients for people: the built-in custos-cli first, then registered and dynamic ones', querystring: listClientsQuery, response: { 200: pageSchema(clientSchema) } },
  }, async (req) => clients.list(req.query));

  app.get('/v1/oauth-clients/:client_id', {
    config: { permission: 'client.read', errors: ['not_found'] },
    schema: { tags, summary: 'Show an OAuth client (custos-cli is the built-in one)', params: clientIdParams, response: { 200: clientSchema } },
  }, async (req) => clients.get(req.params.client_id));

  app.patch('/v1/oauth-clients/:client_id', {
    config: { permission: 'client.write', errors: ['not_found', 'invalid_client_metadata', 'builtin_client'] },
    schema: { tags, summary: 'Change an OAuth client\'s name, redirect URIs, grant types or allowed scopes (each replaces its list)', params: clientIdParams, body: updateClientBody, response: { 200: clientSchema } },
  }, async (req) => clients.update(req.actor, req.params.client_id, req.body));

  app.delete('/v1/oauth-clients/:client_id', {
    config: { permission: 'client.write', errors: ['not_found', 'builtin_client'] },
    schema: { tags, summary: 'Remove a registered or dynamic OAuth client', params: clientIdParams, querystring: deleteClientQuery, response: { 204: z.null() } },
  }, async (req, reply) => { await clients.remove(req.actor, req.params.client_id, req.query.reason); return reply.code(204).send(null); });
}
