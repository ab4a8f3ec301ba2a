import { z } from 'zod';
import type { HttpApp } from '../platform/http/app.js';
import { pageSchema } from '../platform/http/pagination.js';
import {
  createIssuerBody, deleteIssuerQuery, issuerRefParams, issuerSchema, listIssuersQuery, updateIssuerBody,
} from './federation.schemas.js';
import type { FederationService } from './federation.service.js';

// /v1/federation/issuers: the trusted workload issuers behind the jwt-bearer grant (RFC 7523 §2.1). Reading
// needs federation.read, changing federation.write; the service validates and audits.

const tags = ['federation'];

export function registerFederationRoutes(app: HttpApp, federation: FederationService): void {
  app.post('/v1/federation/issuers', {
    config: { permission: 'federation.write', errors: ['invalid_federation', 'name_taken'] },
    schema: { tags, summary: 'Trust a workload issuer (GitHub Actions, a Kubernetes cluster, …) and map its tokens to principals', body: createIssuerBody, response: { 201: issuerSchema } },
  }, async (req, reply) => reply.code(201).send(await federation.create(req.actor, req.body)));

  app.get('/v1/federation/issuers', {
    config: { permission: 'federation.read' },
    schema: { tags, summary: 'List trusted workload issuers', querystring: listIssuersQuery, response: { 200: pageSchema(issuerSchema) } },
  }, async (req) => federation.list(req.query));

  app.get('/v1/federation/issuers/:ref', {
    config: { permission: 'federation.read', errors: ['not_found'] },
    schema: { tags, summary: 'Show a trusted workload issuer and its mappings', params: issuerRefParams, response: { 200: issuerSchema } },
  }, async (req) => federation.get(req.params.ref));

  app.patch('/v1/federation/issuers/:ref', {
    config: { permission: 'federation.write', errors: ['not_found', 'invalid_federation'] },
    schema: { tags, summary: 'Change a trusted issuer\'s key source, audience, algorithms, token age or mappings (mappings replaces the list)', params: issuerRefParams, body: updateIssuerBody, response: { 200: issuerSchema } },
  }, async (req) => federation.update(req.actor, req.params.ref, req.body));

  app.delete('/v1/federation/issuers/:ref', {
    config: { permission: 'federation.write', errors: ['not_found'] },
    schema: { tags, summary: 'Stop trusting a workload issuer', params: issuerRefParams, querystring: deleteIssuerQuery, response: { 204: z.null() } },
  }, async (req, reply) => { await federation.remove(req.actor, req.params.ref, req.query.reason); return reply.code(204).send(null); });
}
