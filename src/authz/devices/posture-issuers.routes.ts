import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.js';
import { pageSchema } from '../../platform/http/pagination.js';
import {
  createPostureIssuerBody, deletePostureIssuerQuery, listPostureIssuersQuery, postureIssuerRefParams, postureIssuerSchema,
} from './posture-issuers.schemas.js';
import type { PostureIssuerService } from './posture-issuers.service.js';

// /v1/posture-issuers: the MDM/EDR systems whose signed posture assertions are trusted. Reading needs device.read,
// changing device.write (and an operator: the service refuses other callers).

const tags = ['devices'];

export function registerPostureIssuerRoutes(app: HttpApp, issuers: PostureIssuerService): void {
  app.post('/v1/posture-issuers', {
    config: { permission: 'device.write', errors: ['invalid_posture_issuer', 'invalid_jwk', 'name_taken', 'forbidden'] },
    schema: { tags, summary: 'Trust an MDM or EDR to sign device posture assertions', body: createPostureIssuerBody, response: { 201: postureIssuerSchema } },
  }, async (req, reply) => reply.code(201).send(await issuers.create(req.actor, req.body)));

  app.get('/v1/posture-issuers', {
    config: { permission: 'device.read' },
    schema: { tags, summary: 'List posture issuers', querystring: listPostureIssuersQuery, response: { 200: pageSchema(postureIssuerSchema) } },
  }, async (req) => issuers.list(req.query));

  app.get('/v1/posture-issuers/:ref', {
    config: { permission: 'device.read', errors: ['not_found'] },
    schema: { tags, summary: 'Show a posture issuer', params: postureIssuerRefParams, response: { 200: postureIssuerSchema } },
  }, async (req) => issuers.get(req.params.ref));

  app.delete('/v1/posture-issuers/:ref', {
    config: { permission: 'device.write', errors: ['not_found', 'forbidden'] },
    schema: { tags, summary: 'Stop trusting a posture issuer (its assertions count as unknown posture at once)', params: postureIssuerRefParams, querystring: deletePostureIssuerQuery, response: { 204: z.null() } },
  }, async (req, reply) => { await issuers.remove(req.actor, req.params.ref, req.query.reason); return reply.code(204).send(null); });
}
